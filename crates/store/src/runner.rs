//! The job runner: N workers that claim due jobs from the `jobs` table ([`crate::jobs`]), run the handler
//! registered for the job's kind, renew the lease by heartbeat while it runs, and record the outcome; plus one reaper
//! that turns jobs whose lease ran out into retries or failures. Started by `shanzhi serve` / `demo`; several app
//! instances may run one each over the same database — claiming is atomic, so each job runs once at a time, and the
//! fencing token makes a stalled worker's late writes fail.
//!
//! Shutdown ([`RunnerHandle::shutdown`]): workers stop claiming, jobs in progress get `grace` to finish, then are
//! cancelled and given back without counting the attempt.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Store;
use crate::jobs::{Backoff, ClaimedJob, JobLease};

/// What a handler is given: the store and the claimed job (its payload and fencing token).
#[derive(Clone)]
pub struct JobCtx {
    pub store: Store,
    pub job: ClaimedJob,
}

impl JobCtx {
    pub fn lease(&self) -> JobLease {
        self.job.lease()
    }
}

/// Why an attempt failed. The message is stored on the job: keep it short and free of personal data.
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    /// Worth another attempt (e.g. the database was unreachable); false for errors that would recur.
    pub retryable: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: true,
        }
    }
    pub fn fatal(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: false,
        }
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(JobCtx) -> JobFuture + Send + Sync>;

/// Runner settings.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub workers: usize,
    /// How often idle workers look for due jobs (enqueues in this process wake them at once).
    pub poll: Duration,
    /// How long a claim holds a job without a heartbeat.
    pub lease: Duration,
    pub heartbeat: Duration,
    pub backoff: Backoff,
    /// How long jobs in progress may take to finish at shutdown.
    pub grace: Duration,
    /// Prefix of the worker ids (shown in the job listing).
    pub name: String,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        let tag: String = shanzhi_secure::token::random_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(6)
            .collect();
        RunnerConfig {
            workers: 2,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(20),
            heartbeat: Duration::from_secs(5),
            backoff: Backoff::default(),
            grace: Duration::from_secs(30),
            name: format!("pid{}-{tag}", std::process::id()),
        }
    }
}

/// Handlers by job kind, before starting.
pub struct Runner {
    store: Store,
    config: RunnerConfig,
    handlers: HashMap<String, Handler>,
}

/// A started runner.
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunnerHandle {
    /// Stops claiming, lets jobs in progress finish (up to the grace period) and waits for the workers.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
    /// Stops every worker at once, leaving their jobs' leases to run out — what a crash (kill -9) does. For tests.
    pub fn abort(self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

struct Shared {
    store: Store,
    config: RunnerConfig,
    handlers: HashMap<String, Handler>,
    kinds: Vec<String>,
}

impl Runner {
    pub fn new(store: Store, config: RunnerConfig) -> Runner {
        Runner {
            store,
            config,
            handlers: HashMap::new(),
        }
    }

    /// Registers the handler of a job kind.
    pub fn handle<F, Fut>(mut self, kind: &str, f: F) -> Runner
    where
        F: Fn(JobCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |ctx| {
                let f = f.clone();
                Box::pin(async move { f(ctx).await })
            }),
        );
        self
    }

    /// Starts the workers and the reaper on the current runtime.
    pub fn start(self) -> RunnerHandle {
        let (stop, rx) = watch::channel(false);
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        let shared = Arc::new(Shared {
            store: self.store,
            config: self.config,
            handlers: self.handlers,
            kinds,
        });
        let mut tasks = Vec::new();
        for i in 0..shared.config.workers.max(1) {
            let worker = format!("{}-w{i}", shared.config.name);
            tasks.push(tokio::spawn(worker_loop(
                shared.clone(),
                worker,
                rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(reaper_loop(shared, rx)));
        RunnerHandle { stop, tasks }
    }
}

/// A running handler; dropping it (the worker stopped, e.g. [`RunnerHandle::abort`], or the lease was lost) stops
/// the handler too, rolling back its open transaction, as a crash would.
struct HandlerTask(JoinHandle<Result<(), JobError>>);

impl Drop for HandlerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn reaper_loop(s: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        match s.store.reap_expired_jobs(s.config.backoff).await {
            Ok(v) if !v.is_empty() => s.store.wake_job_runners(),
            Ok(_) => {}
            Err(e) => tracing::warn!("job reaper: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(s.config.poll) => {}
            r = stop.changed() => if r.is_err() { break },
        }
    }
}

async fn worker_loop(s: Arc<Shared>, worker: String, mut stop: watch::Receiver<bool>) {
    let wake = s.store.job_wake();
    let lease_ms = millis(s.config.lease);
    loop {
        if *stop.borrow() {
            break;
        }
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match s.store.claim_job(&worker, &s.kinds, lease_ms).await {
            Ok(Some(job)) => {
                run_one(&s, job, &mut stop).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("job worker {worker}: claim failed: {e}"),
        }
        // Jobs due later (retries) are found by polling; new ones in this process wake us at once.
        tokio::select! {
            _ = tokio::time::sleep(s.config.poll) => {}
            _ = &mut notified => {}
            r = stop.changed() => if r.is_err() { break },
        }
    }
}

async fn run_one(s: &Shared, job: ClaimedJob, stop: &mut watch::Receiver<bool>) {
    let lease = job.lease();
    let lease_ms = millis(s.config.lease);
    let Some(handler) = s.handlers.get(&job.kind).cloned() else {
        let _ = s
            .store
            .fail_job(lease, "未知的任务类型", false, s.config.backoff)
            .await;
        return;
    };
    tracing::info!(
        "job {} ({}) attempt {}/{} started",
        job.id,
        job.kind,
        job.attempts,
        job.max_attempts
    );
    // The handler runs as its own task, so it keeps going while a heartbeat waits: on SQLite a heartbeat waits for
    // the one writer connection, which the handler may hold in a transaction. Polled from here (not spawned), the
    // handler would stall for as long as the heartbeat waited, and the heartbeat for the writer it held.
    let mut task = HandlerTask(tokio::spawn(handler(JobCtx {
        store: s.store.clone(),
        job: job.clone(),
    })));
    let mut beat = tokio::time::interval(s.config.heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beat.tick().await;
    let mut stopping: Option<Instant> = None;
    let outcome = loop {
        tokio::select! {
            r = &mut task.0 => break Some(r),
            _ = beat.tick() => {
                match s.store.heartbeat_job(lease, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("job {}: lease lost, attempt {} abandoned", job.id, job.attempts);
                        break None;
                    }
                    Err(e) => tracing::warn!("job {}: heartbeat failed: {e}", job.id),
                }
                if stopping.is_some_and(|t| t.elapsed() >= s.config.grace) {
                    tracing::warn!("job {}: not finished at shutdown, given back", job.id);
                    task.0.abort();
                    if let Err(e) = s.store.release_job(lease).await {
                        tracing::warn!("job {}: not released: {e}", job.id);
                    }
                    break None;
                }
            }
            _ = stop.changed(), if stopping.is_none() => stopping = Some(Instant::now()),
        }
    };
    let result = match outcome {
        None => return,
        Some(Ok(r)) => r,
        // The handler panicked (or was cancelled): its transaction was rolled back when it was dropped.
        Some(Err(_)) => Err(JobError::retry("任务处理出现内部错误")),
    };
    match result {
        Ok(()) => match s.store.complete_job(lease).await {
            Ok(_) => tracing::info!("job {} done", job.id),
            Err(e) => tracing::warn!("job {}: not marked done: {e}", job.id),
        },
        Err(e) => match s
            .store
            .fail_job(lease, &e.message, e.retryable, s.config.backoff)
            .await
        {
            Ok(st) => tracing::warn!("job {} attempt {} failed ({:?})", job.id, job.attempts, st),
            Err(err) => tracing::warn!("job {}: failure not recorded: {err}", job.id),
        },
    }
}

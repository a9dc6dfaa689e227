//! Password hashing off the async threads, with bounded memory (issue 7.10).
//!
//! A fixed set of worker threads (one per core, at most [`MAX_WORKERS`]) each owns one Argon2 memory buffer
//! (`shanzhi_secure::password::Worker`, 19 MiB at m=19456) and reuses it for every job, so the memory held for
//! hashing is `workers × 19 MiB` however many logins arrive, and no allocator arena keeps freed buffers. Callers
//! wait in a short queue; when it is full the request is refused with `rate_limited` instead of piling up.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use shanzhi_domain::Code;
use tokio::sync::oneshot;

use crate::error::AppError;

/// Upper bound on hashing threads whatever the core count (each holds 19 MiB).
pub const MAX_WORKERS: usize = 8;
/// Queued jobs per worker before callers are refused.
pub const QUEUE_PER_WORKER: usize = 8;

enum Work {
    Verify { password: String, phc: String },
    Dummy { password: String },
    Hash { password: String },
}

enum Done {
    Verified(bool),
    Hashed(Option<String>),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Done>,
}

/// The hashing pool of one application.
#[derive(Debug)]
pub struct HashPool {
    tx: SyncSender<Job>,
    workers: usize,
    queue: usize,
}

impl HashPool {
    /// `workers` threads (0 = one per core, at most [`MAX_WORKERS`]) and a queue of `queue` waiting jobs
    /// (0 = [`QUEUE_PER_WORKER`] per worker). Threads end when the pool is dropped.
    pub fn new(workers: usize, queue: usize) -> HashPool {
        let workers = if workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(MAX_WORKERS)
        } else {
            workers
        };
        let queue = if queue == 0 {
            workers * QUEUE_PER_WORKER
        } else {
            queue
        };
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&rx));
            if let Err(e) = spawned {
                tracing::error!("cannot start hashing thread: {e}");
            }
        }
        HashPool { tx, workers, queue }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }
    pub fn queue(&self) -> usize {
        self.queue
    }

    async fn run(&self, work: Work) -> Result<Done, AppError> {
        let (reply, done) = oneshot::channel();
        match self.tx.try_send(Job { work, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AppError::new(Code::RateLimited)),
            Err(TrySendError::Disconnected(_)) => {
                return Err(AppError::internal("hashing threads are gone"));
            }
        }
        done.await.map_err(AppError::internal)
    }

    /// Checks a password against a stored PHC string.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, AppError> {
        match self
            .run(Work::Verify {
                password: password.to_string(),
                phc: phc.to_string(),
            })
            .await?
        {
            Done::Verified(ok) => Ok(ok),
            Done::Hashed(_) => Err(AppError::internal("hashing pool answered the wrong job")),
        }
    }

    /// Spends the time of a verification without a stored hash (unknown user, locked account).
    pub async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        self.run(Work::Dummy {
            password: password.to_string(),
        })
        .await
        .map(|_| ())
    }

    /// Hashes a password with the current parameters.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        match self
            .run(Work::Hash {
                password: password.to_string(),
            })
            .await?
        {
            Done::Hashed(Some(h)) => Ok(h),
            _ => Err(AppError::internal("password hashing failed")),
        }
    }
}

/// The use cases hash and check passwords on this pool (account creation, password resets and changes).
impl shanzhi_cases::accounts::PasswordHasher for HashPool {
    fn hash(&self, password: &str) -> impl Future<Output = Result<String, AppError>> + Send {
        HashPool::hash(self, password)
    }
    fn verify(
        &self,
        password: &str,
        phc: &str,
    ) -> impl Future<Output = Result<bool, AppError>> + Send {
        HashPool::verify(self, password, phc)
    }
}

fn worker(rx: &Mutex<Receiver<Job>>) {
    let mut argon = shanzhi_secure::password::Worker::new();
    loop {
        let job = {
            let guard = match rx.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.recv()
        };
        let Ok(job) = job else { return };
        let done = match job.work {
            Work::Verify { password, phc } => Done::Verified(argon.verify(&password, &phc)),
            Work::Dummy { password } => Done::Verified(argon.verify_dummy(&password)),
            Work::Hash { password } => Done::Hashed(argon.hash(&password).ok()),
        };
        // The caller may have gone (request cancelled); nothing to do then.
        let _ = job.reply.send(done);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_full_queue_refuses_instead_of_waiting() {
        let pool = Arc::new(HashPool::new(1, 1));
        let phc = shanzhi_secure::password::hash("pw").unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let pool = pool.clone();
            let phc = phc.clone();
            tasks.push(tokio::spawn(async move { pool.verify("pw", &phc).await }));
        }
        let mut ok = 0;
        let mut limited = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(true) => ok += 1,
                Err(e) if e.code == Code::RateLimited => limited += 1,
                _ => unreachable!("unexpected answer"),
            }
        }
        assert!(ok >= 1, "some are served");
        assert!(
            limited >= 1,
            "past one running and one queued, callers are refused"
        );
        assert_eq!(ok + limited, 8);
        // Afterwards the pool serves again, and hashes verify.
        let h = pool.hash("new").await.unwrap();
        assert!(pool.verify("new", &h).await.unwrap());
        assert!(!pool.verify("old", &h).await.unwrap());
        pool.verify_dummy("x").await.unwrap();
    }
}

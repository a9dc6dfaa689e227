//! The `jobs` table: background work that survives restarts and runs once across app instances.
//!
//! A job is claimed by one worker in one statement (PostgreSQL: `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP
//! LOCKED LIMIT 1) RETURNING …`; SQLite: the same statement through the single writer connection). Claiming sets a
//! lease (`lease_until`) and adds one to `attempts`; the worker renews the lease by heartbeat. `(id, attempts)` is
//! the job's fencing token ([`JobLease`]): every later write of that attempt — heartbeat, completion, failure —
//! requires the token to still match, so a worker that lost its lease (it stalled, another worker took the job over)
//! can no longer change the job, and a handler that finishes the job inside its own transaction (imports: rows,
//! counts and job status together) rolls the whole transaction back. A job whose lease ran out is shown
//! "interrupted" at once ([`shanzhi_domain::jobs::effective_status`]) and is retried with exponential backoff or
//! failed once its attempts are used up ([`Store::reap_expired_jobs`]). The loop that claims and runs jobs is
//! [`crate::runner`].

use serde::Serialize;
use shanzhi_domain::jobs::{self as rules, AfterFailure, JobStatus};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{AccountId, Code, Timestamp};

use crate::audit::Actor;
use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// Attempts of a job unless its kind asks otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 3;

/// The fencing token of one attempt of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLease {
    pub id: i64,
    pub attempt: i64,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// JSON text for the handler (never personal data in clear).
    pub payload: String,
    pub max_attempts: i64,
}

/// A job a worker has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// This attempt's number (1 for the first run).
    pub attempts: i64,
    pub max_attempts: i64,
}

impl ClaimedJob {
    pub fn lease(&self) -> JobLease {
        JobLease {
            id: self.id,
            attempt: self.attempts,
        }
    }
}

/// One job as listed for admins.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobRow {
    pub id: i64,
    /// import_members | import_units | …
    pub kind: String,
    /// queued | running | interrupted | done | failed (a running job whose lease ran out is `interrupted`).
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// Earliest start of the next attempt (UTC ms).
    pub run_at: i64,
    pub lease_until: Option<i64>,
    pub heartbeat_at: Option<i64>,
    /// The worker running (or that last ran) the job.
    pub worker: Option<String>,
    /// Short reason of the last failure or interruption.
    pub last_error: Option<String>,
    pub created_by_name: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The import this job runs, if it is an import.
    pub import_id: Option<i64>,
    /// Chinese state: 排队中 / 运行中 / 已中断 / 已完成 / 失败.
    #[sqlx(default)]
    pub status_label: String,
    /// Chinese kind, e.g. 导入在职党员.
    #[sqlx(default)]
    pub kind_label: String,
    /// When an interrupted or failed attempt will be retried (UTC ms).
    #[sqlx(default)]
    pub retry_at: Option<i64>,
}

impl JobRow {
    fn finish_labels(mut self, now: i64) -> Self {
        let stored = JobStatus::parse(&self.status).unwrap_or(JobStatus::Failed);
        let shown = rules::effective_status(stored, self.lease_until, now);
        self.retry_at = match stored {
            JobStatus::Interrupted => Some(self.run_at),
            JobStatus::Queued if self.attempts > 0 => Some(self.run_at),
            _ => None,
        };
        self.status = shown.as_str().to_string();
        self.status_label = shown.label().to_string();
        self.kind_label = rules::kind_label(&self.kind).to_string();
        self
    }
    pub fn created_shanghai(&self) -> String {
        Timestamp(self.created_at).shanghai()
    }
    pub fn started_shanghai(&self) -> String {
        self.started_at
            .map(|t| Timestamp(t).shanghai())
            .unwrap_or_default()
    }
    pub fn finished_shanghai(&self) -> String {
        self.finished_at
            .map(|t| Timestamp(t).shanghai())
            .unwrap_or_default()
    }
    pub fn retry_shanghai(&self) -> Option<String> {
        self.retry_at.map(|t| Timestamp(t).shanghai())
    }
}

/// Filters of the job listing.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobFilter {
    /// queued | running | interrupted | done | failed
    pub status: Option<String>,
    /// Job kind, e.g. import_members.
    pub kind: Option<String>,
}

/// Backoff settings for retries (milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base_ms: i64,
    pub cap_ms: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 10_000,
            cap_ms: 10 * 60_000,
        }
    }
}

/// The starter's scope as stored on a job: a place path (`/` for everything), or a unit.
pub(crate) fn scope_cols(scope: &Scope) -> (String, Option<i64>) {
    match scope {
        Scope::Subtree(p) => (p.clone(), None),
        Scope::Everything => ("/".to_string(), None),
        Scope::Unit(u) => (String::new(), Some(u.0)),
        Scope::Member(_) | Scope::Oversight | Scope::Nothing => (String::new(), None),
    }
}

/// Inserts a queued job inside a transaction; evaluates to its id.
macro_rules! job_insert_in_tx {
    ($tx:expr, $job:expr, $actor:expr, $scope:expr, $now:expr) => {{
        let job: &$crate::jobs::NewJob = $job;
        let actor: &$crate::audit::Actor = $actor;
        let (path, unit) = $crate::jobs::scope_cols($scope);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_by, created_by_name, \
             place_path, unit_id, created_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7, $8, $4) RETURNING id",
        )
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(job.max_attempts.max(1))
        .bind($now)
        .bind(actor.account_id.map(|a| a.0))
        .bind(&actor.name)
        .bind(path)
        .bind(unit)
        .fetch_one(&mut *$tx)
        .await?;
        id
    }};
}

/// Marks an attempt ended (`done` or `failed`) inside a transaction, and drops the job's file. Returns
/// `Refused(JobLeaseLost)` — so the caller's transaction rolls back — when the attempt no longer holds the job.
macro_rules! job_end_in_tx {
    ($tx:expr, $lease:expr, $status:expr, $error:expr, $now:expr) => {{
        let lease: $crate::jobs::JobLease = $lease;
        let error: Option<&str> = $error;
        let n = sqlx::query(
            "UPDATE jobs SET status = $1, finished_at = $2, lease_until = NULL, last_error = $3 \
             WHERE id = $4 AND attempts = $5 AND status = 'running'",
        )
        .bind($status)
        .bind($now)
        .bind(error)
        .bind(lease.id)
        .bind(lease.attempt)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err($crate::StoreError::Refused(
                shanzhi_domain::Code::JobLeaseLost,
            ));
        }
        sqlx::query("DELETE FROM job_files WHERE job_id = $1")
            .bind(lease.id)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Adds " AND (starter OR within the caller's scope)" for the jobs table.
macro_rules! job_visibility {
    ($qb:expr, $scope:expr, $account:expr) => {{
        // District-wide oversight (the security admin) sees every job: jobs carry no personal data.
        if !matches!($scope, Scope::Oversight) {
            job_visibility_scoped!($qb, $scope, $account);
        }
    }};
}

macro_rules! job_visibility_scoped {
    ($qb:expr, $scope:expr, $account:expr) => {{
        $qb.push(" AND (j.created_by = ")
            .push_bind($account.map(|a: AccountId| a.0).unwrap_or(-1));
        $qb.push(" OR (1 = 1");
        push_scope!(
            $qb,
            $scope,
            path = "j.place_path",
            unit = "j.unit_id",
            member = ""
        );
        $qb.push("))");
    }};
}

/// Adds the listing filters; `interrupted` includes running jobs whose lease ran out, `running` excludes them.
macro_rules! job_filters {
    ($qb:expr, $f:expr, $now:expr) => {{
        match $f.status.as_deref().and_then(JobStatus::parse) {
            Some(JobStatus::Running) => {
                $qb.push(" AND j.status = 'running' AND j.lease_until >= ")
                    .push_bind($now);
            }
            Some(JobStatus::Interrupted) => {
                $qb.push(
                    " AND (j.status = 'interrupted' OR (j.status = 'running' AND j.lease_until < ",
                )
                .push_bind($now)
                .push("))");
            }
            Some(s) => {
                $qb.push(" AND j.status = ").push_bind(s.as_str());
            }
            None => {}
        }
        if let Some(k) = $f.kind.as_deref().filter(|k| !k.is_empty()) {
            $qb.push(" AND j.kind = ").push_bind(k.to_string());
        }
    }};
}

const JOB_COLS: &str = "SELECT j.id, j.kind, j.status, j.attempts, j.max_attempts, j.run_at, j.lease_until, \
     j.heartbeat_at, j.worker, j.last_error, j.created_by_name, j.created_at, j.started_at, j.finished_at, \
     (SELECT MIN(i.id) FROM imports i WHERE i.job_id = j.id) AS import_id FROM jobs j WHERE 1 = 1";

/// A short error text for the jobs table (no personal data is ever put there by callers; this only bounds it).
pub fn short_error(s: &str) -> String {
    rules::prefix(s, rules::ERROR_CHARS)
}

impl Store {
    /// Wakes this process's idle workers (a job was enqueued or became due).
    pub fn wake_job_runners(&self) {
        self.job_wake.notify_waiters();
    }

    pub(crate) fn job_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.job_wake.clone()
    }

    /// Enqueues a job started by `actor` (whose scope decides who else may see it).
    pub async fn enqueue_job(
        &self,
        actor: &Actor,
        scope: &Scope,
        job: &NewJob,
    ) -> StoreResult<i64> {
        let now = Timestamp::now().0;
        let id = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let id = job_insert_in_tx!(tx, job, actor, scope, now);
            tx.commit().await?;
            id
        });
        self.wake_job_runners();
        Ok(id)
    }

    /// Claims the next due job of one of `kinds` for `worker`, with a lease of `lease_ms`.
    pub async fn claim_job(
        &self,
        worker: &str,
        kinds: &[String],
        lease_ms: i64,
    ) -> StoreResult<Option<ClaimedJob>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = Timestamp::now().0;
        let pg = self.is_pg();
        let job: Option<ClaimedJob> = wr!(self, |p| {
            let mut qb = crate::qb(
                p,
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = ",
            );
            qb.push_bind(worker.to_string())
                .push(", lease_until = ")
                .push_bind(now + lease_ms)
                .push(", heartbeat_at = ")
                .push_bind(now)
                .push(", started_at = COALESCE(started_at, ")
                .push_bind(now)
                .push(
                    ") WHERE id = (SELECT id FROM jobs WHERE status IN ('queued', 'interrupted') AND run_at <= ",
                )
                .push_bind(now)
                .push(" AND kind IN (");
            let mut sep = qb.separated(", ");
            for k in kinds {
                sep.push_bind(k.clone());
            }
            qb.push(") ORDER BY run_at, id LIMIT 1");
            if pg {
                qb.push(" FOR UPDATE SKIP LOCKED");
            }
            qb.push(
                ") AND status IN ('queued', 'interrupted') RETURNING id, kind, payload, attempts, max_attempts",
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        Ok(job)
    }

    /// Renews the lease of a running attempt; false when the attempt no longer holds the job.
    pub async fn heartbeat_job(&self, lease: JobLease, lease_ms: i64) -> StoreResult<bool> {
        let now = Timestamp::now().0;
        let n = wr!(self, |p| {
            sqlx::query(
                "UPDATE jobs SET lease_until = $1, heartbeat_at = $2 WHERE id = $3 AND attempts = $4 AND status = 'running'",
            )
            .bind(now + lease_ms)
            .bind(now)
            .bind(lease.id)
            .bind(lease.attempt)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks a running attempt done (no-op, `false`, when the handler already ended it or lost the lease).
    pub async fn complete_job(&self, lease: JobLease) -> StoreResult<bool> {
        let now = Timestamp::now().0;
        let r = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let r: StoreResult<()> = async {
                job_end_in_tx!(tx, lease, "done", None, now);
                Ok(())
            }
            .await;
            if r.is_ok() {
                tx.commit().await?;
            }
            r
        });
        match r {
            Ok(()) => Ok(true),
            Err(StoreError::Refused(Code::JobLeaseLost)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A failed attempt: retried after a backoff while attempts remain (and `retryable`), failed otherwise.
    /// Returns the job's new status, or `None` when the attempt no longer held the job.
    pub async fn fail_job(
        &self,
        lease: JobLease,
        error: &str,
        retryable: bool,
        backoff: Backoff,
    ) -> StoreResult<Option<JobStatus>> {
        let now = Timestamp::now().0;
        let error = short_error(error);
        let max: Option<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT max_attempts FROM jobs WHERE id = $1"
        )
        .bind(lease.id)
        .fetch_optional(p)
        .await?);
        let Some((max,)) = max else {
            return Ok(None);
        };
        let next = rules::after_failure(
            lease.attempt,
            max,
            retryable,
            now,
            backoff.base_ms,
            backoff.cap_ms,
        );
        let (status, run_at, finished) = match next {
            AfterFailure::RetryAt(at) => (JobStatus::Queued, at, None),
            AfterFailure::GiveUp => (JobStatus::Failed, now, Some(now)),
        };
        let n = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE jobs SET status = $1, run_at = $2, finished_at = $3, lease_until = NULL, last_error = $4 \
                 WHERE id = $5 AND attempts = $6 AND status = 'running'",
            )
            .bind(status.as_str())
            .bind(run_at)
            .bind(finished)
            .bind(&error)
            .bind(lease.id)
            .bind(lease.attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 && status == JobStatus::Failed {
                sqlx::query("DELETE FROM job_files WHERE job_id = $1")
                    .bind(lease.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n
        });
        Ok((n == 1).then_some(status))
    }

    /// Gives a job back without counting the attempt (the runner is shutting down).
    pub async fn release_job(&self, lease: JobLease) -> StoreResult<bool> {
        let now = Timestamp::now().0;
        let n = wr!(self, |p| {
            sqlx::query(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_at = $1, lease_until = NULL \
                 WHERE id = $2 AND attempts = $3 AND status = 'running'",
            )
            .bind(now)
            .bind(lease.id)
            .bind(lease.attempt)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Running jobs whose lease ran out (their worker died or stalled): retried after a backoff while attempts
    /// remain, failed otherwise. Returns `(job id, new status)` of each job handled.
    pub async fn reap_expired_jobs(&self, backoff: Backoff) -> StoreResult<Vec<(i64, JobStatus)>> {
        let now = Timestamp::now().0;
        let expired: Vec<(i64, i64, i64)> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT id, attempts, max_attempts FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY id LIMIT 100"
        )
        .bind(now)
        .fetch_all(p)
        .await?
        });
        let mut out = Vec::new();
        for (id, attempts, max) in expired {
            let next =
                rules::after_failure(attempts, max, true, now, backoff.base_ms, backoff.cap_ms);
            let (status, run_at, finished, error) = match next {
                AfterFailure::RetryAt(at) => (
                    JobStatus::Interrupted,
                    at,
                    None,
                    "已中断:处理进程停止响应(租约过期),等待重试",
                ),
                AfterFailure::GiveUp => (
                    JobStatus::Failed,
                    now,
                    Some(now),
                    "已中断:处理进程停止响应(租约过期),重试次数已用完",
                ),
            };
            let n = wr!(self, |p| {
                let mut tx = p.begin().await?;
                let n = sqlx::query(
                    "UPDATE jobs SET status = $1, run_at = $2, finished_at = $3, last_error = $4 \
                     WHERE id = $5 AND attempts = $6 AND status = 'running' AND lease_until < $7",
                )
                .bind(status.as_str())
                .bind(run_at)
                .bind(finished)
                .bind(error)
                .bind(id)
                .bind(attempts)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 && status == JobStatus::Failed {
                    sqlx::query("DELETE FROM job_files WHERE job_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                n
            });
            if n == 1 {
                tracing::warn!("job {id}: lease expired on attempt {attempts}, now {status:?}");
                out.push((id, status));
            }
        }
        Ok(out)
    }

    /// Jobs the caller may see (started by them, or within their scope), newest first.
    pub async fn list_jobs(
        &self,
        scope: &Scope,
        account: Option<AccountId>,
        f: &JobFilter,
        req: PageReq,
    ) -> StoreResult<Page<JobRow>> {
        let now = Timestamp::now().0;
        let (total, items): (i64, Vec<JobRow>) = rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM jobs j WHERE 1 = 1");
            job_visibility!(count, scope, account);
            job_filters!(count, f, now);
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let mut qb = crate::qb(p, JOB_COLS);
            job_visibility!(qb, scope, account);
            job_filters!(qb, f, now);
            qb.push(" ORDER BY j.id DESC LIMIT ")
                .push_bind(req.limit())
                .push(" OFFSET ")
                .push_bind(req.offset());
            (total, qb.build_query_as().fetch_all(p).await?)
        });
        let items = items.into_iter().map(|j| j.finish_labels(now)).collect();
        Ok(Page::of(items, total, req))
    }

    /// One job the caller may see.
    pub async fn get_job(
        &self,
        scope: &Scope,
        account: Option<AccountId>,
        id: i64,
    ) -> StoreResult<JobRow> {
        let now = Timestamp::now().0;
        let job: Option<JobRow> = rd!(self, |p| {
            let mut qb = crate::qb(p, JOB_COLS);
            qb.push(" AND j.id = ").push_bind(id);
            job_visibility!(qb, scope, account);
            qb.build_query_as().fetch_optional(p).await?
        });
        job.map(|j| j.finish_labels(now))
            .ok_or(StoreError::NotFound)
    }
}

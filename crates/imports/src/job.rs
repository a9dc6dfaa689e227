//! Imports run as background jobs on the job runner (`shanzhi_store::runner`): the upload is checked as a stream
//! without keeping its rows ([`crate::check`]: a broken file is refused before anything is recorded), then the
//! import row, its job and the file itself (encrypted, in the database, so any app instance can run it) are
//! recorded in one transaction. A worker claims the job, decrypts the file chunk by chunk into a private temporary
//! file, streams and checks the rows, and writes them together with the import's counters, report and the job's
//! end in one transaction — never rows without the status, nor the reverse. An interrupted attempt (the process
//! died) is retried by another worker; nothing of it was committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shanzhi_domain::Code;
use shanzhi_domain::role::Scope;
use shanzhi_store::imports::{ImportOutcome, JobActor, NewImportJob};
use shanzhi_store::runner::{JobCtx, JobError, Runner};
use shanzhi_store::{Actor, Store, StoreError};

use crate::{ForJob, ImportError, Kind, Options, Report, Source, import_source, outcome_of};

/// Job kinds of imports.
pub const KIND_MEMBERS: &str = "import_members";
pub const KIND_UNITS: &str = "import_units";

/// Records the import and its queued job, with the uploaded file read from `file`; returns the import id at once.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    kind: Kind,
    file_name: &str,
    file: &std::path::Path,
    total_rows: usize,
    opts: Options,
) -> Result<i64, ImportError> {
    let name: String = file_name.chars().take(120).collect();
    let id = store
        .create_import_job(
            actor,
            scope,
            &NewImportJob {
                kind: kind.as_str().to_string(),
                file_name: name,
                total_rows: i64::try_from(total_rows).unwrap_or(i64::MAX),
                valid_only: opts.valid_only,
                created_by: actor.account_id,
            },
            file,
        )
        .await?;
    Ok(id)
}

/// Registers the import handlers with a runner.
pub fn register(runner: Runner) -> Runner {
    runner.handle(KIND_MEMBERS, run).handle(KIND_UNITS, run)
}

fn store_failure(e: &StoreError) -> JobError {
    match e {
        StoreError::Refused(Code::JobLeaseLost) => JobError::retry("租约已失效"),
        StoreError::Db(_) => JobError::retry("数据库暂时不可用"),
        _ => JobError::fatal("导入数据时出错"),
    }
}

/// Runs one attempt of an import job.
async fn run(ctx: JobCtx) -> Result<(), JobError> {
    let store = &ctx.store;
    let lease = ctx.lease();
    let import = store
        .import_for_job(ctx.job.id)
        .await
        .map_err(|e| store_failure(&e))?;
    if import.is_finished() {
        return Ok(());
    }
    let actor = serde_json::from_str::<JobActor>(&ctx.job.payload)
        .map_err(|_| JobError::fatal("任务内容无法读取"))?
        .actor();
    let kind = Kind::parse(&import.kind).ok_or_else(|| JobError::fatal("未知的导入类型"))?;
    let scope = import.scope();
    let opts = Options {
        valid_only: import.valid_only,
    };
    let id = import.id;
    store
        .set_import_progress(id, 0)
        .await
        .map_err(|e| store_failure(&e))?;
    // The file goes to a temporary file only this process can read (0600), deleted when the attempt ends.
    let file = tempfile::NamedTempFile::new().map_err(|_| JobError::retry("无法创建临时文件"))?;
    {
        let mut out = tokio::fs::File::from_std(
            file.reopen()
                .map_err(|_| JobError::retry("无法创建临时文件"))?,
        );
        store
            .write_job_file(ctx.job.id, &mut out)
            .await
            .map_err(|e| store_failure(&e))?;
    }
    let source = Source::File(file.path().to_path_buf());

    let done = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut last = usize::MAX;
            loop {
                let n = done.load(Ordering::Relaxed);
                if n != last {
                    last = n;
                    if let Err(e) = store
                        .set_import_progress(id, i64::try_from(n).unwrap_or(0))
                        .await
                    {
                        tracing::warn!("import {id}: progress not saved: {e}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
        })
    };
    let progress = {
        let done = done.clone();
        move |n: usize| done.store(n, Ordering::Relaxed)
    };
    let job = ForJob {
        import_id: id,
        lease: Some(lease),
    };
    let result = import_source(
        store,
        &actor,
        &scope,
        kind,
        &import.file_name,
        &source,
        opts,
        &progress,
        Some(job),
    )
    .await;
    ticker.abort();
    drop(file);
    match result {
        // Rows, counters and the job's end were committed together.
        Ok((_, true)) => Ok(()),
        Ok((report, false)) => {
            let outcome = outcome_of(&report);
            drop(report);
            store
                .finish_import_job(&actor, id, &outcome, Some(lease), false)
                .await
                .map_err(|e| store_failure(&e))
        }
        Err(ImportError::Store(
            e @ (StoreError::Db(_) | StoreError::Refused(Code::JobLeaseLost)),
        )) => {
            tracing::warn!("import {id}: attempt {} failed: {e}", lease.attempt);
            Err(store_failure(&e))
        }
        Err(e) => give_up(store, &actor, id, lease, &e).await,
    }
}

/// The import cannot succeed (a broken file, a refusal): record the error and end the job as failed.
async fn give_up(
    store: &Store,
    actor: &Actor,
    id: i64,
    lease: shanzhi_store::jobs::JobLease,
    e: &ImportError,
) -> Result<(), JobError> {
    tracing::error!("import {id} failed: {}", e.code());
    let outcome = ImportOutcome {
        failed: true,
        report: serde_json::json!({ "error": { "code": e.code(), "message": e.message() } })
            .to_string(),
        ..ImportOutcome::default()
    };
    store
        .finish_import_job(actor, id, &outcome, Some(lease), true)
        .await
        .map_err(|e| store_failure(&e))
}

/// What a finished job's stored report holds.
pub enum Stored {
    Report(Report),
    /// The job stopped with an error: (code, message).
    Error(String, String),
    Nothing,
}

/// Reads the stored report of a job.
pub fn stored_report(json: Option<&str>) -> Stored {
    let Some(json) = json else {
        return Stored::Nothing;
    };
    if let Ok(r) = serde_json::from_str::<Report>(json) {
        return Stored::Report(r);
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) => Stored::Error(
            v["error"]["code"]
                .as_str()
                .unwrap_or("internal_error")
                .to_string(),
            v["error"]["message"].as_str().unwrap_or("").to_string(),
        ),
        Err(_) => Stored::Nothing,
    }
}

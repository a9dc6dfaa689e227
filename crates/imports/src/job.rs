//! Large imports run in the background: the upload is parsed at once (a broken file is refused before anything
//! is recorded), then a job row in `imports` tracks progress while the rows are checked and written, and keeps
//! the row report when it ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shanzhi_domain::role::Scope;
use shanzhi_sheets::Table;
use shanzhi_store::imports::{ImportOutcome, NewImportJob};
use shanzhi_store::{Actor, Store};

use crate::{Kind, Options, Report, import_table};

/// Records a queued job for a parsed table and starts it; returns the job id at once.
pub async fn start(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    kind: Kind,
    file_name: &str,
    table: Table,
    opts: Options,
) -> Result<i64, crate::ImportError> {
    let name: String = file_name.chars().take(120).collect();
    let id = store
        .create_import_job(
            actor,
            scope,
            &NewImportJob {
                kind: kind.as_str().to_string(),
                file_name: name,
                total_rows: i64::try_from(table.rows.len()).unwrap_or(i64::MAX),
                valid_only: opts.valid_only,
                created_by: actor.account_id,
            },
        )
        .await?;
    let (store, actor, scope) = (store.clone(), actor.clone(), scope.clone());
    tokio::spawn(async move { run(store, actor, scope, id, kind, table, opts).await });
    Ok(id)
}

/// Runs one job to its end, writing progress every few hundred milliseconds.
async fn run(
    store: Store,
    actor: Actor,
    scope: Scope,
    id: i64,
    kind: Kind,
    table: Table,
    opts: Options,
) {
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
    let result = import_table(&store, &actor, &scope, kind, &table, opts, &progress).await;
    ticker.abort();
    let outcome = match result {
        Ok(report) => outcome_of(&report),
        Err(e) => {
            tracing::error!("import {id} failed: {e}");
            ImportOutcome {
                failed: true,
                report:
                    serde_json::json!({ "error": { "code": e.code(), "message": e.message() } })
                        .to_string(),
                ..ImportOutcome::default()
            }
        }
    };
    if let Err(e) = store.finish_import_job(&actor, id, &outcome).await {
        tracing::error!("import {id}: result not saved: {e}");
    }
}

fn outcome_of(report: &Report) -> ImportOutcome {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    ImportOutcome {
        failed: report.refused(),
        inserted: n(report.inserted),
        skipped: n(report.skipped),
        error_rows: n(report.error_rows),
        report: serde_json::to_string(report).unwrap_or_default(),
    }
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

//! `shanzhi audit verify [--checkpoints FILE]`, `shanzhi audit checkpoints --out FILE`, and the sealer task that
//! `serve`/`demo` run every second.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use shanzhi_store::{ExportedCheckpoint, Store};

/// How often the running server seals new audit rows.
pub const SEAL_EVERY: Duration = Duration::from_secs(1);

/// Seals audit rows every [`SEAL_EVERY`] until the process ends. Several instances may run it against one
/// database: sealing rounds take turns, and a round with nothing to seal writes nothing.
pub fn spawn_sealer(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SEAL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match store.seal_audit().await {
                Ok(r) if r.sealed > 0 => {
                    tracing::debug!(sealed = r.sealed, checkpoint = ?r.checkpoint, "audit rows sealed");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("audit sealing failed: {e}"),
            }
        }
    })
}

fn read_exported(path: &Path) -> anyhow::Result<Vec<ExportedCheckpoint>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    shanzhi_store::audit::parse_exported(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Seals what is pending, then checks the chain and every checkpoint (and those of `checkpoints`, if given).
pub async fn verify(store: &Store, checkpoints: Option<&Path>) -> anyhow::Result<ExitCode> {
    let exported = match checkpoints {
        Some(p) => read_exported(p)?,
        None => Vec::new(),
    };
    store.seal_audit().await?;
    let report = store.verify_audit_with(&exported).await?;
    if report.is_ok() {
        println!(
            "audit log intact: {} rows verified against {} signed checkpoints{} ({} pending)",
            report.rows,
            report.checkpoints,
            if checkpoints.is_some() {
                " (exported copy included)"
            } else {
                ""
            },
            report.pending
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "audit log BROKEN: {} problem(s) ({} rows, {} valid checkpoints checked)",
        report.problems.len() as u64 + report.more,
        report.rows,
        report.checkpoints
    );
    for p in &report.problems {
        eprintln!("  {p}");
    }
    if report.more > 0 {
        eprintln!("  … and {} more damaged rows", report.more);
    }
    Ok(ExitCode::FAILURE)
}

/// Writes the checkpoints as JSON lines. An existing file is only appended to, after checking that every
/// checkpoint it already holds is still in the database unchanged (otherwise nothing is written and the command
/// fails: the database lost or changed checkpoints).
pub async fn export(store: &Store, out: &Path) -> anyhow::Result<ExitCode> {
    store.seal_audit().await?;
    let current = store.export_checkpoints().await?;
    let existing = if out.exists() {
        read_exported(out)?
    } else {
        Vec::new()
    };
    let mut bad = Vec::new();
    for e in &existing {
        match current
            .iter()
            .find(|c| c.checkpoint.seq == e.checkpoint.seq)
        {
            None => bad.push(format!(
                "checkpoint {} is in {} but no longer in the database",
                e.checkpoint.seq,
                out.display()
            )),
            Some(c) if c != e => bad.push(format!(
                "checkpoint {} differs from the copy in {}",
                e.checkpoint.seq,
                out.display()
            )),
            Some(_) => {}
        }
    }
    if !bad.is_empty() {
        eprintln!("refusing to export: the database disagrees with the exported checkpoints");
        for b in bad {
            eprintln!("  {b}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let last = existing.iter().map(|e| e.checkpoint.seq).max().unwrap_or(0);
    let mut text = String::new();
    let mut n = 0;
    for c in current.iter().filter(|c| c.checkpoint.seq > last) {
        text.push_str(&serde_json::to_string(c)?);
        text.push('\n');
        n += 1;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    println!(
        "{n} new checkpoint(s) written to {} ({} in all)",
        out.display(),
        existing.len() + n
    );
    Ok(ExitCode::SUCCESS)
}

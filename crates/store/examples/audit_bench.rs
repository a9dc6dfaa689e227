//! Audited-write throughput on PostgreSQL: N tasks call the real `Store::append_audit` for S seconds against a
//! fresh database while the sealer runs every second (as in `shanzhi serve`), then print rows/s and latency
//! percentiles; then seal the rest and verify the log.
//!
//! ```text
//! cargo run --release -p shanzhi-store --example audit_bench -- postgres://postgres@127.0.0.1:5432 16 10
//! ```
//!
//! The first argument is the server URL without a database name; a database `shanzhi_audit_bench_<pid>` is created
//! for the run and dropped afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use shanzhi_store::{Actor, AuditEntry, DbConfig, Store};
use sqlx::Connection;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into());
    let conns: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(16);
    let secs: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let base = base.trim_end_matches('/').to_string();
    let name = format!("shanzhi_audit_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres")).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&DbConfig {
        data_dir: dir.path().into(),
        database_url: Some(format!("{base}/{name}")),
    })
    .await?;

    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    // The sealer runs every second meanwhile, as in `shanzhi serve`.
    let sealer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut rounds = 0u64;
            let mut every = tokio::time::interval(Duration::from_secs(1));
            while Instant::now() < deadline {
                every.tick().await;
                store.seal_audit().await?;
                rounds += 1;
            }
            anyhow::Ok(rounds)
        })
    };
    let mut tasks = Vec::new();
    for i in 0..conns {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor {
                name: format!("bench{i}"),
                client_addr: Some("127.0.0.1".into()),
                ..Actor::default()
            };
            let mut lat = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let entry =
                    AuditEntry::ok("bench.write", format!("row {i}-{n}")).with_detail("a|b\\c");
                let t = Instant::now();
                store.append_audit(&actor, &entry).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rounds = sealer.await??;
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "audit_bench: {conns} connections, {secs} s: {} rows, {:.0} rows/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    println!("sealer: {rounds} rounds during the run");
    after_run(&store).await?;
    store.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}

/// Seals what the writers wrote (the server does this every second) and verifies the log.
async fn after_run(store: &Store) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut sealed = 0;
    loop {
        let r = store.seal_audit().await?;
        if r.sealed == 0 {
            break;
        }
        sealed += r.sealed;
    }
    let seal_secs = t.elapsed().as_secs_f64();
    println!(
        "seal: {sealed} rows in {seal_secs:.2} s ({:.0} rows/s)",
        sealed as f64 / seal_secs.max(1e-9)
    );
    let t = Instant::now();
    let report = store.verify_audit().await?;
    println!(
        "verify: {} rows, {} checkpoints, {} problems in {:.2} s",
        report.rows,
        report.checkpoints,
        report.problems.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

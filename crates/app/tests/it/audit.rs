//! The audit log: lock-free appends sealed by the sealer, signed checkpoints, and every tampering case named by
//! `verify` (and by `shanzhi audit verify`).

use std::process::Command;

use shanzhi_store::{Actor, AuditEntry, AuditFilter, AuditProblem, PageReq, Store};

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, TestDb};

fn shanzhi(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shanzhi"));
    cmd.arg("--data-dir").arg(db.dir.path());
    if let Some(u) = &db.url {
        cmd.arg("--database-url").arg(u);
    }
    cmd
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    t.raw_strings(sql).await[0].parse().unwrap()
}

/// `rounds` sealing rounds of `per_round` rows each: checkpoint k covers seal_seq 1..=k*per_round.
async fn sealed_log(t: &TestDb, rounds: usize, per_round: usize) -> Store {
    let store = t.store().await;
    let actor = Actor::system("t");
    for r in 0..rounds {
        for i in 0..per_round {
            store
                .append_audit(
                    &actor,
                    &AuditEntry::ok("test.write", format!("{r}-{i}")).with_detail("a|b\\c"),
                )
                .await
                .unwrap();
        }
        let report = store.seal_audit().await.unwrap();
        assert_eq!(report.sealed, per_round as u64);
        assert_eq!(report.checkpoint, Some(r as i64 + 1));
    }
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.rows, (rounds * per_round) as i64);
    assert_eq!(report.checkpoints, rounds as i64);
    store
}

fn described(problems: &[AuditProblem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn concurrent_writers_are_sealed_once_in_consecutive_order(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    // A second instance on the same database, sealing while the writers write.
    let other = t.store().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut sealers = Vec::new();
    for s in [store.clone(), other.clone()] {
        let stop = stop.clone();
        sealers.push(tokio::spawn(async move {
            let mut rounds = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                s.seal_audit().await.unwrap();
                rounds += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            rounds
        }));
    }
    let mut writers = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let actor = Actor::system(&format!("writer{w}"));
            for i in 0..50 {
                store
                    .append_audit(
                        &actor,
                        &AuditEntry::ok("test.concurrent", format!("{w}-{i}")),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    // The auditor's list shows every row, sealed or not.
    let listed = store
        .list_audit(
            &AuditFilter {
                action: Some("test.concurrent".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 800);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for s in sealers {
        assert!(s.await.unwrap() > 0);
    }
    store.seal_audit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE seal_seq IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &t,
            "SELECT CAST(COUNT(DISTINCT seal_seq) AS TEXT) FROM audit_log"
        )
        .await,
        800
    );
    assert_eq!(
        count(&t, "SELECT CAST(MIN(seal_seq) AS TEXT) FROM audit_log").await,
        1
    );
    assert_eq!(
        count(&t, "SELECT CAST(MAX(seal_seq) AS TEXT) FROM audit_log").await,
        800
    );
    // Every checkpoint is signed and matches; the newest covers the whole chain.
    assert_eq!(
        count(
            &t,
            "SELECT CAST(MAX(last_seal_seq) AS TEXT) FROM audit_checkpoints"
        )
        .await,
        800
    );
    let report = other.verify_audit().await.unwrap();
    assert!(report.is_ok(), "{}", described(&report.problems));
    assert_eq!(report.rows, 800);
    assert_eq!(report.pending, 0);
    // A round with nothing to seal writes nothing.
    let before = count(&t, "SELECT CAST(COUNT(*) AS TEXT) FROM audit_checkpoints").await;
    let r = store.seal_audit().await.unwrap();
    assert_eq!((r.sealed, r.checkpoint), (0, None));
    assert_eq!(
        count(&t, "SELECT CAST(COUNT(*) AS TEXT) FROM audit_checkpoints").await,
        before
    );
}
both!(concurrent_writers_are_sealed_once_in_consecutive_order);

async fn an_edited_row_is_named(db: Db) {
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    t.raw_exec("UPDATE audit_log SET result = 'forged' WHERE seal_seq = 15")
        .await;
    let id = count(
        &t,
        "SELECT CAST(id AS TEXT) FROM audit_log WHERE seal_seq = 15",
    )
    .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::RowEdited { id, seal_seq: 15 }]
    );
    assert!(described(&report.problems).contains(&format!("row {id} (seal_seq 15) was edited")));
}
both!(an_edited_row_is_named);

async fn deleting_the_newest_rows_is_named(db: Db) {
    // (b) the newest row.
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    t.raw_exec("DELETE FROM audit_log WHERE seal_seq = 60")
        .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::NewestRowsDeleted {
            count: 1,
            from: 60,
            to: 60,
            checkpoint: 6,
            intact: Some(5)
        }]
    );
    assert!(
        described(&report.problems).contains("the newest 1 row(s) after checkpoint 5 are missing"),
        "{}",
        described(&report.problems)
    );
    // (c) the newest 20 rows.
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    t.raw_exec("DELETE FROM audit_log WHERE seal_seq > 40")
        .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::NewestRowsDeleted {
            count: 20,
            from: 41,
            to: 60,
            checkpoint: 6,
            intact: Some(4)
        }]
    );
    assert!(
        described(&report.problems).contains("the newest 20 row(s) after checkpoint 4 are missing")
    );
    // New rows sealed afterwards do not hide the hole: they continue at seal_seq 41 and differ from checkpoint 5.
    store
        .append_audit(&Actor::system("t"), &AuditEntry::ok("test.after", "x"))
        .await
        .unwrap();
    store.seal_audit().await.unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(
        report.has("newest_rows_deleted"),
        "{}",
        described(&report.problems)
    );
    // (d) every row.
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    t.raw_exec("DELETE FROM audit_log").await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::AllRowsDeleted {
            count: 60,
            checkpoint: 6
        }]
    );
    assert!(described(&report.problems).contains("every row was deleted"));
}
both!(deleting_the_newest_rows_is_named);

async fn a_deleted_middle_row_is_named(db: Db) {
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 3, 10).await;
    t.raw_exec("DELETE FROM audit_log WHERE seal_seq IN (12, 13)")
        .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.problems.len(), 1, "{}", described(&report.problems));
    assert!(matches!(
        report.problems[0],
        AuditProblem::RowsDeleted {
            from: 12,
            to: 13,
            ..
        }
    ));
}
both!(a_deleted_middle_row_is_named);

/// Plays an intruder who changes the row at `seal_seq` and recomputes every hash after it.
async fn rewrite_chain_from(t: &TestDb, store: &Store, seal_seq: i64) {
    t.raw_exec(&format!(
        "UPDATE audit_log SET actor = 'someone else' WHERE seal_seq = {seal_seq}"
    ))
    .await;
    let mut rows = store
        .list_audit(&AuditFilter::default(), PageReq::new(Some(1), Some(200)))
        .await
        .unwrap()
        .items;
    rows.sort_by_key(|r| r.seal_seq);
    let mut prev = rows
        .iter()
        .find(|r| r.seal_seq == Some(seal_seq - 1))
        .and_then(|r| r.hash.clone())
        .unwrap_or_else(|| shanzhi_store::audit::GENESIS.to_string());
    for r in rows.iter().filter(|r| r.seal_seq >= Some(seal_seq)) {
        let h = r.chain_hash(&prev).unwrap();
        t.raw_exec(&format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{h}' WHERE id = {}",
            r.id
        ))
        .await;
        prev = h;
    }
}

async fn a_rewritten_chain_is_caught_by_the_checkpoints(db: Db) {
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    rewrite_chain_from(&t, &store, 25).await;
    let report = store.verify_audit().await.unwrap();
    // The chain itself links: only the signed checkpoints disagree.
    assert_eq!(
        report.problems,
        vec![AuditProblem::ChainRewritten {
            checkpoint: 3,
            seal_seq: 30,
            from: 21,
            later: 3
        }]
    );
    assert!(described(&report.problems).contains("the chain was rewritten"));
    // Moving the checkpoints' heads along needs the signing key.
    let heads = t
        .raw_strings(
            "SELECT hash FROM audit_log WHERE seal_seq IN (30, 40, 50, 60) ORDER BY seal_seq",
        )
        .await;
    for (k, h) in (3..=6).zip(heads) {
        t.raw_exec(&format!(
            "UPDATE audit_checkpoints SET head_hash = '{h}' WHERE seq = {k}"
        ))
        .await;
    }
    let report = store.verify_audit().await.unwrap();
    for k in 3..=6 {
        assert!(
            report
                .problems
                .contains(&AuditProblem::CheckpointForged { checkpoint: k }),
            "{}",
            described(&report.problems)
        );
    }
    assert!(report.has("uncheckpointed_rows"));
}
both!(a_rewritten_chain_is_caught_by_the_checkpoints);

async fn forged_and_deleted_checkpoints_are_named(db: Db) {
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    let exported = store.export_checkpoints().await.unwrap();
    assert_eq!(exported.len(), 6);
    assert_eq!(exported[0].public_key, store.audit_public_key().to_hex());
    // A signature by another key (an intruder's) is not accepted.
    let intruder = shanzhi_secure::signing::AuditSigningKey::ephemeral();
    let mut c = exported[1].checkpoint.clone();
    c.key_id = store.audit_public_key().key_id();
    let sig = intruder.sign(c.message().as_bytes());
    t.raw_exec(&format!(
        "UPDATE audit_checkpoints SET signature = '{sig}' WHERE seq = 2"
    ))
    .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::CheckpointForged { checkpoint: 2 }]
    );
    // Deleting the newest checkpoints with their rows leaves a consistent database…
    let t = TestDb::new(db).await;
    let store = sealed_log(&t, 6, 10).await;
    let exported = store.export_checkpoints().await.unwrap();
    t.raw_exec("DELETE FROM audit_checkpoints WHERE seq > 4")
        .await;
    t.raw_exec("DELETE FROM audit_log WHERE seal_seq > 40")
        .await;
    assert!(store.verify_audit().await.unwrap().is_ok());
    // …but not one consistent with the exported copy.
    let report = store.verify_audit_with(&exported).await.unwrap();
    assert!(
        report
            .problems
            .contains(&AuditProblem::CheckpointsDeleted { from: 5, to: 6 }),
        "{}",
        described(&report.problems)
    );
    assert!(report.has("newest_rows_deleted"));
    // Deleting checkpoints alone shows without the file too: rows no checkpoint covers.
    t.raw_exec("DELETE FROM audit_checkpoints WHERE seq = 4")
        .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::UncheckpointedRows {
            count: 10,
            from: 31,
            to: 40
        }]
    );
    // Everything deleted: only the exported copy knows.
    t.raw_exec("DELETE FROM audit_checkpoints").await;
    t.raw_exec("DELETE FROM audit_log").await;
    assert!(store.verify_audit().await.unwrap().is_ok());
    let report = store.verify_audit_with(&exported).await.unwrap();
    assert!(
        report.has("all_rows_deleted"),
        "{}",
        described(&report.problems)
    );
    assert!(
        report
            .problems
            .contains(&AuditProblem::CheckpointsDeleted { from: 1, to: 6 })
    );
}
both!(forged_and_deleted_checkpoints_are_named);

async fn unsealed_rows_older_than_a_minute_are_a_problem(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    store
        .append_audit(&Actor::system("t"), &AuditEntry::ok("test.young", "x"))
        .await
        .unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_ok());
    assert_eq!(report.pending, 1);
    t.raw_exec("UPDATE audit_log SET at = at - 120000").await;
    let report = store.verify_audit().await.unwrap();
    assert!(report.has("sealer_not_running"), "{:?}", report.problems);
    store.seal_audit().await.unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.rows, report.pending), (1, 0));
}
both!(unsealed_rows_older_than_a_minute_are_a_problem);

async fn cli_verify_names_tampering_and_uses_the_exported_checkpoints(db: Db) {
    let t = TestDb::new(db).await;
    // Audited writes, sealed into checkpoints, for the CLI to verify.
    let store = t.store().await;
    World::two_towns(&store).await;
    store.seal_audit().await.unwrap();
    store.close().await;
    let out = shanzhi(&t).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    let file = t.dir.path().join("checkpoints.jsonl");
    let out = shanzhi(&t)
        .args(["audit", "checkpoints", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines = shanzhi_store::audit::parse_exported(&text).unwrap();
    assert!(!lines.is_empty());
    // Exporting again appends nothing new and keeps the file valid.
    let out = shanzhi(&t)
        .args(["audit", "checkpoints", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // An edited row: exit 1 with the row named.
    t.raw_exec("UPDATE audit_log SET actor = 'someone else' WHERE seal_seq = 2")
        .await;
    let out = shanzhi(&t).args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[row_edited]") && err.contains("(seal_seq 2) was edited"),
        "{err}"
    );
    // The intruder deletes the newest checkpoint and the rows it covers.
    let last = lines.last().unwrap().checkpoint.clone();
    let prev_end = lines
        .iter()
        .rev()
        .nth(1)
        .map(|c| c.checkpoint.last_seal_seq)
        .unwrap_or(0);
    t.raw_exec(&format!(
        "DELETE FROM audit_checkpoints WHERE seq = {}",
        last.seq
    ))
    .await;
    t.raw_exec(&format!(
        "DELETE FROM audit_log WHERE seal_seq > {prev_end}"
    ))
    .await;
    let out = shanzhi(&t)
        .args(["audit", "verify", "--checkpoints"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[checkpoints_deleted]"), "{err}");
    assert!(
        err.contains(&format!("checkpoint(s) {0}–{0} were deleted", last.seq)),
        "{err}"
    );
    // The export refuses to paper over it.
    let out = shanzhi(&t)
        .args(["audit", "checkpoints", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
both!(cli_verify_names_tampering_and_uses_the_exported_checkpoints);

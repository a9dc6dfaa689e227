//! The command line: one-line errors and exit codes, backup, audit verification, admin create.

use std::process::Command;

use crate::both;
use crate::support::{Db, TestDb};

fn shanzhi(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shanzhi"));
    cmd.arg("--data-dir").arg(db.dir.path());
    if let Some(u) = &db.url {
        cmd.arg("--database-url").arg(u);
    }
    cmd
}

#[test]
fn bad_options_and_unreachable_databases_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .args(["serve", "--no-such-option"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database-url", "postgres://postgres@127.0.0.1:1/nothing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("PostgreSQL") && !err.contains("panicked"));
    let out = Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database-url", "/no/such/file.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("不存在"));
}

#[test]
fn database_urls_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shanzhi"))
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--database-url",
            "postgres://postgres:s3cret-pw@127.0.0.1:1/nothing",
        ])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret-pw"), "{all}");
}

async fn audit_verify_and_admin_create(db: Db) {
    let t = TestDb::new(db).await;
    t.demo();
    // Running demo again changes nothing.
    t.demo();
    let out = shanzhi(&t)
        .args([
            "admin",
            "create",
            "--username",
            "jiading_auditor2",
            "--role",
            "auditor",
            "--place-code",
            "jiading",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("initial password"));
    let out = shanzhi(&t)
        .args([
            "admin",
            "create",
            "--username",
            "bad",
            "--role",
            "town_admin",
            "--place-code",
            "fanjia",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a town admin cannot be bound to a community"
    );
    let out = shanzhi(&t).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    t.raw_exec("UPDATE audit_log SET actor = 'someone else' WHERE id = 3")
        .await;
    let out = shanzhi(&t).args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 3"));
}
both!(audit_verify_and_admin_create);

async fn backup(db: Db) {
    let t = TestDb::new(db).await;
    t.demo();
    let out_file = t.dir.path().join("backup.db");
    // The server keeps the database open while the backup runs.
    let store = t.store().await;
    let out = shanzhi(&t)
        .arg("backup")
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    match db {
        Db::Sqlite => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The copy is a complete database: open it and count members.
            let copy = tempfile::tempdir().unwrap();
            std::fs::copy(&out_file, copy.path().join("shanzhi.db")).unwrap();
            std::fs::create_dir_all(copy.path().join("keys")).unwrap();
            std::fs::copy(
                t.dir.path().join("keys/vault.key"),
                copy.path().join("keys/vault.key"),
            )
            .unwrap();
            let restored = shanzhi_store::Store::open(&shanzhi_store::DbConfig {
                data_dir: copy.path().into(),
                database_url: None,
            })
            .await
            .unwrap();
            let n = restored
                .list_members(
                    &shanzhi_domain::role::Scope::Everything,
                    &Default::default(),
                    shanzhi_store::PageReq::default(),
                )
                .await
                .unwrap()
                .total;
            assert_eq!(n, 40);
            // Refuses to overwrite.
            let again = shanzhi(&t)
                .arg("backup")
                .arg("--out")
                .arg(&out_file)
                .output()
                .unwrap();
            assert_eq!(again.status.code(), Some(1));
        }
        Db::Postgres => {
            assert_eq!(out.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        }
    }
    store.close().await;
}
both!(backup);

async fn key_rotation_keeps_old_values_readable(db: Db) {
    let t = TestDb::new(db).await;
    t.demo();
    let out = shanzhi(&t).args(["keys", "rotate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("k2"));
    let store = t.store().await;
    assert_eq!(store.vault().active_key_id(), "k2");
    let scope = shanzhi_domain::role::Scope::Everything;
    let m = store
        .list_members(
            &scope,
            &Default::default(),
            shanzhi_store::PageReq::default(),
        )
        .await
        .unwrap()
        .items[0]
        .clone();
    let actor = shanzhi_store::Actor::system("test");
    // Written under k1, still readable.
    let old = store
        .reveal_member_personal(&actor, &scope, shanzhi_domain::MemberId(m.id))
        .await
        .unwrap();
    assert_eq!(old.mobile.len(), 11);
    // Searching by the number still works: the search hash key does not rotate.
    let found = store
        .list_members(
            &scope,
            &shanzhi_store::orgs::MemberFilter {
                mobile: Some(old.mobile.clone()),
                ..Default::default()
            },
            shanzhi_store::PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);
}
both!(key_rotation_keeps_old_values_readable);

async fn demo_never_touches_a_real_database(db: Db) {
    let t = TestDb::new(db).await;
    // A real district: created by an operator, not by `demo`.
    let store = t.store().await;
    let v = shanzhi_domain::org::ValidPlace {
        code: "jiading".into(),
        name: "嘉定区".into(),
        party_org_name: None,
        party_org_level: None,
    };
    store
        .create_place(
            &shanzhi_store::Actor::system("op"),
            &shanzhi_domain::role::Scope::Everything,
            None,
            &v,
        )
        .await
        .unwrap();
    let mut cmd = shanzhi(&t);
    let out = cmd.args(["demo", "--no-serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("非演示数据"));
    assert!(
        !store.demo_mode().await.unwrap(),
        "demo mode (no second factor) must not be switched on"
    );
}
both!(demo_never_touches_a_real_database);

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

async fn data_files_are_private(db: Db) {
    let t = TestDb::new(db).await;
    // A data directory the command creates is 0700.
    let data = t.dir.path().join("fresh");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shanzhi"));
    cmd.arg("migrate").arg("--data-dir").arg(&data);
    if let Some(u) = &t.url {
        cmd.arg("--database-url").arg(u);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("keys")), 0o700);
    assert_eq!(mode(&data.join("keys/vault.key")), 0o600);
    assert_eq!(mode(&data.join("keys/audit-signing.key")), 0o600);
    if db == Db::Postgres {
        return;
    }
    assert_eq!(mode(&data.join("shanzhi.db")), 0o600);
    // While a store is open (WAL mode) its -wal and -shm files exist; they are 0600 too.
    t.demo();
    let store = t.store().await;
    store
        .append_audit(
            &shanzhi_store::Actor::system("t"),
            &shanzhi_store::AuditEntry::ok("test.write", "x"),
        )
        .await
        .unwrap();
    let db_file = t.sqlite_file();
    assert_eq!(mode(&db_file), 0o600);
    for suffix in ["-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{suffix}", db_file.display()));
        assert!(p.exists(), "{} exists while the store is open", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    let backup = t.dir.path().join("copy.db");
    let out = shanzhi(&t)
        .arg("backup")
        .arg("--out")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&backup), 0o600);
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
    store.close().await;
}
both!(data_files_are_private);

//! The command line: one-line errors and exit codes, backup, audit verification, admin create.

use std::process::Command;

use crate::both;
use crate::support::fixtures::{TwoTowns, World};
use crate::support::{Db, TestDb};

/// The two-town fixture written into `t`'s database, the store closed again (for commands run on it).
async fn fixture(t: &TestDb) -> TwoTowns {
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    store.close().await;
    w
}

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
    let out_file = t.dir.path().join("backup.db");
    // The server keeps the database open while the backup runs.
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let members = [&w.members_a1, &w.members_a2, &w.members_b1, &w.members_b2]
        .iter()
        .map(|m| m.len() as i64)
        .sum::<i64>();
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
            assert_eq!(n, members);
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
    let w = fixture(&t).await;
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
    let m = &w.members_a1[0];
    let actor = shanzhi_store::Actor::system("test");
    // Written under k1, still readable.
    let old = store
        .reveal_member_personal(&actor, &scope, m.id)
        .await
        .unwrap();
    assert_eq!(old.mobile, m.mobile);
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

/// `shanzhi serve` logs one line per request with the route pattern, status, latency and request id, and never
/// the query string (which may carry a phone number); every response carries `x-request-id`.
async fn request_log_names_the_route_never_the_query(db: Db) {
    use std::io::{BufRead, BufReader};
    let t = TestDb::new(db).await;
    fixture(&t).await;
    let log = t.dir.path().join("serve.log");
    let mut child = shanzhi(&t)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("SHANZHI_LOG", "info,sqlx=warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let http = reqwest::Client::new();
    let res = http
        .get(format!(
            "{base}/api/v1/members?q=13812345678&id_card=310114199001011234"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id on the response");
    assert!(id.len() >= 8);
    let res = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // An oversized body is refused with a 4xx before anything is parsed.
    let big = format!(
        r#"{{"username":"{}","password":"x"}}"#,
        "a".repeat(400 * 1024)
    );
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    // Give the logger a moment, then stop the server.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&id) && l.contains("status=401"))
        .unwrap_or_else(|| panic!("no log line with request id {id} and status 401:\n{text}"));
    assert!(line.contains("route=/api/v1/members"), "{line}");
    assert!(
        line.contains("method=GET") && line.contains("latency_ms="),
        "{line}"
    );
    assert!(
        !text.contains("13812345678") && !text.contains("310114199001011234"),
        "a personal number reached the log:\n{text}"
    );
    assert!(text.contains("status=404"), "{text}");
}
both!(request_log_names_the_route_never_the_query);

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
    // The demo account list names the demo password: only its owner reads it.
    t.demo();
    assert_eq!(mode(&t.dir.path().join("demo-accounts.json")), 0o600);
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

//! The OpenAPI document is true: schemathesis (pinned, installed into a venv under the target dir when missing)
//! runs against the real server with the demo data, signed in as the district admin, and must find no server
//! error, no undocumented status, no response that breaks its schema and no wrong content type.
//!
//! Never skipped: without python3 (with `venv`) or without a reachable package index the test fails and says why.
//! State-changing operations are included (they must answer documented statuses too); only logout is left out, as
//! it would end the shared session mid-run (its own behaviour is tested in `http.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::both;
use crate::support::{Db, TestApp, two_towns};

/// The pinned release. Bump deliberately: newer releases add checks and generation strategies.
const SCHEMATHESIS: &str = "4.32.5";
/// Test cases per operation and phase: small, so a run stays well under two minutes per database.
const MAX_EXAMPLES: &str = "10";
/// Hard limit for one run; a run that takes longer fails the test.
const RUN_TIMEOUT: Duration = Duration::from_secs(150);
/// The checks that make the document "true".
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance";

static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The schemathesis executable, installing it into `<target>/tmp/schemathesis-<version>` on first use.
fn schemathesis() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schemathesis-{SCHEMATHESIS}"));
    let exe = venv.join("bin").join("schemathesis");
    let done = venv.join(".installed");
    if exe.exists() && done.exists() {
        return exe;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let version = Command::new(&python).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "the OpenAPI conformance test needs Python 3 with venv and pip to install schemathesis=={SCHEMATHESIS} \
         (set PYTHON to choose the interpreter); `{python} --version` failed: {version:?}"
    );
    run(
        Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "creating the schemathesis venv (is python3-venv installed?)",
    );
    run(
        Command::new(venv.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &format!("schemathesis=={SCHEMATHESIS}"),
        ]),
        "installing schemathesis from PyPI (pip)",
    );
    assert!(
        exe.exists(),
        "pip installed schemathesis but {exe:?} is missing"
    );
    std::fs::write(&done, SCHEMATHESIS).unwrap();
    exe
}

async fn openapi_conformance(db: Db) {
    let exe = tokio::task::spawn_blocking(schemathesis).await.unwrap();
    let (app, w) = two_towns(db).await;
    let token = app.token(&w.district_admin.username).await;
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report.json");

    let mut cmd = tokio::process::Command::new(&exe);
    cmd.current_dir(work.path())
        .arg("run")
        .arg(app.url("/api/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        // Reproducible: the same inputs every run, one worker (no thread timing), no example database kept.
        .args(["--seed", "20261202", "--generation-database", "none"])
        .args(["--workers", "1", "--request-timeout", "20"])
        .args(["--exclude-path", "/api/v1/auth/logout"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .args(["--no-color", "--output-truncate", "true"])
        .env("HOME", work.path())
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUN_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {RUN_TIMEOUT:?} ({db:?})"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = || {
        let from = stdout
            .rfind("=== FAILURES ===")
            .or_else(|| stdout.rfind("=== SUMMARY ==="))
            .unwrap_or(0);
        let tail: String = stdout[from..].chars().take(30_000).collect();
        format!("{tail}\n{}", String::from_utf8_lossy(&out.stderr))
    };
    let json = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no schemathesis report ({e}):\n{}", summary()));
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();

    // Failures by check: none at all of the four checks may fail.
    let failures = r["failures"].as_array().cloned().unwrap_or_default();
    let mut by_check = std::collections::BTreeMap::<String, usize>::new();
    for f in &failures {
        let name = f["check"]
            .as_str()
            .or_else(|| f["title"].as_str())
            .unwrap_or("unknown");
        *by_check.entry(name.to_string()).or_default() += 1;
    }
    assert!(
        failures.is_empty() && r["test_cases"]["with_failures"] == 0,
        "{db:?}: schemathesis found failures {by_check:?}\n{}",
        summary()
    );
    let errors = r["errors"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(errors, 0, "{db:?}: schemathesis errors\n{}", summary());
    assert!(
        out.status.success(),
        "{db:?}: schemathesis exit {}\n{}",
        out.status,
        summary()
    );
    assert_eq!(r["complete"], true, "{db:?}: run incomplete\n{}", summary());

    // It really tested: every operation but logout, with many cases.
    let selected = r["operations"]["selected"].as_u64().unwrap_or(0);
    let tested = r["operations"]["tested"].as_u64().unwrap_or(0);
    let generated = r["test_cases"]["generated"].as_u64().unwrap_or(0);
    assert!(
        selected >= 70,
        "{db:?}: only {selected} operations selected"
    );
    assert_eq!(
        tested,
        selected,
        "{db:?}: untested operations\n{}",
        summary()
    );
    assert!(generated >= 1_000, "{db:?}: only {generated} test cases");

    // The session survived the run: the token still works.
    let (status, _) = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(
        status, 200,
        "{db:?}: the shared session ended during the run"
    );
}
both!(openapi_conformance);

/// The shape schemathesis relies on, checked without it: query parameters are declared in the query (they were
/// once declared as required path parameters), path parameters appear in their path, and every operation
/// documents the error statuses the edges can answer, with the error body.
async fn openapi_declares_parameters_and_errors(db: Db) {
    let app = TestApp::builder(db).start().await;
    let doc: serde_json::Value = app
        .api()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str().unwrap() {
                    "path" => assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: `{name}` is declared as a path parameter"
                    ),
                    "query" => {}
                    other => panic!("{method} {path}: `{name}` in {other}"),
                }
            }
            let responses = op["responses"].as_object().unwrap();
            let mut expect = Vec::new();
            if op.get("security").is_some() {
                expect.push("401");
            }
            if params.iter().any(|p| p["in"] == "path") {
                expect.push("404");
            }
            if op.get("requestBody").is_some() || params.iter().any(|p| p["in"] == "query") {
                expect.push("400");
                expect.push("422");
            }
            for status in expect {
                let r = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(operations >= 70, "{operations}");
    let members = &doc["paths"]["/api/v1/members"]["get"]["parameters"];
    let q = members
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "q")
        .unwrap();
    assert_eq!(q["in"], "query");
    assert_ne!(q["required"], true);
    // Login answers 403 and 429 as well as 401.
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
    for status in ["400", "401", "403", "429"] {
        assert!(login.get(status).is_some(), "login lacks {status}");
    }
}
both!(openapi_declares_parameters_and_errors);

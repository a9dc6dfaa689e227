//! The job runner: each job runs once across two app instances (executions counted, not only final states), a
//! job whose worker died is shown interrupted and retried, backoff between attempts, retries stop at max attempts;
//! imports on the runner: counts equal the committed rows, an interrupted import is shown so and retried, a 10 MB
//! cell gives a short report; the admin listing (page and API) is scoped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shanzhi_domain::role::Scope;
use shanzhi_store::jobs::{Backoff, JobFilter, JobRow, NewJob};
use shanzhi_store::runner::{JobError, Runner, RunnerConfig};
use shanzhi_store::{Actor, PageReq, Store};

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, PASSWORD, TestApp, TestDb, test_runner_config, two_towns};

/// Every start of a test job: (job id, attempt, when).
type Log = Arc<Mutex<Vec<(i64, i64, Instant)>>>;

fn config(name: &str, workers: usize) -> RunnerConfig {
    RunnerConfig {
        workers,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(2),
        heartbeat: Duration::from_millis(300),
        backoff: Backoff {
            base_ms: 300,
            cap_ms: 5_000,
        },
        grace: Duration::from_secs(2),
        name: name.to_string(),
    }
}

async fn enqueue(store: &Store, max_attempts: i64, payload: &str) -> i64 {
    store
        .enqueue_job(
            &Actor::system("test"),
            &Scope::Everything,
            &NewJob {
                kind: "test".into(),
                payload: payload.into(),
                max_attempts,
            },
        )
        .await
        .unwrap()
}

/// A runner of the test kind: records each execution; the payload says what to do.
fn test_runner(store: &Store, cfg: RunnerConfig, log: Log) -> Runner {
    Runner::new(store.clone(), cfg).handle("test", move |ctx| {
        let log = log.clone();
        async move {
            log.lock()
                .unwrap()
                .push((ctx.job.id, ctx.job.attempts, Instant::now()));
            match ctx.job.payload.as_str() {
                "fail" => Err(JobError::retry("boom")),
                "fatal" => Err(JobError::fatal("bad input")),
                "hang_first" if ctx.job.attempts == 1 => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                }
                _ => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Ok(())
                }
            }
        }
    })
}

async fn job(store: &Store, id: i64) -> JobRow {
    store.get_job(&Scope::Everything, None, id).await.unwrap()
}

/// Waits until `f` holds (checked every 50 ms), at most `secs` seconds.
async fn until<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn count_status(store: &Store, status: &str) -> i64 {
    store
        .list_jobs(
            &Scope::Everything,
            None,
            &JobFilter {
                status: Some(status.into()),
                kind: None,
            },
            PageReq::new(Some(1), Some(1)),
        )
        .await
        .unwrap()
        .total
}

async fn two_instances_run_each_job_once(db: Db) {
    let tdb = TestDb::new(db).await;
    // Two app instances: two stores (own pools) over one database, each with its runner of 4 workers.
    let a = tdb.store().await;
    let b = tdb.store().await;
    let log: Log = Arc::default();
    let ra = test_runner(&a, config("inst-a", 4), log.clone()).start();
    let rb = test_runner(&b, config("inst-b", 4), log.clone()).start();
    let mut ids = Vec::new();
    for i in 0..100 {
        let store = if i % 2 == 0 { &a } else { &b };
        ids.push(enqueue(store, 3, "ok").await);
    }
    until(60, "100 jobs done", || async {
        count_status(&a, "done").await == 100
    })
    .await;
    ra.shutdown().await;
    rb.shutdown().await;
    let log = log.lock().unwrap().clone();
    let mut runs: HashMap<i64, usize> = HashMap::new();
    for (id, _, _) in &log {
        *runs.entry(*id).or_default() += 1;
    }
    assert_eq!(log.len(), 100, "executions");
    for id in &ids {
        assert_eq!(
            runs.get(id),
            Some(&1),
            "job {id} ran {:?} times",
            runs.get(id)
        );
        let j = job(&a, *id).await;
        assert_eq!(j.status, "done");
        assert_eq!(j.attempts, 1);
    }
    // Both instances took part.
    let workers = tdb
        .raw_strings("SELECT DISTINCT worker FROM jobs WHERE worker IS NOT NULL")
        .await;
    assert!(
        workers.iter().any(|w| w.starts_with("inst-a")),
        "{workers:?}"
    );
    assert!(
        workers.iter().any(|w| w.starts_with("inst-b")),
        "{workers:?}"
    );
}
both!(two_instances_run_each_job_once);

async fn dead_worker_is_interrupted_then_retried(db: Db) {
    let tdb = TestDb::new(db).await;
    let store = tdb.store().await;
    let log: Log = Arc::default();
    let id = enqueue(&store, 3, "hang_first").await;
    // Instance A claims the job, then dies (kill -9: its tasks stop, no heartbeat, no release).
    let ra = test_runner(&store, config("dying", 1), log.clone()).start();
    until(10, "first attempt started", || async {
        !log.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(job(&store, id).await.status, "running");
    ra.abort();
    let died = Instant::now();
    // With nobody alive, the job is shown interrupted as soon as its lease (2 s) ran out — well within a minute.
    until(10, "shown interrupted", || async {
        job(&store, id).await.status == "interrupted"
    })
    .await;
    assert!(died.elapsed() < Duration::from_secs(60));
    let j = job(&store, id).await;
    assert_eq!(j.status_label, "已中断");
    assert_eq!(
        count_status(&store, "interrupted").await,
        1,
        "the interrupted filter finds it"
    );
    assert_eq!(count_status(&store, "running").await, 0);
    // Another instance's runner picks it up again: the second attempt completes.
    let rb = test_runner(&store, config("alive", 1), log.clone()).start();
    until(20, "retried and done", || async {
        job(&store, id).await.status == "done"
    })
    .await;
    rb.shutdown().await;
    let j = job(&store, id).await;
    assert_eq!(j.attempts, 2);
    assert!(j.worker.as_deref().unwrap().starts_with("alive"));
    let attempts: Vec<i64> = log.lock().unwrap().iter().map(|x| x.1).collect();
    assert_eq!(attempts, vec![1, 2], "one interrupted execution, one retry");
}
both!(dead_worker_is_interrupted_then_retried);

async fn backoff_and_max_attempts(db: Db) {
    let tdb = TestDb::new(db).await;
    let store = tdb.store().await;
    let log: Log = Arc::default();
    let failing = enqueue(&store, 3, "fail").await;
    let fatal = enqueue(&store, 3, "fatal").await;
    let r = test_runner(&store, config("r", 2), log.clone()).start();
    until(30, "both failed", || async {
        job(&store, failing).await.status == "failed" && job(&store, fatal).await.status == "failed"
    })
    .await;
    // Nothing more happens once the attempts are used up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.shutdown().await;
    let log = log.lock().unwrap().clone();
    let runs: Vec<Instant> = log.iter().filter(|x| x.0 == failing).map(|x| x.2).collect();
    assert_eq!(runs.len(), 3, "retries stop at max attempts");
    // Exponential backoff: 300 ms after the first failure, 600 ms after the second.
    let gap1 = runs[1] - runs[0];
    let gap2 = runs[2] - runs[1];
    assert!(gap1 >= Duration::from_millis(300), "{gap1:?}");
    assert!(gap2 >= Duration::from_millis(600), "{gap2:?}");
    let j = job(&store, failing).await;
    assert_eq!((j.attempts, j.max_attempts), (3, 3));
    assert_eq!(j.last_error.as_deref(), Some("boom"));
    assert_eq!(j.status_label, "失败");
    // A non-retryable error fails at once.
    assert_eq!(log.iter().filter(|x| x.0 == fatal).count(), 1);
    assert_eq!(job(&store, fatal).await.attempts, 1);
}
both!(backoff_and_max_attempts);

const HEADER: &str = "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n";

fn members_csv(n: usize, prefix: &str, mobile_base: u64) -> Vec<u8> {
    let mut s = HEADER.to_string();
    for i in 0..n {
        s.push_str(&format!(
            "{prefix}{i},{},,单位甲一,甲一村,,\n",
            mobile_base + i as u64
        ));
    }
    s.into_bytes()
}

async fn api_upload(
    app: &TestApp,
    token: &str,
    file: Vec<u8>,
    valid_only: bool,
) -> serde_json::Value {
    let res = app
        .api()
        .post(app.url(&format!(
            "/api/v1/imports/members?filename=m.csv&valid_only={valid_only}"
        )))
        .bearer_auth(token)
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    res.json().await.unwrap()
}

async fn raw_count(tdb: &TestDb, sql: &str) -> i64 {
    tdb.raw_strings(sql).await[0].parse().unwrap()
}

async fn interrupted_import_is_shown_and_retried_with_exact_counts(db: Db) {
    let mut app = TestApp::builder(db).without_runner().start().await;
    World::two_towns(&app.store).await;
    let token = app.token("community_admin_a1").await;
    let body = api_upload(
        &app,
        &token,
        members_csv(300, "批量", 13_600_000_000),
        false,
    )
    .await;
    let id = body["id"].as_i64().unwrap();
    let job_id = body["job_id"].as_i64().unwrap();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["job_status"], "queued");
    // A worker claims the import and dies at once (no heartbeat, nothing committed).
    let claimed = app
        .store
        .claim_job("dead-worker", &["import_members".to_string()], 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job_id);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, v) = app.get_json(&token, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(v["job_status"], "interrupted", "{v}");
    assert_eq!(v["status"], "queued");
    // Pages: the import shows 已中断, the job listing too; the imports page links to it.
    let browser = app.browser();
    app.web_login(&browser, "community_admin_a1", PASSWORD)
        .await;
    let html = browser
        .get(app.url(&format!("/imports/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已中断") && html.contains("import-interrupted"),
        "{html}"
    );
    let html = browser.get(app.url("/jobs")).send().await.unwrap();
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(
        html.contains("已中断") && html.contains("导入在职党员"),
        "{html}"
    );
    let imports = browser
        .get(app.url("/imports"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(imports.contains("href=\"/jobs\""));
    // A second worker takes the job over (attempt 2) and dies too. The first worker, stalled rather than dead,
    // can no longer record anything: its fencing token is stale, so the write is refused and nothing changes.
    let reaped = app
        .store
        .reap_expired_jobs(Backoff {
            base_ms: 0,
            cap_ms: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        reaped,
        vec![(job_id, shanzhi_domain::jobs::JobStatus::Interrupted)]
    );
    let second = app
        .store
        .claim_job("second-dead", &["import_members".to_string()], 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.id, second.attempts), (job_id, 2));
    let stale = app
        .store
        .finish_import_job(
            &shanzhi_store::Actor::system("stale"),
            id,
            &shanzhi_store::imports::ImportOutcome {
                inserted: 300,
                report: "{}".into(),
                ..Default::default()
            },
            Some(claimed.lease()),
            false,
        )
        .await;
    assert!(
        matches!(
            stale,
            Err(shanzhi_store::StoreError::Refused(
                shanzhi_domain::Code::JobLeaseLost
            ))
        ),
        "{stale:?}"
    );
    let (_, v) = app.get_json(&token, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(
        (v["status"].as_str(), v["inserted"].as_i64()),
        (Some("queued"), Some(0))
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    // A runner comes up: the import is retried and its counts equal the committed rows.
    app.start_runner(test_runner_config());
    let mut v = serde_json::Value::Null;
    for _ in 0..300 {
        v = app
            .get_json(&token, &format!("/api/v1/imports/{id}"))
            .await
            .1;
        if v["status"] == "done" || v["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["job_status"], "done");
    assert_eq!(v["attempts"], 3);
    let committed = raw_count(
        &app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM members WHERE name LIKE '批量%'",
    )
    .await;
    assert_eq!(committed, 300);
    assert_eq!(v["inserted"], committed);
    assert_eq!(v["report"]["inserted"], committed);
    // The stored file is gone once the job ended.
    assert_eq!(
        raw_count(
            &app.db,
            &format!("SELECT CAST(COUNT(*) AS TEXT) FROM job_files WHERE job_id = {job_id}")
        )
        .await,
        0
    );
    // Every import's counts equal its committed rows (also when re-imported: all skipped, none inserted).
    let again = api_upload(
        &app,
        &token,
        members_csv(300, "批量", 13_600_000_000),
        false,
    )
    .await;
    let id2 = again["id"].as_i64().unwrap();
    let mut v = serde_json::Value::Null;
    for _ in 0..300 {
        v = app
            .get_json(&token, &format!("/api/v1/imports/{id2}"))
            .await
            .1;
        if v["status"] == "done" || v["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (v["inserted"].as_i64(), v["skipped"].as_i64()),
        (Some(0), Some(300)),
        "{v}"
    );
    assert_eq!(
        raw_count(
            &app.db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM members WHERE name LIKE '批量%'"
        )
        .await,
        300
    );
    // The job listing API: fanjia sees its own jobs; another community's admin sees none; the security admin all.
    let (status, page) = app.get_json(&token, "/api/v1/jobs?per_page=10").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][1]["status_label"], "已完成");
    assert_eq!(page["items"][1]["attempts"], 3);
    assert_eq!(page["items"][1]["import_id"], id);
    let other = app.token("community_admin_b1").await;
    assert_eq!(app.get_json(&other, "/api/v1/jobs").await.1["total"], 0);
    assert_eq!(
        app.get_json(&other, &format!("/api/v1/jobs/{job_id}"))
            .await
            .0,
        404
    );
    let town = app.token("town_admin_a").await;
    assert_eq!(app.get_json(&town, "/api/v1/jobs").await.1["total"], 2);
    // The security admin (district-wide oversight; jobs carry no personal data) sees every job.
    let security = app.token("security_admin").await;
    assert_eq!(app.get_json(&security, "/api/v1/jobs").await.1["total"], 2);
    let member = app.token("member_a1").await;
    assert_eq!(app.get_json(&member, "/api/v1/jobs").await.0, 403);
    let (_, done) = app
        .get_json(&town, "/api/v1/jobs?status=done&kind=import_members")
        .await;
    assert_eq!(done["total"], 2);
    let (_, none) = app.get_json(&town, "/api/v1/jobs?status=failed").await;
    assert_eq!(none["total"], 0);
}
both!(interrupted_import_is_shown_and_retried_with_exact_counts);

async fn a_huge_cell_gives_a_short_report(db: Db) {
    let (app, _w) = two_towns(db).await;
    let token = app.token("community_admin_a1").await;
    // A 10 MB cell is refused at the edge (the text rule's length limit): a short 422 naming the row and column,
    // never the value, and nothing is queued.
    let mut file = HEADER.to_string();
    file.push_str(&format!(
        "{},13600000001,,单位甲一,甲一村,,\n",
        "长".repeat(10 * 1024 * 1024 / 3)
    ));
    let res = app
        .api()
        .post(app.url("/api/v1/imports/members?filename=m.csv&valid_only=true"))
        .bearer_auth(&token)
        .body(file.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let text = res.text().await.unwrap();
    assert!(text.len() < 4_000, "refusal is {} bytes", text.len());
    assert!(text.contains("too_long"), "{text}");
    assert!(!text.contains("长长长"), "the value is not echoed: {text}");
    // A long value under the edge limit reaches the row checks: the report quotes 40 characters of it.
    let huge = "长".repeat(1_500);
    let skills: Vec<String> = (0..150).map(|i| format!("未知专长{i}")).collect();
    let mut file = HEADER.to_string();
    file.push_str(&format!(
        "{huge},13600000001,,单位甲一,甲一村,{},\n",
        skills.join("、")
    ));
    file.push_str("正常,13600000002,,单位甲一,甲一村,,\n");
    let body = api_upload(&app, &token, file.into_bytes(), true).await;
    let id = body["id"].as_i64().unwrap();
    let mut text = String::new();
    let end = Instant::now() + Duration::from_secs(120);
    while Instant::now() < end {
        let res = app
            .api()
            .get(app.url(&format!("/api/v1/imports/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        text = res.text().await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["status"] == "done" || v["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(text.len() < 4_000, "API answer is {} bytes", text.len());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["inserted"], 1);
    let row = &v["report"]["rows"][0];
    assert_eq!(row["line"], 2);
    let name = row["name"].as_str().unwrap();
    assert_eq!(name.chars().count(), 41, "40 characters and …");
    assert!(name.ends_with('…'));
    assert!(row["reason"].as_str().unwrap().chars().count() <= 400);
    // The page and the downloadable list are small too.
    let browser = app.browser();
    app.web_login(&browser, "community_admin_a1", PASSWORD)
        .await;
    let html = browser
        .get(app.url(&format!("/imports/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.len() < 40_000, "page is {} bytes", html.len());
    let csv = browser
        .get(app.url(&format!("/imports/{id}/report.csv")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(csv.len() < 4_000);
}
both!(a_huge_cell_gives_a_short_report);

/// Issue 7.8: a 30,000-row import runs to the end in both modes on both databases, with a heartbeat much shorter
/// than the import's one transaction. On SQLite that heartbeat waits for the one writer connection the import holds;
/// the runner keeps the import running meanwhile (it used to stop polling the import while the heartbeat waited for
/// the writer the import held: neither moved, the lease ran out and the job stayed `running`). All-or-nothing with
/// one bad row writes nothing; valid-only writes the 29,999 good rows, and the job's counts equal the committed rows.
async fn a_30k_row_import_runs_to_the_end_in_both_modes(db: Db) {
    const ROWS: usize = 30_000;
    let mut app = TestApp::builder(db).without_runner().start().await;
    let w = World::two_towns(&app.store).await;
    app.start_runner(RunnerConfig {
        heartbeat: Duration::from_millis(20),
        lease: Duration::from_secs(300),
        ..test_runner_config()
    });
    let token = app.token(&w.district_admin.username).await;
    let mut file = members_csv(ROWS - 1, "三万", 13_500_000_000);
    file.extend_from_slice("坏行,1350000,,单位甲一,甲一村,,\n".as_bytes());
    let count = "SELECT CAST(COUNT(*) AS TEXT) FROM members WHERE name LIKE '三万%'";

    let wait_end = async |id: i64| -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        for _ in 0..3000 {
            let (status, v) = app.get_json(&token, &format!("/api/v1/imports/{id}")).await;
            assert_eq!(status, 200, "{v}");
            if v["status"] == "done" || v["status"] == "failed" {
                return v;
            }
            last = v;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("import {id} did not end: {last}");
    };

    let body = api_upload(&app, &token, file.clone(), false).await;
    let r = wait_end(body["id"].as_i64().unwrap()).await;
    assert_eq!(r["status"], "failed", "all-or-nothing: {r}");
    assert_eq!(r["job_status"], "done", "the job itself ended: {r}");
    assert_eq!(r["report"]["code"], "import_has_errors");
    assert_eq!(r["report"]["error_rows"], 1);
    assert_eq!(r["inserted"], 0);
    assert_eq!(raw_count(&app.db, count).await, 0, "nothing written");

    let body = api_upload(&app, &token, file, true).await;
    let id = body["id"].as_i64().unwrap();
    let r = wait_end(id).await;
    assert_eq!(r["status"], "done", "valid-only: {r}");
    assert_eq!(r["job_status"], "done", "{r}");
    assert_eq!(r["inserted"], (ROWS - 1) as i64, "{r}");
    assert_eq!(r["error_rows"], 1, "{r}");
    assert_eq!(raw_count(&app.db, count).await, (ROWS - 1) as i64);
    let job_id = body["job_id"].as_i64().unwrap();
    let job = job(&app.store, job_id).await;
    assert_eq!(
        (job.status.as_str(), job.attempts),
        ("done", 1),
        "one attempt, not reaped"
    );
}
both!(a_30k_row_import_runs_to_the_end_in_both_modes);

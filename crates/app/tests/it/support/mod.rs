//! Test harness: a fresh database (SQLite temp dir or a new PostgreSQL database, `SHANZHI_TEST_PG`), the real
//! server on 127.0.0.1:0, and the data a test needs: explicit fixtures built through the store
//! ([`fixtures::World`], started with [`TestApp::builder`]) or, for the few tests about the demo itself, the demo
//! data loaded by the real `shanzhi demo` command ([`TestApp::start`]).

pub mod fixtures;
/// The one PostgreSQL harness (`SHANZHI_TEST_PG`), shared with the store's own tests.
#[path = "../../../../store/tests/support/pg.rs"]
pub mod pg;
pub mod web;

use std::path::PathBuf;

use shanzhi_store::{DbConfig, Store};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Generates `sqlite` and `postgres` tests from one async fn taking a [`Db`]. They are two separate tests, so
/// both always run and both results are reported: a failure on SQLite never hides the PostgreSQL result (run
/// `cargo test -p shanzhi --test it -- <name>::` to see both).
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Db::Postgres).await
            }
        }
    };
}

pub const PASSWORD: &str = "Demo#Pass2026";

pub struct TestDb {
    pub db: Db,
    pub dir: tempfile::TempDir,
    pub url: Option<String>,
    /// The PostgreSQL database, dropped with the `TestDb`.
    _pg: Option<pg::PgTestDb>,
}

impl TestDb {
    pub async fn new(db: Db) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(pg::PgTestDb::create().await),
        };
        TestDb {
            db,
            dir,
            url: pg.as_ref().map(|p| p.url.clone()),
            _pg: pg,
        }
    }

    pub fn config(&self) -> DbConfig {
        DbConfig {
            data_dir: self.dir.path().to_path_buf(),
            database_url: self.url.clone(),
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.config()).await.unwrap()
    }

    /// Loads the demo data through the real command.
    pub fn demo(&self) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"));
        cmd.arg("demo")
            .arg("--no-serve")
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("--demo-password")
            .arg(PASSWORD);
        if let Some(u) = &self.url {
            cmd.arg("--database-url").arg(u);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn sqlite_file(&self) -> PathBuf {
        self.dir.path().join("shanzhi.db")
    }

    /// Runs raw SQL against the database, bypassing the store (to tamper, or to read raw columns).
    pub async fn raw_exec(&self, sql: &str) {
        match self.db {
            Db::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&format!(
                    "sqlite://{}",
                    self.sqlite_file().display()
                ))
                .await
                .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            Db::Postgres => {
                let mut c = sqlx::PgConnection::connect(self.url.as_deref().unwrap())
                    .await
                    .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn raw_strings(&self, sql: &str) -> Vec<String> {
        match self.db {
            Db::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&format!(
                    "sqlite://{}",
                    self.sqlite_file().display()
                ))
                .await
                .unwrap();
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Db::Postgres => {
                let mut c = sqlx::PgConnection::connect(self.url.as_deref().unwrap())
                    .await
                    .unwrap();
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
        }
    }
}

/// The real application on 127.0.0.1:0.
pub struct TestApp {
    #[allow(dead_code)]
    pub db: TestDb,
    pub store: Store,
    pub base: String,
    /// Where the application's SMS go (tests read the codes here).
    #[allow(dead_code)]
    pub sms: shanzhi_cases::sms::LogSender,
    server: tokio::task::JoinHandle<()>,
    /// The job runner (imports), as `shanzhi serve` starts it.
    runner: Option<shanzhi_store::runner::RunnerHandle>,
}

/// Runner settings for tests: quick polling, otherwise as served.
pub fn test_runner_config() -> shanzhi_store::runner::RunnerConfig {
    shanzhi_store::runner::RunnerConfig {
        workers: 2,
        poll: std::time::Duration::from_millis(100),
        backoff: shanzhi_store::jobs::Backoff {
            base_ms: 300,
            cap_ms: 5_000,
        },
        ..Default::default()
    }
}

/// How a [`TestApp`] starts: `TestApp::builder(db)` gives an empty district database (schema and dictionaries,
/// no places or accounts) for a [`fixtures::World`]; `.demo()` loads the demo data instead.
pub struct TestAppBuilder {
    db: Db,
    config: shanzhi_web::WebConfig,
    demo: bool,
    runner: bool,
    second_factor: bool,
}

impl TestAppBuilder {
    /// Loads the demo data through the real `shanzhi demo` command (only for tests of the demo itself).
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// The web settings (trusted proxies, session lengths …).
    pub fn config(mut self, config: shanzhi_web::WebConfig) -> Self {
        self.config = config;
        self
    }

    /// Without the job runner: jobs stay queued until [`TestApp::start_runner`].
    pub fn without_runner(mut self) -> Self {
        self.runner = false;
        self
    }

    /// Admins need their second factor (TOTP) at login, as outside demo mode. By default fixture accounts log in
    /// with the password alone (the database is marked as demo mode, which is what switches the factor off).
    pub fn second_factor(mut self) -> Self {
        self.second_factor = true;
        self
    }

    pub async fn start(self) -> TestApp {
        let db = TestDb::new(self.db).await;
        if self.demo {
            db.demo();
        }
        let store = db.store().await;
        if !self.demo {
            store.seed_dictionaries().await.unwrap();
        }
        if !self.second_factor {
            store.set_setting("demo_mode", "true").await.unwrap();
        } else if self.demo {
            store.set_setting("demo_mode", "false").await.unwrap();
        }
        let mut app = TestApp::serve(db, store, self.config).await;
        if !self.runner
            && let Some(r) = app.runner.take()
        {
            r.shutdown().await;
        }
        app
    }
}

/// The application over the common world of two towns ([`fixtures::TwoTowns`]).
pub async fn two_towns(db: Db) -> (TestApp, fixtures::TwoTowns) {
    let app = TestApp::builder(db).start().await;
    let w = fixtures::World::two_towns(&app.store).await;
    (app, w)
}

impl TestApp {
    /// An application over an empty district database; build its data with [`fixtures::World`].
    pub fn builder(db: Db) -> TestAppBuilder {
        TestAppBuilder {
            db,
            config: shanzhi_web::WebConfig::default(),
            demo: false,
            runner: true,
            second_factor: false,
        }
    }

    #[allow(dead_code)]
    /// The application over the demo data (`TestApp::builder(db).demo().start()`); new tests use
    /// [`TestApp::builder`] and a [`fixtures::World`].
    pub async fn start(db: Db) -> TestApp {
        Self::builder(db).demo().start().await
    }

    #[allow(dead_code)]
    /// The demo application without its job runner (jobs stay queued until [`TestApp::start_runner`]).
    pub async fn start_without_runner(db: Db) -> TestApp {
        Self::builder(db).demo().without_runner().start().await
    }

    /// Starts the job runner (imports) with these settings.
    pub fn start_runner(&mut self, config: shanzhi_store::runner::RunnerConfig) {
        self.runner = Some(
            shanzhi_imports::job::register(shanzhi_store::runner::Runner::new(
                self.store.clone(),
                config,
            ))
            .start(),
        );
    }

    async fn serve(db: TestDb, store: Store, config: shanzhi_web::WebConfig) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sms = shanzhi_cases::sms::LogSender::default();
        let router =
            shanzhi_web::app_with_sms(store.clone(), config, std::sync::Arc::new(sms.clone()));
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        let runner = Some(
            shanzhi_imports::job::register(shanzhi_store::runner::Runner::new(
                store.clone(),
                test_runner_config(),
            ))
            .start(),
        );
        TestApp {
            db,
            store,
            base,
            sms,
            server,
            runner,
        }
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn api(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// API login; returns the raw response.
    pub async fn api_login(
        &self,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> reqwest::Response {
        let mut body = serde_json::json!({"username": username, "password": password});
        if let Some(t) = totp {
            body["totp"] = serde_json::json!(t);
        }
        self.api()
            .post(self.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn token(&self, username: &str) -> String {
        let res = self.api_login(username, PASSWORD, None).await;
        assert_eq!(res.status(), 200, "login {username}");
        let v: serde_json::Value = res.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .api()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The CSRF token of a browser client (fetches the login page to get the cookie and the form value).
    pub async fn csrf(&self, client: &reqwest::Client) -> String {
        let html = client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = html.find("name=\"_csrf\" value=\"").unwrap() + "name=\"_csrf\" value=\"".len();
        html[start..].split('"').next().unwrap().to_string()
    }

    /// Logs a browser client in through the login form; returns the redirect location.
    pub async fn web_login(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> (u16, String) {
        let csrf = self.csrf(client).await;
        let res = client
            .post(self.url("/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let loc = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = if status == 200 {
            res.text().await.unwrap()
        } else {
            String::new()
        };
        (status, if loc.is_empty() { body } else { loc })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(r) = self.runner.take() {
            r.abort();
        }
    }
}

//! The one PostgreSQL test harness, shared by the store's tests and the integration suite (`crates/app/tests/it`
//! includes this file): a fresh database per test on the server named by `SHANZHI_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432`), dropped when the handle is dropped, even after a failed test. A server
//! that cannot be reached fails the test; PostgreSQL tests are never skipped.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

/// The PostgreSQL server for tests, without a database name.
pub fn pg_base() -> String {
    std::env::var("SHANZHI_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database created for one test.
pub struct PgTestDb {
    pub name: String,
    /// The connection URL of the database.
    pub url: String,
}

impl PgTestDb {
    pub async fn create() -> PgTestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "shanzhi_t_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", pg_base()))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL tests need a server at {} (set SHANZHI_TEST_PG): {e}",
                    pg_base()
                )
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
        PgTestDb {
            url: format!("{}/{name}", pg_base()),
            name,
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        // Best effort, from a separate thread with its own runtime (Drop may run inside or outside a runtime).
        let name = std::mem::take(&mut self.name);
        let base = pg_base();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
                    .await
                    .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

//! Storage for 善治. One [`Store`] with use-case methods (`create_unit`, `list_members`, `append_audit` …); each
//! method runs on embedded SQLite or on PostgreSQL. Method bodies are written once and expanded for each backend's
//! native pool by the `read!`/`write!` macros, so both keep sqlx's typed rows; where the SQL dialects differ the
//! body branches on [`Backend`]. Scope (which places, unit or member the caller may see) is applied inside every
//! query, never left to the handlers.

#[macro_use]
mod macros;
#[macro_use]
pub(crate) mod stats;
#[macro_use]
pub mod audit;
#[macro_use]
pub mod jobs;
pub mod accounts;
pub mod activation;
#[macro_use]
pub mod bulk;
pub mod connect;
pub mod dict;
pub mod error;
pub mod imports;
pub mod login_state;
pub mod notifications;
pub mod orgs;
pub mod own_data;
pub mod page;
pub mod places;
pub mod registration;
pub mod runner;
pub mod sms;

pub use accounts::{Account, NewAccount, SessionInfo, SessionKind, SessionStage};
pub use audit::{
    Actor, AuditEntry, AuditFilter, AuditProblem, AuditReport, AuditRow, Checkpoint,
    ExportedCheckpoint, SealReport,
};
pub use connect::{Backend, DbConfig};
pub use error::{StoreError, StoreResult};
pub use login_state::{LoginKeys, LoginState};
pub use page::{Page, PageReq};

use shanzhi_secure::Vault;
use shanzhi_secure::signing::AuditSigningKey;
use sqlx::{PgPool, SqlitePool};
use std::sync::Arc;

#[derive(Clone)]
pub(crate) enum Pools {
    /// SQLite keeps several reader connections and exactly one writer: one writer beats many contending ones.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The application's storage: a database pool, the personal-data vault and the audit checkpoint signing key.
#[derive(Clone)]
pub struct Store {
    pub(crate) pools: Pools,
    pub(crate) vault: Arc<Vault>,
    pub(crate) audit_key: Arc<AuditSigningKey>,
    /// Wakes this process's job runners when a job is enqueued (other instances find it by polling).
    pub(crate) job_wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store {{ backend: {:?} }}", self.backend())
    }
}

impl Store {
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }
    pub fn vault(&self) -> &Vault {
        &self.vault
    }
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self.pools, Pools::Postgres(_))
    }

    /// Closes all connections (waits for in-flight queries).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write } => {
                write.close().await;
                read.close().await;
            }
            Pools::Postgres(p) => p.close().await,
        }
    }

    pub async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let v: Option<(String,)> = rd!(self, |p| sqlx::query_as(
            "SELECT value FROM settings WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await?);
        Ok(v.map(|v| v.0))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        wr!(self, |p| {
            sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        .bind(key)
        .bind(value)
        .execute(p).await?.rows_affected()
        });
        Ok(())
    }

    /// Demo mode: set by `shanzhi demo`; admins then skip the second factor.
    pub async fn demo_mode(&self) -> StoreResult<bool> {
        Ok(self.get_setting("demo_mode").await?.as_deref() == Some("true"))
    }

    /// Table and column names of the live schema (for the schema-parity test and `migrate`).
    pub async fn schema_columns(&self) -> StoreResult<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = match &self.pools {
            Pools::Sqlite { read, .. } => {
                sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' ORDER BY 1, 2",
                )
                .fetch_all(read)
                .await?
            }
            Pools::Postgres(p) => {
                sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' ORDER BY 1, 2",
                )
                .fetch_all(p)
                .await?
            }
        };
        Ok(rows)
    }
}

/// One index of the live schema, by what it does rather than its name: the table, its key columns in order
/// (`(expr)` for an expression), whether it is unique and whether it is partial. Primary keys are left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexShape {
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
}

impl Store {
    /// The indexes and unique constraints of the live schema (for the schema-parity test).
    pub async fn schema_indexes(&self) -> StoreResult<Vec<IndexShape>> {
        // (table, index, unique, partial, position, column)
        type Row = (String, String, bool, bool, i64, Option<String>);
        let rows: Vec<Row> = match &self.pools {
            Pools::Sqlite { read, .. } => {
                sqlx::query_as(
                    "SELECT m.name, il.name, il.\"unique\" <> 0, il.partial <> 0, ii.seqno, ii.name \
                     FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
                     AND il.origin <> 'pk' ORDER BY 1, 2, 5",
                )
                .fetch_all(read)
                .await?
            }
            Pools::Postgres(p) => {
                sqlx::query_as(
                    "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indpred IS NOT NULL, \
                     k.ord::int8, a.attname::text \
                     FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
                     CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 \
                     WHERE n.nspname = current_schema() AND NOT ix.indisprimary AND t.relname NOT LIKE '_sqlx%' \
                     ORDER BY 1, 2, 5",
                )
                .fetch_all(p)
                .await?
            }
        };
        let mut out: Vec<IndexShape> = Vec::new();
        let mut current: Option<(String, String)> = None;
        for (table, index, unique, partial, _, column) in rows {
            let column = column.unwrap_or_else(|| "(expr)".to_owned());
            if current.as_ref() == Some(&(table.clone(), index.clone()))
                && let Some(last) = out.last_mut()
            {
                last.columns.push(column);
                continue;
            }
            current = Some((table.clone(), index));
            out.push(IndexShape {
                table,
                columns: vec![column],
                unique,
                partial,
            });
        }
        out.sort();
        Ok(out)
    }
}

/// A query builder typed after the pool it will run on (lets shared macro bodies infer the backend).
pub(crate) fn qb<DB: sqlx::Database>(
    _pool: &sqlx::Pool<DB>,
    sql: impl Into<String>,
) -> sqlx::QueryBuilder<DB> {
    sqlx::QueryBuilder::new(sql)
}

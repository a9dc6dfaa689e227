//! Choosing and opening the database: `postgres://…` selects PostgreSQL; `sqlite://PATH`, a bare path, or nothing
//! (a file in the data directory) selects SQLite. A path given explicitly must already exist, so a typo never
//! creates an empty database.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use shanzhi_secure::Vault;
use shanzhi_secure::signing::AuditSigningKey;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Pools, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the data lives. `Debug` hides credentials in the URL.
#[derive(Clone)]
pub struct DbConfig {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

impl DbConfig {
    pub fn backend(&self) -> Backend {
        match self.database_url.as_deref() {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Backend::Postgres
            }
            _ => Backend::Sqlite,
        }
    }
    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("keys").join("vault.key")
    }
    /// The Ed25519 key that signs audit checkpoints (kept apart from the database).
    pub fn audit_key_file(&self) -> PathBuf {
        self.data_dir.join("keys").join("audit-signing.key")
    }
    /// The SQLite file, and whether it may be created.
    fn sqlite_path(&self) -> StoreResult<(PathBuf, bool)> {
        match self.database_url.as_deref() {
            None => Ok((self.data_dir.join("shanzhi.db"), true)),
            Some(u) => {
                let p = u
                    .strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                    .unwrap_or(u);
                let p = p.split('?').next().unwrap_or(p);
                if p.contains("://") {
                    return Err(StoreError::Other(format!(
                        "不支持的数据库地址 (unsupported database URL): {}",
                        redact_url(u)
                    )));
                }
                let path = PathBuf::from(p);
                if !path.exists() {
                    return Err(StoreError::Other(format!(
                        "SQLite 数据库文件不存在 (database file does not exist): {} — omit --database-url to use the data directory",
                        path.display()
                    )));
                }
                Ok((path, false))
            }
        }
    }
}

impl Store {
    /// Opens the database and the vault (creating the key files on first start) and runs migrations. A data
    /// directory created here gets mode 0700.
    pub async fn open(config: &DbConfig) -> StoreResult<Store> {
        shanzhi_secure::create_private_dir(&config.data_dir).map_err(|e| {
            StoreError::Other(format!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let vault = Vault::open_or_create(&config.key_file())?;
        let store = Store::connect(config, vault).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating (loads or creates the audit signing key).
    pub async fn connect(config: &DbConfig, vault: Vault) -> StoreResult<Store> {
        let audit_key = AuditSigningKey::open_or_create(&config.audit_key_file())?;
        let pools = match config.backend() {
            Backend::Postgres => {
                let url = config.database_url.clone().unwrap_or_default();
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&url)
                    .await
                    .map_err(|e| {
                        StoreError::Other(format!(
                            "无法连接 PostgreSQL ({}): {e}",
                            redact_url(&url)
                        ))
                    })?;
                Pools::Postgres(pool)
            }
            Backend::Sqlite => {
                let (path, create) = config.sqlite_path()?;
                let (read, write) = open_sqlite(&path, create).await?;
                Pools::Sqlite { read, write }
            }
        };
        Ok(Store {
            pools,
            vault: Arc::new(vault),
            audit_key: Arc::new(audit_key),
            job_wake: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pools {
            Pools::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Pools::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// A consistent online copy of a SQLite database (`VACUUM INTO`), safe while the server runs. The copy is
    /// created with mode 0600 (it holds everything the database holds).
    pub async fn backup_to(&self, out: &Path) -> StoreResult<()> {
        match &self.pools {
            Pools::Sqlite { read, .. } => {
                if out.exists() {
                    return Err(StoreError::Other(format!("备份文件已存在 (refusing to overwrite): {}", out.display())));
                }
                // VACUUM INTO accepts an existing empty file and keeps its mode.
                create_private_file(out)?;
                let target = out.to_string_lossy().to_string();
                sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
                Ok(())
            }
            Pools::Postgres(_) => Err(StoreError::Other(
                "PostgreSQL 数据库请使用 pg_dump 备份,例如: pg_dump --format=custom --file=shanzhi.dump \"$SHANZHI_DATABASE_URL\" \
                 (use pg_dump for PostgreSQL backups)"
                    .into(),
            )),
        }
    }
}

/// Creates an empty file with mode 0600; fails if it exists.
fn create_private_file(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(|_| ())
        .map_err(|e| StoreError::Other(format!("{}: {e}", path.display())))
}

/// The database in the data directory is private to its owner: created 0600 (SQLite gives its -wal and -shm files
/// the database file's mode), and an existing one made 0600 with its -wal/-shm files.
fn make_sqlite_private(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::PermissionsExt;
    if !path.exists() {
        return create_private_file(path);
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if let Ok(meta) = std::fs::metadata(&p)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::Other(format!("{}: {e}", p.display())))?;
        }
    }
    Ok(())
}

async fn open_sqlite(
    path: &Path,
    create: bool,
) -> StoreResult<(sqlx::SqlitePool, sqlx::SqlitePool)> {
    if create {
        make_sqlite_private(path)?;
    }
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .map_err(StoreError::Db)?
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    // Page caches are per connection and fill as the database grows, so they bound the server's memory: 16 MiB for
    // the one writer (bulk imports), 4 MiB for each of the 4 readers (the OS page cache holds the rest of the file).
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts.clone().pragma("cache_size", "-16384"))
        .await
        .map_err(|e| {
            StoreError::Other(format!("无法打开 SQLite 数据库 {}: {e}", path.display()))
        })?;
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts.create_if_missing(false).pragma("cache_size", "-4096"))
        .await
        .map_err(|e| {
            StoreError::Other(format!("无法打开 SQLite 数据库 {}: {e}", path.display()))
        })?;
    Ok((read, write))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_backends_and_hide_secrets() {
        let c = DbConfig {
            data_dir: "d".into(),
            database_url: Some("postgres://u:pw@h/db".into()),
        };
        assert_eq!(c.backend(), Backend::Postgres);
        assert!(!format!("{c:?}").contains("pw"));
        assert_eq!(
            DbConfig {
                data_dir: "d".into(),
                database_url: None
            }
            .backend(),
            Backend::Sqlite
        );
    }

    #[test]
    fn a_bare_path_must_exist() {
        let c = DbConfig {
            data_dir: "d".into(),
            database_url: Some("/nonexistent/typo.db".into()),
        };
        assert!(c.sqlite_path().is_err());
    }
}

//! Store errors: a missing or out-of-scope record (the same thing to callers), per-field validation failures, a
//! coded refusal, or a database failure.

use shanzhi_domain::{Code, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("invalid fields: {0:?}")]
    Fields(FieldErrors),
    #[error("refused: {0}")]
    Refused(Code),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

impl From<shanzhi_secure::SecureError> for StoreError {
    fn from(e: shanzhi_secure::SecureError) -> Self {
        StoreError::Other(format!("vault: {e}"))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn field(field: &'static str, code: Code) -> Self {
        StoreError::Fields(FieldErrors::single(field, code))
    }
    /// Whether a database error is a unique-constraint violation (on either backend).
    pub(crate) fn is_unique(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
    }
    pub(crate) fn unique_on(e: &sqlx::Error, needle: &str) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.is_unique_violation() && d.message().contains(needle))
            || e.as_database_error()
                .and_then(|d| d.constraint().map(|c| c.contains(needle)))
                .unwrap_or(false)
    }
}

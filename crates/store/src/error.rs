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
    Db(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

/// A database error; text the database cannot store (PostgreSQL: a NUL byte, an invalid byte sequence) is a coded
/// refusal, not a failure — a second line of defence behind the text rule at the edges (`shanzhi_domain::text`).
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if StoreError::is_invalid_text(&e) {
            StoreError::Refused(Code::InvalidCharacters)
        } else {
            StoreError::Db(e)
        }
    }
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
    /// Whether the database refused text: SQLSTATE 22021 `character_not_in_repertoire` ("invalid byte sequence
    /// for encoding UTF8: 0x00") or 22P05 `untranslatable_character` on PostgreSQL.
    pub fn is_invalid_text(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "22021" || c == "22P05")
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

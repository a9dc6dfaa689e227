//! The one error type of a use case: a stable code (with its Chinese message in the domain), per-field errors of a
//! validation failure, or an internal failure with an incident id the user can quote (logged once, here).
//! The web layer maps codes to HTTP statuses and renders the same code as JSON or as a page.

use shanzhi_domain::{Code, FieldErrors};
use shanzhi_store::StoreError;

#[derive(Debug)]
pub struct AppError {
    pub code: Code,
    pub fields: Option<FieldErrors>,
    /// For internal errors: an id to quote, logged with the cause.
    pub incident: Option<String>,
}

impl AppError {
    pub fn new(code: Code) -> Self {
        AppError {
            code,
            fields: None,
            incident: None,
        }
    }
    pub fn fields(fields: FieldErrors) -> Self {
        AppError {
            code: Code::ValidationFailed,
            fields: Some(fields),
            incident: None,
        }
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let incident = shanzhi_secure::token::random_token()
            .chars()
            .take(10)
            .collect::<String>();
        tracing::error!(incident = %incident, "internal error: {cause}");
        AppError {
            code: Code::Internal,
            fields: None,
            incident: Some(incident),
        }
    }
    pub fn message(&self) -> String {
        match &self.incident {
            Some(id) => format!("{}(错误编号 {id},可告知管理员)", self.code.message()),
            None => self.code.message().to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::new(Code::NotFound),
            StoreError::Fields(f) => AppError::fields(f),
            StoreError::Refused(c) => AppError::new(c),
            other => AppError::internal(other),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(f: FieldErrors) -> Self {
        AppError::fields(f)
    }
}

pub type CaseResult<T> = Result<T, AppError>;

impl AppError {
    /// The per-field errors of a validation failure (to show beside the form), or the error itself.
    pub fn into_fields(self) -> Result<FieldErrors, AppError> {
        match self.fields {
            Some(f) => Ok(f),
            None => Err(self),
        }
    }
}

//! Form bodies. `Form` parses `application/x-www-form-urlencoded` (repeated keys allowed) and rejects the request
//! unless its `_csrf` field matches the CSRF token derived from the browser's session (or, before login, its
//! pre-session id) by [`crate::middleware::csrf_cookie`], so every state-changing page form is protected.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use shanzhi_domain::Code;

use crate::error::AppError;
use crate::error::UiError;
use crate::middleware::CsrfToken;

const MAX_FORM_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    pub fn opt(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name).as_str(), "on" | "true" | "1")
    }
}

/// Checks the token: `_csrf` (form field or query) must equal the request's session-derived CSRF token.
pub fn csrf_ok(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && shanzhi_secure::token::ct_eq(expected, submitted)
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let expected = req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        // Refuse requests a browser marks as cross-site outright.
        if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
            return Err(UiError(AppError::new(Code::CsrfRejected)));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| UiError(AppError::new(Code::BadRequest)))?;
        if bytes.len() > MAX_FORM_BYTES {
            return Err(UiError(AppError::new(Code::TooManyFields)));
        }
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(&bytes).into_owned().collect();
        if pairs.len() > 500 {
            return Err(UiError(AppError::new(Code::TooManyFields)));
        }
        // The one text rule (shanzhi_domain::text): controls refused, NFC, trimmed (passwords are not).
        let pairs = crate::extract::clean_pairs(pairs).map_err(|c| UiError(AppError::new(c)))?;
        let form = Form(pairs);
        if !csrf_ok(&expected, &form.get("_csrf")) {
            return Err(UiError(AppError::new(Code::CsrfRejected)));
        }
        Ok(form)
    }
}

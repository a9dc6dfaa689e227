//! Form bodies. `Form` parses `application/x-www-form-urlencoded` (repeated keys allowed) and rejects the request
//! unless its `_csrf` field matches the browser's CSRF cookie, so every state-changing page form is protected.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use shanzhi_domain::Code;

use crate::error::AppError;
use crate::middleware::{CSRF_COOKIE, cookie};
use crate::ui::UiError;

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

/// Checks the double-submit token: `_csrf` (form field or query) must equal the CSRF cookie.
pub fn csrf_ok(headers: &axum::http::HeaderMap, submitted: &str) -> bool {
    match cookie(headers, CSRF_COOKIE) {
        Some(c) if !c.is_empty() => shanzhi_secure::token::ct_eq(&c, submitted),
        _ => false,
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
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
        if !csrf_ok(&headers, &form.get("_csrf")) {
            return Err(UiError(AppError::new(Code::CsrfRejected)));
        }
        Ok(form)
    }
}

//! Errors as users see them: the same stable code and Chinese message in the JSON API and on pages. A 500 is
//! logged once, here, with an id the user can quote.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shanzhi_domain::Code;

pub use shanzhi_cases::AppError;

/// The HTTP status of an error code, the same for pages and API.
pub trait HttpStatus {
    fn status(&self) -> StatusCode;
}

impl HttpStatus for AppError {
    fn status(&self) -> StatusCode {
        match self.code {
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Forbidden | Code::CsrfRejected => StatusCode::FORBIDDEN,
            Code::Unauthenticated
            | Code::InvalidCredentials
            | Code::SessionExpired
            | Code::TotpRequired
            | Code::TotpInvalid
            | Code::TotpEnrollmentRequired
            | Code::ActivationFailed
            | Code::ActivationCodeExpired
            | Code::SmsCodeInvalid => StatusCode::UNAUTHORIZED,
            Code::AccountLocked | Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::PasswordChangeRequired | Code::AccountDisabled => StatusCode::FORBIDDEN,
            Code::Conflict
            | Code::AlreadyRegistered
            | Code::TransferAlreadyPending
            | Code::IllegalTransition
            | Code::RoundOverlap
            | Code::AlreadyActivated
            | Code::RemindedRecently
            | Code::MemberAlreadyRegistered => StatusCode::CONFLICT,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::BadRequest | Code::TooManyFields | Code::InvalidCharacters => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_credit_code`.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    /// Per-field errors of a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// The JSON form: `{"error":{"code":"…","message":"…"}}`.
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let fields = e
            .fields
            .as_ref()
            .map(|f| {
                f.0.iter()
                    .map(|x| FieldErrorBody {
                        field: x.field.to_string(),
                        code: x.code.as_str().to_string(),
                        message: x.message.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A validation failure with a single field reports that field's own code (e.g. invalid_credit_code).
        let code = match &e.fields {
            Some(f) if f.0.len() == 1 => f.0[0].code,
            _ => e.code,
        };
        let message = if code == e.code {
            e.message()
        } else {
            code.message().to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.as_str().to_string(),
                message,
                fields,
            },
        };
        (e.status(), Json(body)).into_response()
    }
}

// ------------------------------------------------------------------ errors as pages

/// An error shown as a page.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl<E: Into<AppError>> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError(e.into())
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    code: &'static str,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        use askama::Template;
        use axum::response::{Html, Redirect};
        let e = self.0;
        if matches!(e.code, Code::Unauthenticated | Code::SessionExpired) {
            let to = if e.code == Code::SessionExpired {
                "/login?expired=1"
            } else {
                "/login"
            };
            return Redirect::to(to).into_response();
        }
        let page = ErrorPage {
            status: e.status().as_u16(),
            code: e.code.as_str(),
            message: e.message(),
        };
        match page.render() {
            Ok(html) => (e.status(), Html(html)).into_response(),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, e.message()).into_response(),
        }
    }
}

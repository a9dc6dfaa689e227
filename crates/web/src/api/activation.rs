//! Getting in (issue 8.1) through the API: a member on a roster activates their own account with name, mobile,
//! the district's factor and a new password, and receives a bearer token as after a login. Same use case as the
//! `/activate` page. When the district asks for an SMS code (setting `activation_sms`), a first call to
//! `/api/v1/activation/check` checks the roster and sends the code; the activation then carries it as `sms_code`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use shanzhi_domain::activation::ActivationInput;
use shanzhi_store::SessionKind;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, Body, LoginResponse};
use crate::AppState;
use crate::auth::client_addr;
use crate::error::ErrorBody;

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(activate)).routes(routes!(check))
}

#[derive(Deserialize, ToSchema)]
struct ActivationRequest {
    /// The name on the roster.
    name: String,
    /// The mobile registered on the member record.
    mobile: String,
    /// The last six characters of the ID number (when the district allows it and one is on file), or the
    /// eight-character activation code from the activation sheet.
    factor: String,
    /// The new password (at least 8 characters from three of: lower case, upper case, digits, symbols).
    password: String,
    /// The new password again.
    confirm: String,
    /// The 6-digit code sent by SMS after `/api/v1/activation/check`; required when the district asks for SMS codes
    /// (otherwise ignored).
    #[serde(default)]
    sms_code: String,
}

#[derive(Deserialize, ToSchema)]
struct ActivationCheck {
    /// The name on the roster.
    name: String,
    /// The mobile registered on the member record.
    mobile: String,
    /// The last six characters of the ID number, or the activation code (as for the activation).
    factor: String,
}

#[derive(Serialize, ToSchema)]
struct ActivationChecked {
    /// A 6-digit code was sent by SMS to the mobile (the district asks for one); pass it as `sms_code`. It works
    /// once, for 5 minutes and at most 5 wrong entries. Calling again sends a new code (at most one a minute and
    /// five an hour per mobile, and a limited number per client address).
    sms_code_sent: bool,
}

/// Step 1 of an activation: check name + mobile + factor against the roster and, when the district asks for an
/// SMS code, send one to the mobile (calling again sends a new one). Same answers as the activation.
#[utoipa::path(post, path = "/api/v1/activation/check", tag = "auth", request_body = ActivationCheck,
    responses((status = 200, body = ActivationChecked),
        (status = 401, description = "No member matches (`activation_failed`), or the right code has expired (`activation_code_expired`)", body = ErrorBody),
        (status = 409, description = "The member has an account already (`already_activated`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts, or SMS codes sent too often for this mobile or from this address (`rate_limited`)", body = ErrorBody)))]
async fn check(
    State(state): State<AppState>,
    parts: Parts,
    Body(req): Body<ActivationCheck>,
) -> Result<Json<ActivationChecked>, ApiError> {
    let input = ActivationInput {
        name: req.name,
        mobile: req.mobile,
        factor: req.factor,
    };
    let client = client_addr(&parts);
    let sent = state
        .cases
        .activation()
        .check(&input, client.as_deref())
        .await?;
    Ok(Json(ActivationChecked {
        sms_code_sent: sent,
    }))
}

/// Activate one's own account from the roster and receive a bearer token. Every mismatch answers the same
/// `activation_failed`; failures are limited per mobile and per client address (`rate_limited`). When the district
/// asks for an SMS code, `sms_code` must be the code sent by `/api/v1/activation/check`.
#[utoipa::path(post, path = "/api/v1/activation", tag = "auth", request_body = ActivationRequest,
    responses((status = 201, body = LoginResponse),
        (status = 401, description = "No member matches (`activation_failed`), the right code has expired (`activation_code_expired`), or the SMS code is wrong, expired, used or worn out (`sms_code_invalid`)", body = ErrorBody),
        (status = 409, description = "The member has an account already (`already_activated`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this mobile or from this address (`rate_limited`)", body = ErrorBody)))]
async fn activate(
    State(state): State<AppState>,
    parts: Parts,
    Body(req): Body<ActivationRequest>,
) -> Result<(StatusCode, Json<LoginResponse>), ApiError> {
    let input = ActivationInput {
        name: req.name,
        mobile: req.mobile,
        factor: req.factor,
    };
    let client = client_addr(&parts);
    let activated = state
        .cases
        .activation()
        .activate(
            &input,
            &req.password,
            &req.confirm,
            &req.sms_code,
            client.as_deref(),
            &*state.hasher,
        )
        .await?;
    let token = crate::auth::open_session(&state, activated.account_id, SessionKind::Api).await?;
    Ok((
        StatusCode::CREATED,
        Json(LoginResponse {
            token,
            idle_timeout: shanzhi_domain::password::SESSION_IDLE_MINUTES * 60,
        }),
    ))
}

//! JSON endpoints for 报到接收 by members (志愿式): rounds, registrations (submit, accept, return, withdraw,
//! transfer, confirm), receipts and a unit's registration rate — the same rules and scope as the pages.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shanzhi_domain::registration::{RegistrationInput, RoundInput};

use shanzhi_domain::{PlaceId, RegistrationId, RoundId, UnitId};
use shanzhi_store::Page;
use shanzhi_store::registration::{
    Receipt, Registration, RegistrationFilter, RegistrationHistoryRow, Round, UnitRegistrationRate,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiCtx, ApiResult, Body, Created, Paging};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_rounds, open_round))
        .routes(routes!(close_round))
        .routes(routes!(list_registrations, submit_registration))
        .routes(routes!(get_registration))
        .routes(routes!(accept_registration))
        .routes(routes!(return_registration))
        .routes(routes!(withdraw_registration))
        .routes(routes!(transfer_registration))
        .routes(routes!(confirm_registration))
        .routes(routes!(registration_receipt))
        .routes(routes!(unit_registration_rate))
}

/// Registration rounds, newest first.
#[utoipa::path(get, path = "/api/v1/rounds", tag = "registration", security(("bearer" = [])),
    responses((status = 200, body = Vec<Round>), (status = 403, body = ErrorBody)))]
async fn list_rounds(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> ApiResult<Vec<Round>> {
    Ok(Json(state.cases.registration().rounds(&ctx).await?))
}

/// Open a registration round (district admin; one open round at a time). `carry_over` copies the last round's
/// accepted registrations as `carried`, each for its owner to confirm or withdraw.
#[utoipa::path(post, path = "/api/v1/rounds", tag = "registration", security(("bearer" = [])), request_body = RoundInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn open_round(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<RoundInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.cases.registration().open_round(&ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Serialize, ToSchema)]
struct Closed {
    /// Pending registrations that expired with the round (recorded, not deleted).
    expired: u64,
}

/// Close an open round; its pending registrations expire.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/close", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Closed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close_round(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Closed> {
    let expired = state
        .cases
        .registration()
        .close_round(&ctx, RoundId(id))
        .await?;
    Ok(Json(Closed { expired }))
}

/// Registrations in scope: a community's queue, a town's or district's subtree (read-only), a grid leader's
/// grid, a unit's members, a member's own.
#[utoipa::path(get, path = "/api/v1/registrations", tag = "registration", security(("bearer" = [])),
    params(RegistrationFilter, Paging),
    responses((status = 200, body = Page<Registration>), (status = 403, body = ErrorBody)))]
async fn list_registrations(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<RegistrationFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Registration>> {
    Ok(Json(
        state.cases.registration().list(&ctx, &f, p.req()).await?,
    ))
}

/// The calling member registers with the community where they live, in the open round. At most one active
/// registration per round: a second answers 409 `already_registered`, whatever the concurrency.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "registration", security(("bearer" = [])),
    request_body = RegistrationInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn submit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<RegistrationInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.cases.registration().submit(&ctx, &b, None).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Serialize, ToSchema)]
struct RegistrationDetail {
    registration: Registration,
    /// This registration's steps, with the member's other registrations of the round (both sides of a transfer).
    history: Vec<RegistrationHistoryRow>,
}

/// One registration with its history.
#[utoipa::path(get, path = "/api/v1/registrations/{id}", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = RegistrationDetail), (status = 404, body = ErrorBody)))]
async fn get_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<RegistrationDetail> {
    let cases = state.cases.registration();
    let registration = cases.get(&ctx, RegistrationId(id)).await?;
    let history = cases.history(&ctx, RegistrationId(id)).await?;
    Ok(Json(RegistrationDetail {
        registration,
        history,
    }))
}

#[derive(Deserialize, ToSchema)]
struct AcceptBody {
    /// A grid of the registration's community (网格式注入).
    grid_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct ReceiptNo {
    receipt_no: String,
}

/// The community accepts a submitted registration and places the member in one of its grids; returns the
/// receipt number.
#[utoipa::path(post, path = "/api/v1/registrations/{id}/accept", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AcceptBody,
    responses((status = 200, body = ReceiptNo), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn accept_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<AcceptBody>,
) -> ApiResult<ReceiptNo> {
    let receipt_no = state
        .cases
        .registration()
        .accept(&ctx, RegistrationId(id), b.grid_id.map(PlaceId))
        .await?;
    Ok(Json(ReceiptNo { receipt_no }))
}

#[derive(Deserialize, ToSchema)]
struct ReturnBody {
    /// Shown to the member; required.
    #[serde(default)]
    reason: String,
}

async fn reload(state: &AppState, ctx: &crate::auth::Ctx, id: i64) -> ApiResult<Registration> {
    Ok(Json(
        state
            .cases
            .registration()
            .get(ctx, RegistrationId(id))
            .await?,
    ))
}

/// The community returns a submitted registration with a reason (422 `reason_required` without one).
#[utoipa::path(post, path = "/api/v1/registrations/{id}/return", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ReturnBody,
    responses((status = 200, body = Registration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn return_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<ReturnBody>,
) -> ApiResult<Registration> {
    state
        .cases
        .registration()
        .return_(&ctx, RegistrationId(id), &b.reason)
        .await?;
    reload(&state, &ctx, id).await
}

/// The owner withdraws a submitted, carried or accepted registration (recorded, not deleted).
#[utoipa::path(post, path = "/api/v1/registrations/{id}/withdraw", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Registration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Registration> {
    state
        .cases
        .registration()
        .withdraw(&ctx, RegistrationId(id))
        .await?;
    reload(&state, &ctx, id).await
}

#[derive(Deserialize, ToSchema)]
struct TransferBody {
    /// The community (村居) the member moved to.
    community_id: i64,
}

/// Transfer an accepted registration to another community (the owner, or an admin of the old community): the
/// old one becomes `transferred_out`, a new one waits in the new community's queue. Returns the new id.
#[utoipa::path(post, path = "/api/v1/registrations/{id}/transfer", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TransferBody,
    responses((status = 201, body = Created), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn transfer_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<TransferBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let new_id = state
        .cases
        .registration()
        .transfer(&ctx, RegistrationId(id), PlaceId(b.community_id))
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: new_id.0 })))
}

/// The owner confirms a registration carried over from the last round; returns this round's receipt number.
#[utoipa::path(post, path = "/api/v1/registrations/{id}/confirm", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ReceiptNo), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn confirm_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ReceiptNo> {
    let receipt_no = state
        .cases
        .registration()
        .confirm(&ctx, RegistrationId(id))
        .await?;
    Ok(Json(ReceiptNo { receipt_no }))
}

/// The receipt (回执) of an accepted registration: for the member, their home unit's admin and the places
/// above the grid. 404 until accepted.
#[utoipa::path(get, path = "/api/v1/registrations/{id}/receipt", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Receipt), (status = 404, body = ErrorBody)))]
async fn registration_receipt(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Receipt> {
    Ok(Json(
        state
            .cases
            .registration()
            .receipt(&ctx, RegistrationId(id))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RateQuery {
    /// Defaults to the open round, else the latest.
    round_id: Option<i64>,
}

/// A home unit's registration rate in a round: who registered where, who has not.
#[utoipa::path(get, path = "/api/v1/units/{id}/registration-rate", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path), RateQuery),
    responses((status = 200, body = UnitRegistrationRate), (status = 404, body = ErrorBody)))]
async fn unit_registration_rate(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RateQuery>,
) -> ApiResult<UnitRegistrationRate> {
    Ok(Json(
        state
            .cases
            .registration()
            .unit_rate(&ctx, UnitId(id), q.round_id.map(RoundId))
            .await?,
    ))
}

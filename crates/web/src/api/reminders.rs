//! JSON endpoints for 未报到名单 (per unit, per place), its export, reminders (提醒报到 / 提醒全部) and the
//! caller's inbox (消息) — the same use cases as the pages.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shanzhi_domain::{MemberId, NotificationId, PlaceId, UnitId};
use shanzhi_sheets::Format;
use shanzhi_store::Page;
use shanzhi_store::notifications::{
    Notification, RemindOutcome, UnregisteredFilter, UnregisteredList, UnregisteredOf,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::imports::FileBytes;
use super::{ApiCtx, ApiResult, Body, Paging};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(unit_unregistered))
        .routes(routes!(unit_unregistered_xlsx))
        .routes(routes!(unit_remind))
        .routes(routes!(unit_remind_all))
        .routes(routes!(place_unregistered))
        .routes(routes!(place_unregistered_xlsx))
        .routes(routes!(place_remind))
        .routes(routes!(place_remind_all))
        .routes(routes!(list_messages))
        .routes(routes!(read_message))
        .routes(routes!(read_all_messages))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RevealQuery {
    /// Full mobiles (roles that may reveal; audited). Default false.
    reveal: Option<bool>,
}

async fn list(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    of: UnregisteredOf,
    f: &UnregisteredFilter,
    p: &Paging,
    r: &RevealQuery,
) -> ApiResult<UnregisteredList> {
    Ok(Json(
        state
            .cases
            .reminders()
            .unregistered(ctx, of, f, p.req(), r.reveal.unwrap_or(false))
            .await?,
    ))
}

/// Who of a unit has not registered in the open round (the unit's admin and the district see every name; a
/// town or community where the unit is located only those who live in its area). Mobiles masked unless
/// `reveal=true` for a role that may reveal (audited).
#[utoipa::path(get, path = "/api/v1/units/{id}/unregistered", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path), UnregisteredFilter, Paging, RevealQuery),
    responses((status = 200, body = UnregisteredList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn unit_unregistered(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<UnregisteredFilter>,
    ApiQuery(p): ApiQuery<Paging>,
    ApiQuery(r): ApiQuery<RevealQuery>,
) -> ApiResult<UnregisteredList> {
    list(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), &f, &p, &r).await
}

/// Who of the members living in a place (community, or a town's communities) has not registered in the open round.
#[utoipa::path(get, path = "/api/v1/places/{id}/unregistered", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path), UnregisteredFilter, Paging, RevealQuery),
    responses((status = 200, body = UnregisteredList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn place_unregistered(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<UnregisteredFilter>,
    ApiQuery(p): ApiQuery<Paging>,
    ApiQuery(r): ApiQuery<RevealQuery>,
) -> ApiResult<UnregisteredList> {
    list(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), &f, &p, &r).await
}

async fn xlsx(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    of: UnregisteredOf,
    f: &UnregisteredFilter,
) -> Result<Response, ApiError> {
    let file = state.cases.reminders().export(ctx, of, f).await?;
    Ok(crate::ui::imports::download(
        Format::Xlsx,
        &file.file_name,
        file.bytes,
    ))
}

/// A unit's 未报到名单 as .xlsx (masked unless the role may reveal; then the export is audited).
#[utoipa::path(get, path = "/api/v1/units/{id}/unregistered.xlsx", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path), UnregisteredFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = FileBytes),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unit_unregistered_xlsx(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<UnregisteredFilter>,
) -> Result<Response, ApiError> {
    xlsx(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), &f).await
}

/// A place's 未报到名单 as .xlsx (masked unless the role may reveal; then the export is audited).
#[utoipa::path(get, path = "/api/v1/places/{id}/unregistered.xlsx", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path), UnregisteredFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = FileBytes),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn place_unregistered_xlsx(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<UnregisteredFilter>,
) -> Result<Response, ApiError> {
    xlsx(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), &f).await
}

#[derive(Deserialize, ToSchema)]
struct RemindBody {
    /// The member to remind (one of the list).
    member_id: i64,
}

#[derive(Deserialize, ToSchema, Default)]
struct RemindAllBody {
    /// Only members whose name contains this (as in the list's search).
    #[serde(default)]
    q: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Reminded {
    reminded: bool,
}

async fn remind(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    of: UnregisteredOf,
    b: RemindBody,
) -> ApiResult<Reminded> {
    state
        .cases
        .reminders()
        .remind(ctx, of, Some(MemberId(b.member_id)))
        .await?;
    Ok(Json(Reminded { reminded: true }))
}

/// 提醒报到: a polite message in the member's inbox. `reminded_recently` (409) when the member was reminded in the
/// last 24 h, `member_already_registered` (409) when they have registered meanwhile.
#[utoipa::path(post, path = "/api/v1/units/{id}/unregistered/remind", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemindBody,
    responses((status = 200, body = Reminded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unit_remind(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<RemindBody>,
) -> ApiResult<Reminded> {
    remind(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), b).await
}

/// 提醒报到 for a member living in a place (see the unit variant).
#[utoipa::path(post, path = "/api/v1/places/{id}/unregistered/remind", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemindBody,
    responses((status = 200, body = Reminded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn place_remind(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<RemindBody>,
) -> ApiResult<Reminded> {
    remind(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), b).await
}

async fn remind_all(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    of: UnregisteredOf,
    b: RemindAllBody,
) -> ApiResult<RemindOutcome> {
    let f = UnregisteredFilter { q: b.q, sort: None };
    Ok(Json(state.cases.reminders().remind_all(ctx, of, &f).await?))
}

/// 提醒全部: reminds every unregistered member of the unit's list not reminded in the last 24 h.
#[utoipa::path(post, path = "/api/v1/units/{id}/unregistered/remind-all", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemindAllBody,
    responses((status = 200, body = RemindOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn unit_remind_all(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<RemindAllBody>,
) -> ApiResult<RemindOutcome> {
    remind_all(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), b).await
}

/// 提醒全部 for the members living in a place.
#[utoipa::path(post, path = "/api/v1/places/{id}/unregistered/remind-all", tag = "registration", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemindAllBody,
    responses((status = 200, body = RemindOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn place_remind_all(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<RemindAllBody>,
) -> ApiResult<RemindOutcome> {
    remind_all(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), b).await
}

/// The caller's messages (消息), newest first.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])), params(Paging),
    responses((status = 200, body = Page<Notification>)))]
async fn list_messages(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Notification>> {
    Ok(Json(state.cases.reminders().inbox(&ctx, p.req()).await?))
}

/// Mark one of the caller's messages read (another's: 404).
#[utoipa::path(post, path = "/api/v1/messages/{id}/read", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Notification), (status = 404, body = ErrorBody)))]
async fn read_message(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Notification> {
    Ok(Json(
        state
            .cases
            .reminders()
            .read(&ctx, NotificationId(id))
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
struct MarkedRead {
    marked: u64,
}

/// Mark all of the caller's messages read.
#[utoipa::path(post, path = "/api/v1/messages/read-all", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead)))]
async fn read_all_messages(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> ApiResult<MarkedRead> {
    Ok(Json(MarkedRead {
        marked: state.cases.reminders().read_all(&ctx).await?,
    }))
}

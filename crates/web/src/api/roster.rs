//! JSON endpoints for 待确认成员: the unit admin's queue of members a town or community named for their unit, and
//! the decision on them — the same use cases as the page (`ui/roster.rs`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shanzhi_domain::MemberId;
use shanzhi_store::Page;
use shanzhi_store::orgs::Member;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiCtx, ApiResult, Body, Paging};
use crate::AppState;
use crate::error::ErrorBody;
use crate::extract::ApiQuery;

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_unit_roster))
        .routes(routes!(confirm_unit_roster))
        .routes(routes!(decline_unit_roster))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RosterQuery {
    /// Name contains.
    q: Option<String>,
}

/// Members waiting for the caller's unit to confirm them (unit admins only), oldest first.
#[utoipa::path(get, path = "/api/v1/unit-roster", tag = "members", security(("bearer" = [])),
    params(RosterQuery, Paging),
    responses((status = 200, body = Page<Member>), (status = 403, body = ErrorBody)))]
async fn list_unit_roster(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(q): ApiQuery<RosterQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Member>> {
    Ok(Json(
        state
            .cases
            .members()
            .pending(&ctx.caller, &q.q, p.req())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct RosterDecision {
    /// Members waiting for the caller's unit (1 to 200); others are left alone.
    #[serde(default)]
    ids: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
struct Decided {
    /// How many of the members were decided.
    decided: usize,
}

fn ids(b: &RosterDecision) -> Vec<MemberId> {
    b.ids.iter().copied().map(MemberId).collect()
}

/// The unit admin confirms members waiting for their unit: they count for the unit (member count, 报到率) from
/// now on. `not_found` when none of them waits for the caller's unit.
#[utoipa::path(post, path = "/api/v1/unit-roster/confirm", tag = "members", security(("bearer" = [])),
    request_body = RosterDecision,
    responses((status = 200, body = Decided), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm_unit_roster(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<RosterDecision>,
) -> ApiResult<Decided> {
    let decided = state
        .cases
        .members()
        .decide_unit_link(&ctx.caller, &ids(&b), true)
        .await?;
    Ok(Json(Decided { decided }))
}

/// The unit admin declines members waiting for their unit: they leave the unit's roster; the member records stay
/// with their residence. `not_found` when none of them waits for the caller's unit.
#[utoipa::path(post, path = "/api/v1/unit-roster/decline", tag = "members", security(("bearer" = [])),
    request_body = RosterDecision,
    responses((status = 200, body = Decided), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decline_unit_roster(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<RosterDecision>,
) -> ApiResult<Decided> {
    let decided = state
        .cases
        .members()
        .decide_unit_link(&ctx.caller, &ids(&b), false)
        .await?;
    Ok(Json(Decided { decided }))
}

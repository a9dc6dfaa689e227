//! JSON endpoints for the 组团式 side of 报到接收: unit registrations, resources, grid partners, pairing
//! agreements, alliances and joint projects. Same actions and scope as the pages (`ui/pairing.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shanzhi_domain::registration::{
    ActivityInput, AllianceInput, PairingInput, PairingStatus, ProjectGrade, ProjectInput,
    ResourceInput, UnitRegistrationInput,
};
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{
    ActivityId, AllianceId, Code, PairingId, PlaceId, ProjectId, ResourceId, UnitId,
    UnitRegistrationId,
};
use shanzhi_store::Page;
use shanzhi_store::registration::pairing::{
    Alliance, Pairing, PairingFilter, PairingProgress, Project, ProjectActivity, ProjectFilter,
};
use shanzhi_store::registration::units::{
    GridPartner, Resource, UnitRegistration, UnitRegistrationFilter,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiCtx, ApiResult, Body, Created, Paging};
use crate::AppState;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_unit_registrations, submit_unit_registration))
        .routes(routes!(get_unit_registration))
        .routes(routes!(accept_unit_registration))
        .routes(routes!(return_unit_registration))
        .routes(routes!(withdraw_unit_registration))
        .routes(routes!(resubmit_unit_registration))
        .routes(routes!(list_unit_resources, create_unit_resource))
        .routes(routes!(update_resource, delete_resource))
        .routes(routes!(
            list_grid_partners,
            link_grid_partner,
            unlink_grid_partner
        ))
        .routes(routes!(list_pairings, create_pairing))
        .routes(routes!(get_pairing))
        .routes(routes!(set_pairing_status))
        .routes(routes!(list_alliances, create_alliance))
        .routes(routes!(add_alliance_unit))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_project_activities, add_project_activity))
        .routes(routes!(mark_activity_done))
        .routes(routes!(grade_project))
}

fn created(id: i64) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id }))
}

fn own_unit(ctx: &crate::auth::Ctx) -> Result<UnitId, ApiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    match ctx.scope {
        Scope::Unit(u) => Ok(u),
        _ => Err(ApiError(AppError::new(Code::Forbidden))),
    }
}

// ------------------------------------------------------------------ unit registrations

/// Unit registrations in scope (place admins: their subtree; unit admins: their own), newest first.
#[utoipa::path(get, path = "/api/v1/unit-registrations", tag = "unit-registrations", security(("bearer" = [])),
    params(UnitRegistrationFilter, Paging),
    responses((status = 200, body = Page<UnitRegistration>), (status = 403, body = ErrorBody)))]
async fn list_unit_registrations(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<UnitRegistrationFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<UnitRegistration>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(
        state
            .store
            .list_unit_registrations(&ctx.scope, &f, p.req())
            .await?,
    ))
}

/// The unit admin registers their unit with a town or community in the open round.
#[utoipa::path(post, path = "/api/v1/unit-registrations", tag = "unit-registrations", security(("bearer" = [])),
    request_body = UnitRegistrationInput,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<UnitRegistrationInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let unit = own_unit(&ctx)?;
    let v = b.validate().map_err(AppError::fields)?;
    let id = state
        .store
        .submit_unit_registration(&ctx.actor, &ctx.scope, unit, &v)
        .await?;
    Ok(created(id.0))
}

/// One unit registration.
#[utoipa::path(get, path = "/api/v1/unit-registrations/{id}", tag = "unit-registrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UnitRegistration), (status = 404, body = ErrorBody)))]
async fn get_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<UnitRegistration> {
    ctx.require(Action::PairingView)?;
    Ok(Json(
        state
            .store
            .get_unit_registration(&ctx.scope, UnitRegistrationId(id))
            .await?,
    ))
}

async fn reg_after(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    id: i64,
) -> ApiResult<UnitRegistration> {
    Ok(Json(
        state
            .store
            .get_unit_registration(&ctx.scope, UnitRegistrationId(id))
            .await?,
    ))
}

/// The town or community accepts a unit registration.
#[utoipa::path(post, path = "/api/v1/unit-registrations/{id}/accept", tag = "unit-registrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UnitRegistration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<UnitRegistration> {
    ctx.require(Action::UnitRegistrationReview)?;
    state
        .store
        .accept_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    reg_after(&state, &ctx, id).await
}

#[derive(Deserialize, ToSchema)]
struct ReturnBody {
    /// Required: why the registration is returned (the unit sees it).
    #[serde(default)]
    reason: String,
}

/// The town or community returns a unit registration with a reason (`reason_required` when blank).
#[utoipa::path(post, path = "/api/v1/unit-registrations/{id}/return", tag = "unit-registrations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ReturnBody,
    responses((status = 200, body = UnitRegistration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn return_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<ReturnBody>,
) -> ApiResult<UnitRegistration> {
    ctx.require(Action::UnitRegistrationReview)?;
    state
        .store
        .return_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id), &b.reason)
        .await?;
    reg_after(&state, &ctx, id).await
}

/// The unit withdraws its registration (kept on record).
#[utoipa::path(post, path = "/api/v1/unit-registrations/{id}/withdraw", tag = "unit-registrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UnitRegistration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<UnitRegistration> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state
        .store
        .withdraw_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    reg_after(&state, &ctx, id).await
}

/// The unit resubmits a returned registration.
#[utoipa::path(post, path = "/api/v1/unit-registrations/{id}/resubmit", tag = "unit-registrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UnitRegistration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resubmit_unit_registration(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<UnitRegistration> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state
        .store
        .resubmit_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    reg_after(&state, &ctx, id).await
}

// ------------------------------------------------------------------ resources

/// A unit's active resources (资源清单).
#[utoipa::path(get, path = "/api/v1/units/{id}/resources", tag = "resources", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Resource>), (status = 404, body = ErrorBody)))]
async fn list_unit_resources(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<Resource>> {
    ctx.require(Action::UnitView)?;
    state.store.get_unit(&ctx.scope, UnitId(id)).await?;
    Ok(Json(
        state
            .store
            .list_resources(&ctx.scope, Some(UnitId(id)))
            .await?,
    ))
}

/// Add a resource to the caller's unit.
#[utoipa::path(post, path = "/api/v1/units/{id}/resources", tag = "resources", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ResourceInput,
    responses((status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_unit_resource(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<ResourceInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state.store.get_unit(&ctx.scope, UnitId(id)).await?;
    let v = b.validate().map_err(AppError::fields)?;
    let rid = state
        .store
        .save_resource(&ctx.actor, &ctx.scope, UnitId(id), None, &v)
        .await?;
    Ok(created(rid.0))
}

/// Update a resource.
#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ResourceInput,
    responses((status = 200, body = Resource), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_resource(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<ResourceInput>,
) -> ApiResult<Resource> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    let current = state.store.get_resource(&ctx.scope, ResourceId(id)).await?;
    let v = b.validate().map_err(AppError::fields)?;
    state
        .store
        .save_resource(
            &ctx.actor,
            &ctx.scope,
            UnitId(current.unit_id),
            Some(ResourceId(id)),
            &v,
        )
        .await?;
    Ok(Json(
        state.store.get_resource(&ctx.scope, ResourceId(id)).await?,
    ))
}

/// Retire a resource (it leaves the lists and stays on record).
#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_resource(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state
        .store
        .delete_resource(&ctx.actor, &ctx.scope, ResourceId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ grid partners

/// Grid partners (网格合伙人) in scope.
#[utoipa::path(get, path = "/api/v1/grid-partners", tag = "grid-partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<GridPartner>), (status = 403, body = ErrorBody)))]
async fn list_grid_partners(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> ApiResult<Vec<GridPartner>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(state.store.list_grid_partners(&ctx.scope).await?))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
struct PartnerLink {
    unit_id: i64,
    grid_id: i64,
}

/// Link a unit with an accepted registration to a grid in the caller's subtree.
#[utoipa::path(post, path = "/api/v1/grid-partners", tag = "grid-partners", security(("bearer" = [])),
    request_body = PartnerLink,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn link_grid_partner(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<PartnerLink>,
) -> Result<StatusCode, ApiError> {
    ctx.require(Action::GridPartnerManage)?;
    state
        .store
        .link_grid_partner(
            &ctx.actor,
            &ctx.scope,
            UnitId(b.unit_id),
            PlaceId(b.grid_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a grid partner link (`?unit_id=&grid_id=`).
#[utoipa::path(delete, path = "/api/v1/grid-partners", tag = "grid-partners", security(("bearer" = [])),
    params(PartnerLink),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unlink_grid_partner(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(q): ApiQuery<PartnerLink>,
) -> Result<StatusCode, ApiError> {
    ctx.require(Action::GridPartnerManage)?;
    state
        .store
        .unlink_grid_partner(
            &ctx.actor,
            &ctx.scope,
            UnitId(q.unit_id),
            PlaceId(q.grid_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ pairings

/// Pairing agreements (结对签约) in scope, newest first.
#[utoipa::path(get, path = "/api/v1/pairings", tag = "pairings", security(("bearer" = [])),
    params(PairingFilter, Paging),
    responses((status = 200, body = Page<Pairing>), (status = 403, body = ErrorBody)))]
async fn list_pairings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<PairingFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Pairing>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(
        state.store.list_pairings(&ctx.scope, &f, p.req()).await?,
    ))
}

/// Draft a pairing agreement between a unit and a community in the caller's subtree.
#[utoipa::path(post, path = "/api/v1/pairings", tag = "pairings", security(("bearer" = [])),
    request_body = PairingInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_pairing(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<PairingInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    ctx.require(Action::PairingManage)?;
    let v = b.validate().map_err(AppError::fields)?;
    let id = state
        .store
        .create_pairing(&ctx.actor, &ctx.scope, &v)
        .await?;
    Ok(created(id.0))
}

#[derive(Serialize, ToSchema)]
struct PairingDetail {
    pairing: Pairing,
    progress: PairingProgress,
}

async fn pairing_detail(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    id: i64,
) -> ApiResult<PairingDetail> {
    Ok(Json(PairingDetail {
        pairing: state.store.get_pairing(&ctx.scope, PairingId(id)).await?,
        progress: state
            .store
            .pairing_progress(&ctx.scope, PairingId(id))
            .await?,
    }))
}

/// One pairing agreement with its progress against targets.
#[utoipa::path(get, path = "/api/v1/pairings/{id}", tag = "pairings", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = PairingDetail), (status = 404, body = ErrorBody)))]
async fn get_pairing(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PairingDetail> {
    ctx.require(Action::PairingView)?;
    pairing_detail(&state, &ctx, id).await
}

#[derive(Deserialize, ToSchema)]
struct StatusBody {
    /// draft | signed | running | ended | renewed
    status: String,
    /// Signing date `YYYY-MM-DD` (when moving to `signed`; today when absent).
    #[serde(default)]
    signed_on: Option<String>,
}

/// Move a pairing along draft → signed → running → ended | renewed; other moves answer 409
/// `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/pairings/{id}/status", tag = "pairings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StatusBody,
    responses((status = 200, body = PairingDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_pairing_status(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<StatusBody>,
) -> ApiResult<PairingDetail> {
    ctx.require(Action::PairingManage)?;
    state.store.get_pairing(&ctx.scope, PairingId(id)).await?;
    let to = PairingStatus::parse(b.status.trim()).ok_or(AppError::new(Code::IllegalTransition))?;
    state
        .store
        .set_pairing_status(
            &ctx.actor,
            &ctx.scope,
            PairingId(id),
            to,
            b.signed_on.as_deref(),
        )
        .await?;
    pairing_detail(&state, &ctx, id).await
}

// ------------------------------------------------------------------ alliances

/// Alliances (党建联盟) in scope with their units.
#[utoipa::path(get, path = "/api/v1/alliances", tag = "alliances", security(("bearer" = [])),
    responses((status = 200, body = Vec<Alliance>), (status = 403, body = ErrorBody)))]
async fn list_alliances(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> ApiResult<Vec<Alliance>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(state.store.list_alliances(&ctx.scope).await?))
}

/// Create an alliance run by a town in the caller's subtree.
#[utoipa::path(post, path = "/api/v1/alliances", tag = "alliances", security(("bearer" = [])),
    request_body = AllianceInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_alliance(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<AllianceInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    ctx.require(Action::PairingManage)?;
    let v = b.validate().map_err(AppError::fields)?;
    let id = state
        .store
        .create_alliance(&ctx.actor, &ctx.scope, &v)
        .await?;
    Ok(created(id.0))
}

#[derive(Deserialize, ToSchema)]
struct AllianceUnitBody {
    unit_id: i64,
}

/// Add a unit to an alliance (adding twice changes nothing).
#[utoipa::path(post, path = "/api/v1/alliances/{id}/units", tag = "alliances", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AllianceUnitBody,
    responses((status = 200, body = Alliance), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_alliance_unit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<AllianceUnitBody>,
) -> ApiResult<Alliance> {
    ctx.require(Action::PairingManage)?;
    state
        .store
        .add_alliance_unit(&ctx.actor, &ctx.scope, AllianceId(id), UnitId(b.unit_id))
        .await?;
    Ok(Json(
        state.store.get_alliance(&ctx.scope, AllianceId(id)).await?,
    ))
}

// ------------------------------------------------------------------ projects

/// Joint party-building projects (党建联建项目) in scope, newest first.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    params(ProjectFilter, Paging),
    responses((status = 200, body = Page<Project>), (status = 403, body = ErrorBody)))]
async fn list_projects(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<ProjectFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<Project>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(
        state.store.list_projects(&ctx.scope, &f, p.req()).await?,
    ))
}

/// Create a joint project between a unit and a community in the caller's subtree.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    request_body = ProjectInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_project(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Body(b): Body<ProjectInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    ctx.require(Action::ProjectManage)?;
    let v = b.validate().map_err(AppError::fields)?;
    let id = state
        .store
        .create_project(&ctx.actor, &ctx.scope, &v)
        .await?;
    Ok(created(id.0))
}

#[derive(Serialize, ToSchema)]
struct ProjectDetail {
    project: Project,
    activities: Vec<ProjectActivity>,
    planned: i64,
    done: i64,
    /// Progress of the pairing agreement the project belongs to, if any.
    pairing_progress: Option<PairingProgress>,
}

async fn project_detail(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    id: i64,
) -> ApiResult<ProjectDetail> {
    let project = state.store.get_project(&ctx.scope, ProjectId(id)).await?;
    let activities = state
        .store
        .list_project_activities(&ctx.scope, ProjectId(id))
        .await?;
    let pairing_progress = match project.pairing_id {
        Some(p) => Some(
            state
                .store
                .pairing_progress(&ctx.scope, PairingId(p))
                .await?,
        ),
        None => None,
    };
    let planned = i64::try_from(activities.len()).unwrap_or(i64::MAX);
    let done = i64::try_from(activities.iter().filter(|a| a.done_on.is_some()).count())
        .unwrap_or(i64::MAX);
    Ok(Json(ProjectDetail {
        project,
        activities,
        planned,
        done,
        pairing_progress,
    }))
}

/// One project with its activities and progress.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProjectDetail), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ProjectDetail> {
    ctx.require(Action::PairingView)?;
    project_detail(&state, &ctx, id).await
}

/// The planned activities of a project, by date.
#[utoipa::path(get, path = "/api/v1/projects/{id}/activities", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ProjectActivity>), (status = 404, body = ErrorBody)))]
async fn list_project_activities(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<ProjectActivity>> {
    ctx.require(Action::PairingView)?;
    Ok(Json(
        state
            .store
            .list_project_activities(&ctx.scope, ProjectId(id))
            .await?,
    ))
}

/// Add a planned activity to a project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/activities", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ActivityInput,
    responses((status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_project_activity(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<ActivityInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    ctx.require(Action::ProjectManage)?;
    state.store.get_project(&ctx.scope, ProjectId(id)).await?;
    let v = b.validate().map_err(AppError::fields)?;
    let aid = state
        .store
        .add_project_activity(&ctx.actor, &ctx.scope, ProjectId(id), &v)
        .await?;
    Ok(created(aid.0))
}

#[derive(Deserialize, ToSchema)]
struct DoneBody {
    /// `YYYY-MM-DD`; today (Shanghai) when absent.
    #[serde(default)]
    done_on: Option<String>,
}

/// Mark an activity done (once; again answers 409 `illegal_transition`).
#[utoipa::path(post, path = "/api/v1/activities/{id}/done", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DoneBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mark_activity_done(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<DoneBody>,
) -> Result<StatusCode, ApiError> {
    ctx.require(Action::ProjectManage)?;
    let done_on = b
        .done_on
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| shanzhi_domain::Timestamp::now().shanghai_date());
    state
        .store
        .mark_activity_done(&ctx.actor, &ctx.scope, ActivityId(id), &done_on)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct GradeBody {
    /// excellent | fair | poor (or 优 / 中 / 差)
    grade: String,
}

/// The community grades a project at its end (once).
#[utoipa::path(post, path = "/api/v1/projects/{id}/grade", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = GradeBody,
    responses((status = 200, body = ProjectDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn grade_project(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
    Body(b): Body<GradeBody>,
) -> ApiResult<ProjectDetail> {
    ctx.require(Action::ProjectGrade)?;
    state.store.get_project(&ctx.scope, ProjectId(id)).await?;
    let grade = ProjectGrade::parse(&b.grade).ok_or(AppError::fields(
        shanzhi_domain::FieldErrors::single("grade", Code::InvalidChoice),
    ))?;
    state
        .store
        .grade_project(&ctx.actor, &ctx.scope, ProjectId(id), grade)
        .await?;
    project_detail(&state, &ctx, id).await
}

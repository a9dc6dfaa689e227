//! JSON endpoints for the 组团式 side of 报到接收: unit registrations, resources, grid partners, pairing
//! agreements, alliances and joint projects. Each handler parses, calls one use case of `shanzhi_cases::pairing`
//! (the same ones the pages call) and renders.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shanzhi_cases::pairing::{PairingWithProgress, ProjectWithActivities};
use shanzhi_domain::registration::{
    ActivityInput, AllianceInput, PairingInput, ProjectInput, ResourceInput, UnitRegistrationInput,
};
use shanzhi_domain::{
    ActivityId, AllianceId, PairingId, PlaceId, ProjectId, ResourceId, UnitId, UnitRegistrationId,
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
use crate::error::{ApiError, ErrorBody};
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
    Ok(Json(
        state
            .cases
            .pairing()
            .unit_registrations(&ctx.caller, &f, p.req())
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
    let id = state
        .cases
        .pairing()
        .submit_unit_registration(&ctx.caller, &b, None)
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
    Ok(Json(
        state
            .cases
            .pairing()
            .unit_registration(&ctx.caller, UnitRegistrationId(id))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .accept_unit_registration(&ctx.caller, UnitRegistrationId(id))
            .await?,
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .return_unit_registration(&ctx.caller, UnitRegistrationId(id), &b.reason)
            .await?,
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .withdraw_unit_registration(&ctx.caller, UnitRegistrationId(id))
            .await?,
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .resubmit_unit_registration(&ctx.caller, UnitRegistrationId(id))
            .await?,
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .unit_resources(&ctx.caller, UnitId(id))
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
    let rid = state
        .cases
        .pairing()
        .create_resource(&ctx.caller, UnitId(id), &b)
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
    Ok(Json(
        state
            .cases
            .pairing()
            .update_resource(&ctx.caller, ResourceId(id), &b)
            .await?,
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
    state
        .cases
        .pairing()
        .delete_resource(&ctx.caller, ResourceId(id))
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
    Ok(Json(
        state.cases.pairing().grid_partners(&ctx.caller).await?,
    ))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    state
        .cases
        .pairing()
        .link_grid_partner(&ctx.caller, UnitId(b.unit_id), PlaceId(b.grid_id))
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
    state
        .cases
        .pairing()
        .unlink_grid_partner(&ctx.caller, UnitId(q.unit_id), PlaceId(q.grid_id))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .pairings(&ctx.caller, &f, p.req())
            .await?,
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
    let id = state
        .cases
        .pairing()
        .create_pairing(&ctx.caller, &b)
        .await?;
    Ok(created(id.0))
}

#[derive(Serialize, ToSchema)]
struct PairingDetail {
    pairing: Pairing,
    progress: PairingProgress,
}

impl From<PairingWithProgress> for PairingDetail {
    fn from(d: PairingWithProgress) -> Self {
        PairingDetail {
            pairing: d.pairing,
            progress: d.progress,
        }
    }
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
    Ok(Json(
        state
            .cases
            .pairing()
            .pairing_detail(&ctx.caller, PairingId(id))
            .await?
            .into(),
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .set_pairing_status(
                &ctx.caller,
                PairingId(id),
                &b.status,
                b.signed_on.as_deref(),
            )
            .await?
            .into(),
    ))
}

// ------------------------------------------------------------------ alliances

/// Alliances (党建联盟) in scope with their units.
#[utoipa::path(get, path = "/api/v1/alliances", tag = "alliances", security(("bearer" = [])),
    responses((status = 200, body = Vec<Alliance>), (status = 403, body = ErrorBody)))]
async fn list_alliances(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> ApiResult<Vec<Alliance>> {
    Ok(Json(state.cases.pairing().alliances(&ctx.caller).await?))
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
    let id = state
        .cases
        .pairing()
        .create_alliance(&ctx.caller, &b)
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
    Ok(Json(
        state
            .cases
            .pairing()
            .add_alliance_unit(&ctx.caller, AllianceId(id), Some(UnitId(b.unit_id)))
            .await?,
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
    Ok(Json(
        state
            .cases
            .pairing()
            .projects(&ctx.caller, &f, p.req())
            .await?,
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
    let id = state
        .cases
        .pairing()
        .create_project(&ctx.caller, &b)
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

impl From<ProjectWithActivities> for ProjectDetail {
    fn from(d: ProjectWithActivities) -> Self {
        let planned = i64::try_from(d.activities.len()).unwrap_or(i64::MAX);
        let done = i64::try_from(d.activities.iter().filter(|a| a.done_on.is_some()).count())
            .unwrap_or(i64::MAX);
        ProjectDetail {
            project: d.project,
            activities: d.activities,
            planned,
            done,
            pairing_progress: d.pairing_progress,
        }
    }
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
    Ok(Json(
        state
            .cases
            .pairing()
            .project(&ctx.caller, ProjectId(id))
            .await?
            .into(),
    ))
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
    Ok(Json(
        state
            .cases
            .pairing()
            .project_activities(&ctx.caller, ProjectId(id))
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
    let aid = state
        .cases
        .pairing()
        .add_project_activity(&ctx.caller, ProjectId(id), &b)
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
    state
        .cases
        .pairing()
        .mark_activity_done(&ctx.caller, ActivityId(id), b.done_on.as_deref())
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
    Ok(Json(
        state
            .cases
            .pairing()
            .grade_project(&ctx.caller, ProjectId(id), &b.grade)
            .await?
            .into(),
    ))
}

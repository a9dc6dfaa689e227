//! Background jobs: the jobs of the job runner the caller may see (their own, those in their scope; all for
//! district-wide roles), newest first.

use axum::Json;
use axum::extract::State;
use shanzhi_store::Page;
use shanzhi_store::jobs::{JobFilter, JobRow};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiCtx, ApiResult, Paging};
use crate::AppState;
use crate::error::ErrorBody;
use crate::extract::{ApiPath, ApiQuery};

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(list_jobs)).routes(routes!(get_job))
}

/// Jobs with their state (`queued`, `running`, `interrupted` — the worker stopped heartbeating —, `done`, `failed`),
/// attempts and Chinese labels. Admins see the jobs they started and imports within their scope.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(JobFilter, Paging),
    responses((status = 200, body = Page<JobRow>), (status = 403, body = ErrorBody)))]
async fn list_jobs(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<JobFilter>,
    ApiQuery(p): ApiQuery<Paging>,
) -> ApiResult<Page<JobRow>> {
    Ok(Json(
        state.cases.jobs().list(&ctx.caller, &f, p.req()).await?,
    ))
}

/// One job (404 when it does not exist or the caller may not see it).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = JobRow), (status = 404, body = ErrorBody)))]
async fn get_job(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<JobRow> {
    Ok(Json(state.cases.jobs().get(&ctx.caller, id).await?))
}

//! JSON endpoints for bulk import and ledger export: upload a sheet (multipart field `file`, or the raw file as
//! the body with a `filename` query parameter), follow the background job, download templates and ledgers.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use shanzhi_domain::Code;
use shanzhi_imports::job::{Stored, stored_report};
use shanzhi_imports::{ImportError, Kind, Report};
use shanzhi_store::imports::{ImportJob, LedgerFilter};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiCtx, ApiResult};
use crate::AppState;
use crate::error::{ApiError, AppError, ErrorBody, ErrorDetail};
use crate::extract::{ApiPath, ApiQuery};
use crate::ui::imports::{
    MAX_UPLOAD, Spool, Upload, ledger_xlsx, read_multipart, start_import, template_file,
};

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(import_members))
        .routes(routes!(import_units))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024));
    router
        .merge(uploads)
        .routes(routes!(get_import))
        .routes(routes!(import_template))
        .routes(routes!(export_members))
        .routes(routes!(export_units))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// File name when the body is the raw file (decides .csv / .xlsx when the bytes do not).
    filename: Option<String>,
    /// Write the valid rows even when other rows have errors (default: all or nothing).
    #[serde(default)]
    valid_only: Option<bool>,
}

/// A file's bytes (a binary string in the document, not an array of numbers).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // documents bodies; handlers read and write raw bytes
pub(crate) struct FileBytes(Vec<u8>);

/// The template files (anything else answers 404).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // documents the path parameter; the handler parses the name itself
pub(crate) enum TemplateFile {
    #[serde(rename = "members.xlsx")]
    MembersXlsx,
    #[serde(rename = "members.csv")]
    MembersCsv,
    #[serde(rename = "units.xlsx")]
    UnitsXlsx,
    #[serde(rename = "units.csv")]
    UnitsCsv,
}

/// An import job with its row report once it has ended.
#[derive(Serialize, ToSchema)]
struct ImportStatus {
    #[serde(flatten)]
    job: ImportJob,
    /// Present when the job has ended normally.
    report: Option<Report>,
    /// Present when the job stopped with an error.
    error: Option<ErrorDetail>,
}

fn status_of(job: ImportJob) -> ImportStatus {
    let (report, error) = match stored_report(job.report.as_deref()) {
        Stored::Report(r) => (Some(r), None),
        Stored::Error(code, message) => (
            None,
            Some(ErrorDetail {
                code,
                message,
                fields: vec![],
            }),
        ),
        Stored::Nothing => (
            None,
            job.gave_up_code().map(|c| ErrorDetail {
                code: c.as_str().to_string(),
                message: c.message().to_string(),
                fields: vec![],
            }),
        ),
    };
    ImportStatus { job, report, error }
}

/// A refused file: 422 with the sheet's own code and message (e.g. `formula_not_allowed` naming the cell).
fn file_error(e: ImportError) -> Response {
    let status = match &e {
        ImportError::Sheet(shanzhi_sheets::SheetError::TooLarge { .. }) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ImportError::Refused(Code::Forbidden) => StatusCode::FORBIDDEN,
        ImportError::Refused(Code::BadRequest | Code::InvalidCharacters) => StatusCode::BAD_REQUEST,
        ImportError::Store(_) => return ApiError(AppError::internal(e)).into_response(),
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: e.code().to_string(),
                message: e.message(),
                fields: vec![],
            },
        }),
    )
        .into_response()
}

/// Streams a raw request body to a temporary file (never held whole in memory), refusing more than the limit.
async fn spool_body(req: Request) -> Result<Spool, ImportError> {
    let mut spool = Spool::new()?;
    let mut body = req.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ImportError::Refused(Code::BadRequest))?;
        spool.write(&chunk).await?;
    }
    spool.finish().await
}

async fn upload(
    state: AppState,
    ctx: crate::auth::Ctx,
    kind: Kind,
    q: UploadQuery,
    req: Request,
) -> Result<Response, ApiError> {
    state.cases.imports().check(&ctx.caller, kind)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut up = if is_multipart {
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|_| AppError::new(Code::BadRequest))?;
        match read_multipart(mp).await {
            Ok(up) => up,
            Err(e) => return Ok(file_error(e)),
        }
    } else {
        match spool_body(req).await {
            Ok(spool) => Upload {
                kind: None,
                file_name: q.filename.clone().unwrap_or_default(),
                file: Some(spool),
                valid_only: false,
            },
            Err(ImportError::Refused(Code::BadRequest)) => {
                return Err(ApiError(AppError::new(Code::BadRequest)));
            }
            Err(e) => return Ok(file_error(e)),
        }
    };
    if let Some(v) = q.valid_only {
        up.valid_only = v;
    }
    if up.file_name.is_empty()
        && let Some(f) = q.filename
    {
        up.file_name = f;
    }
    match start_import(&state, &ctx, kind, up).await {
        Ok(id) => {
            let job = state.cases.imports().get(&ctx.caller, id).await?;
            Ok((StatusCode::ACCEPTED, Json(status_of(job))).into_response())
        }
        Err(e) => Ok(file_error(e)),
    }
}

/// Import members from .xlsx/.csv. Runs in the background: answers 202 with the job; poll `GET /api/v1/imports/{id}`.
/// A broken or hostile file is refused at once (422, e.g. `formula_not_allowed`, `csv_not_utf8`, `malformed_file`).
#[utoipa::path(post, path = "/api/v1/imports/members", tag = "imports", security(("bearer" = [])), params(UploadQuery),
    request_body(content = FileBytes, description = "multipart/form-data with a `file` field, or the raw file", content_type = "application/octet-stream"),
    responses((status = 202, body = ImportStatus), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_members(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(q): ApiQuery<UploadQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    upload(state, ctx, Kind::Members, q, req).await
}

/// Import units from .xlsx/.csv (district and town admins). Same behaviour as the member import.
#[utoipa::path(post, path = "/api/v1/imports/units", tag = "imports", security(("bearer" = [])), params(UploadQuery),
    request_body(content = FileBytes, description = "multipart/form-data with a `file` field, or the raw file", content_type = "application/octet-stream"),
    responses((status = 202, body = ImportStatus), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_units(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(q): ApiQuery<UploadQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    upload(state, ctx, Kind::Units, q, req).await
}

/// Progress and row report of an import (its uploader and admins of the same scope; 404 otherwise).
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ImportStatus), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ImportStatus> {
    let job = state.cases.imports().get(&ctx.caller, id).await?;
    Ok(Json(status_of(job)))
}

/// The import template: `members.xlsx`, `members.csv`, `units.xlsx` or `units.csv`.
#[utoipa::path(get, path = "/api/v1/imports/templates/{file}", tag = "imports", security(("bearer" = [])), params(("file" = TemplateFile, Path)),
    responses((status = 200, description = "The template: .xlsx, or UTF-8 .csv with a BOM",
        content((FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
        (status = 404, body = ErrorBody)))]
async fn import_template(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (kind, format) = template_file(&file).ok_or(AppError::new(Code::NotFound))?;
    let bytes = state.cases.imports().template(&ctx.caller, kind, format)?;
    Ok(crate::ui::imports::download(
        format,
        &kind.template_name(format),
        bytes,
    ))
}

/// Member ledger (台账) with registration status in the current round, as .xlsx. Numbers are masked unless the
/// role may see them (then the export is audited).
#[utoipa::path(get, path = "/api/v1/exports/members.xlsx", tag = "imports", security(("bearer" = [])), params(LedgerFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = FileBytes), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn export_members(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<LedgerFilter>,
) -> Result<Response, ApiError> {
    Ok(ledger_xlsx(&state, &ctx, Kind::Members, &f).await?)
}

/// Unit ledger (台账) with registrations in the current round, as .xlsx.
#[utoipa::path(get, path = "/api/v1/exports/units.xlsx", tag = "imports", security(("bearer" = [])), params(LedgerFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = FileBytes), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn export_units(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiQuery(f): ApiQuery<LedgerFilter>,
) -> Result<Response, ApiError> {
    Ok(ledger_xlsx(&state, &ctx, Kind::Units, &f).await?)
}

//! 导入导出: upload a member or unit sheet (multipart, at most 20 MiB, CSRF token in the form's action), follow
//! the background import on a page that refreshes itself until it ends, download templates, and export the
//! ledgers (台账) as .xlsx.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shanzhi_domain::Code;
use shanzhi_domain::role::{Action, Scope};
use shanzhi_imports::job::{Stored, stored_report};
use shanzhi_imports::{ImportError, Kind, Options, Report, ledger};
use shanzhi_sheets::Format;
use shanzhi_store::imports::{ImportJob, LedgerFilter};

use super::{Layout, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::csrf_ok;

/// Largest upload accepted (the sheet reader applies the same limit to the file itself).
pub(crate) const MAX_UPLOAD: usize = 20 * 1024 * 1024;
/// Bad rows shown on the result page (all of them are in the downloadable list).
const SHOWN_ROWS: usize = 500;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route(
            "/imports",
            get(index)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)),
        )
        .route("/imports/{id}", get(show))
        .route("/imports/{id}/report.csv", get(report_csv))
        .route("/imports/templates/{file}", get(template))
        .route("/exports/members.xlsx", get(export_members))
        .route("/exports/units.xlsx", get(export_units))
}

/// Members need the import permission; units also the permission to register units (district and towns).
pub(crate) fn require_kind(ctx: &Ctx, kind: Kind) -> Result<(), AppError> {
    ctx.require(Action::Import)?;
    match kind {
        Kind::Members => Ok(()),
        Kind::Units => {
            ctx.require(Action::UnitCreate)?;
            if matches!(ctx.scope, Scope::Subtree(_) | Scope::Everything) {
                Ok(())
            } else {
                Err(AppError::new(Code::Forbidden))
            }
        }
    }
}

/// A file download response.
pub(crate) fn download(format: Format, file_name: &str, bytes: Vec<u8>) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{encoded}",
        match format {
            Format::Csv => "export.csv",
            Format::Xlsx => "export.xlsx",
        }
    );
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `members.xlsx` → (kind, format).
pub(crate) fn template_file(file: &str) -> Option<(Kind, Format)> {
    let (kind, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "xlsx" => Format::Xlsx,
        "csv" => Format::Csv,
        _ => return None,
    };
    Some((Kind::parse(kind)?, format))
}

/// What an upload form or API call carried. The file itself is spooled to a temporary file as it arrives (never
/// held whole in memory); the temporary file is deleted when the upload is dropped.
#[derive(Default)]
pub(crate) struct Upload {
    pub kind: Option<String>,
    pub file_name: String,
    pub file: Option<Spool>,
    pub valid_only: bool,
}

/// An uploaded file being written to a temporary file, with the upload limit enforced.
pub(crate) struct Spool {
    tmp: tempfile::NamedTempFile,
    w: tokio::fs::File,
    size: usize,
}

fn too_large() -> ImportError {
    ImportError::Sheet(shanzhi_sheets::SheetError::TooLarge {
        max_bytes: MAX_UPLOAD,
    })
}

fn spool_error(e: std::io::Error) -> ImportError {
    ImportError::Store(shanzhi_store::StoreError::Other(format!(
        "upload spool: {e}"
    )))
}

impl Spool {
    pub(crate) fn new() -> Result<Spool, ImportError> {
        let tmp = tempfile::NamedTempFile::new().map_err(spool_error)?;
        let w = tokio::fs::File::from_std(tmp.as_file().try_clone().map_err(spool_error)?);
        Ok(Spool { tmp, w, size: 0 })
    }
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<(), ImportError> {
        use tokio::io::AsyncWriteExt;
        self.size += chunk.len();
        if self.size > MAX_UPLOAD {
            return Err(too_large());
        }
        self.w.write_all(chunk).await.map_err(spool_error)
    }
    pub(crate) async fn finish(mut self) -> Result<Spool, ImportError> {
        use tokio::io::AsyncWriteExt;
        self.w.flush().await.map_err(spool_error)?;
        Ok(self)
    }
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

/// Reads the multipart fields `kind`, `valid_only` and `file` (the file streamed to a temporary file).
pub(crate) async fn read_multipart(mut mp: Multipart) -> Result<Upload, ImportError> {
    let mut up = Upload::default();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(ImportError::Refused(Code::BadRequest)),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                up.file_name = shanzhi_domain::text::clean(
                    field.file_name().unwrap_or_default(),
                    shanzhi_domain::text::TextKind::Line,
                )
                .map_err(ImportError::Refused)?
                .into_owned();
                let mut spool = Spool::new()?;
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => spool.write(&c).await?,
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(too_large());
                        }
                        Err(_) => return Err(ImportError::Refused(Code::BadRequest)),
                    }
                }
                up.file = Some(spool.finish().await?);
            }
            "kind" | "valid_only" | "_csrf" => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| ImportError::Refused(Code::BadRequest))?;
                match name.as_str() {
                    "kind" => up.kind = Some(text),
                    "valid_only" => up.valid_only = matches!(text.as_str(), "on" | "true" | "1"),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(up)
}

/// At most this many uploads are checked at once (each check streams the file through the sheet reader).
static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Checks the upload off the async threads, streaming it from its temporary file without keeping any row (a
/// broken or hostile file is refused before anything is recorded), then records the import and its job with the
/// file; a worker of the job runner reads the rows. Returns the import id.
pub(crate) async fn start_import(
    state: &AppState,
    ctx: &Ctx,
    kind: Kind,
    up: Upload,
) -> Result<i64, ImportError> {
    let Some(spool) = up.file.filter(|s| s.size() > 0) else {
        return Err(ImportError::Sheet(shanzhi_sheets::SheetError::Empty));
    };
    let rows = {
        let _permit = CHECKS
            .acquire()
            .await
            .map_err(|_| ImportError::Refused(Code::Internal))?;
        let name = up.file_name.clone();
        let path = spool.tmp.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            shanzhi_imports::check(kind, &name, shanzhi_sheets::Input::File(&path))
        })
        .await
        .map_err(|_| ImportError::Refused(Code::Internal))??
    };
    shanzhi_imports::job::enqueue(
        &state.store,
        &ctx.actor,
        &ctx.scope,
        kind,
        &up.file_name,
        spool.tmp.path(),
        rows,
        Options {
            valid_only: up.valid_only,
        },
    )
    .await
}

// ------------------------------------------------------------------ pages

#[derive(Template)]
#[template(path = "imports/index.html")]
struct IndexPage {
    l: Layout,
    can_import: bool,
    can_units: bool,
    can_export: bool,
    can_reveal: bool,
    kind: String,
    valid_only: bool,
    error: Option<String>,
    jobs: Vec<ImportJob>,
}

async fn index_page(
    state: &AppState,
    ctx: &Ctx,
    kind: &str,
    valid_only: bool,
    error: Option<String>,
) -> Result<IndexPage, UiError> {
    if !ctx.can(Action::Import) && !ctx.can(Action::Export) {
        return Err(UiError(AppError::new(Code::Forbidden)));
    }
    let jobs = if ctx.can(Action::Import) {
        state
            .store
            .list_import_jobs(&ctx.scope, Some(ctx.account_id()), 20)
            .await?
    } else {
        Vec::new()
    };
    Ok(IndexPage {
        l: Layout::new(ctx, "导入导出", "/imports"),
        can_import: ctx.can(Action::Import),
        can_units: require_kind(ctx, Kind::Units).is_ok(),
        can_export: ctx.can(Action::Export),
        can_reveal: ctx.can(Action::PersonalReveal),
        kind: kind.to_string(),
        valid_only,
        error,
        jobs,
    })
}

async fn index(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    Ok(render(
        &index_page(&state, &ctx, "members", false, None).await?,
    ))
}

#[derive(serde::Deserialize)]
struct CsrfQuery {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn upload(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
    UiQuery(q): UiQuery<CsrfQuery>,
    mp: Multipart,
) -> Result<Response, UiError> {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site")
        || !csrf_ok(&ctx.csrf, &q.csrf)
    {
        return Err(UiError(AppError::new(Code::CsrfRejected)));
    }
    ctx.require(Action::Import)?;
    let up = match read_multipart(mp).await {
        Ok(up) => up,
        Err(e) => return upload_error(&state, &ctx, "members", false, &e).await,
    };
    let kind_text = up.kind.clone().unwrap_or_else(|| "members".into());
    let Some(kind) = Kind::parse(&kind_text) else {
        return Err(UiError(AppError::new(Code::BadRequest)));
    };
    require_kind(&ctx, kind)?;
    let valid_only = up.valid_only;
    match start_import(&state, &ctx, kind, up).await {
        Ok(id) => Ok(see_other(format!("/imports/{id}"))),
        Err(ImportError::Store(e)) => Err(UiError(e.into())),
        Err(e) => upload_error(&state, &ctx, kind.as_str(), valid_only, &e).await,
    }
}

/// The upload form again, with the reason the file was refused.
async fn upload_error(
    state: &AppState,
    ctx: &Ctx,
    kind: &str,
    valid_only: bool,
    e: &ImportError,
) -> Result<Response, UiError> {
    let page = index_page(state, ctx, kind, valid_only, Some(e.message())).await?;
    let mut res = render(&page);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Template)]
#[template(path = "imports/show.html")]
struct ShowPage {
    l: Layout,
    job: ImportJob,
    report: Option<Report>,
    error: Option<String>,
    shown: usize,
}

async fn show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::Import)?;
    let job = state
        .store
        .get_import_job(&ctx.scope, Some(ctx.account_id()), id)
        .await?;
    let (report, error) = match stored_report(job.report.as_deref()) {
        Stored::Report(r) => (Some(r), None),
        Stored::Error(_, m) => (None, Some(m)),
        Stored::Nothing => (None, job.gave_up_code().map(|c| c.message().to_string())),
    };
    Ok(render(&ShowPage {
        l: Layout::new(&ctx, "导入结果", "/imports"),
        job,
        report,
        error,
        shown: SHOWN_ROWS,
    }))
}

async fn report_csv(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::Import)?;
    let job = state
        .store
        .get_import_job(&ctx.scope, Some(ctx.account_id()), id)
        .await?;
    let Stored::Report(r) = stored_report(job.report.as_deref()) else {
        return Err(UiError(AppError::new(Code::NotFound)));
    };
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.line.to_string(),
                x.name.clone(),
                x.status.label().to_string(),
                x.code.clone().unwrap_or_default(),
                x.reason.clone(),
            ]
        })
        .collect();
    let bytes =
        shanzhi_sheets::write_csv(&["行号", "姓名/名称", "结果", "错误代码", "原因"], &rows)
            .map_err(AppError::internal)?;
    Ok(download(Format::Csv, &format!("导入结果-{id}.csv"), bytes))
}

async fn template(UiCtx(ctx): UiCtx, UiPath(file): UiPath<String>) -> Result<Response, UiError> {
    let (kind, format) = template_file(&file).ok_or(AppError::new(Code::NotFound))?;
    require_kind(&ctx, kind)?;
    let bytes = shanzhi_imports::template(kind, format).map_err(AppError::internal)?;
    Ok(download(format, &kind.template_name(format), bytes))
}

/// Ledger export: masked numbers unless the role may see them (then the export is audited as a full view).
pub(crate) async fn ledger_xlsx(
    state: &AppState,
    ctx: &Ctx,
    kind: Kind,
    f: &LedgerFilter,
) -> Result<Response, AppError> {
    ctx.require(Action::Export)?;
    let reveal = ctx.can(Action::PersonalReveal).then_some(&ctx.actor);
    let bytes = match kind {
        Kind::Members => ledger::members_xlsx(&state.store, &ctx.scope, f, reveal).await,
        Kind::Units => ledger::units_xlsx(&state.store, &ctx.scope, f, reveal).await,
    };
    let bytes = bytes.map_err(|e| match e {
        ImportError::Store(s) => AppError::from(s),
        other => AppError::internal(other),
    })?;
    Ok(download(
        Format::Xlsx,
        &ledger::file_name(kind.as_str()),
        bytes,
    ))
}

async fn export_members(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(f): UiQuery<LedgerFilter>,
) -> Result<Response, UiError> {
    Ok(ledger_xlsx(&state, &ctx, Kind::Members, &f).await?)
}

async fn export_units(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(f): UiQuery<LedgerFilter>,
) -> Result<Response, UiError> {
    Ok(ledger_xlsx(&state, &ctx, Kind::Units, &f).await?)
}

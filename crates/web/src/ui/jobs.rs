//! 后台任务: the jobs of the job runner an admin may see (their own, those in their scope; all for district-wide
//! roles), with their state — 排队中 / 运行中 / 已中断 / 已完成 / 失败 — attempts and times in Asia/Shanghai.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use shanzhi_store::PageReq;
use shanzhi_store::jobs::{JobFilter, JobRow};

use super::{Layout, Pager, Routes, UiCtx, UiError, render};
use crate::AppState;
use crate::extract::UiQuery;

pub fn routes() -> Routes {
    Routes::new().route("/jobs", get(list))
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct ListPage {
    l: Layout,
    items: Vec<JobRow>,
    pager: Pager,
    status: String,
    kind: String,
    /// Something is still pending: the page refreshes itself.
    live: bool,
    /// Links to the imports behind jobs only for those who may open them.
    can_import: bool,
}

/// (value, label) of the state filter.
const STATES: [(&str, &str); 5] = [
    ("queued", "排队中"),
    ("running", "运行中"),
    ("interrupted", "已中断"),
    ("done", "已完成"),
    ("failed", "失败"),
];
const KINDS: [(&str, &str); 2] = [
    ("import_members", "导入在职党员"),
    ("import_units", "导入驻区单位"),
];

impl ListPage {
    fn states(&self) -> &'static [(&'static str, &'static str)] {
        &STATES
    }
    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &KINDS
    }
}

async fn list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<ListQuery>,
) -> Result<Response, UiError> {
    let f = JobFilter {
        status: q.status.filter(|s| !s.is_empty()),
        kind: q.kind.filter(|s| !s.is_empty()),
    };
    let page = state
        .cases
        .jobs()
        .list(&ctx.caller, &f, PageReq::new(q.page, Some(30)))
        .await?;
    let status = f.status.clone().unwrap_or_default();
    let kind = f.kind.clone().unwrap_or_default();
    let pager = Pager::new(
        &page,
        "/jobs",
        &[("status", status.clone()), ("kind", kind.clone())],
    );
    let live = page
        .items
        .iter()
        .any(|j| matches!(j.status.as_str(), "queued" | "running" | "interrupted"));
    Ok(render(&ListPage {
        l: Layout::new(&ctx, "后台任务", "/jobs"),
        items: page.items,
        pager,
        status,
        kind,
        live,
        can_import: ctx.may(shanzhi_domain::role::Action::Import),
    }))
}

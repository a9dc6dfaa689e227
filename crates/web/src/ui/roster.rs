//! 待确认成员: the unit admin's queue of members a town or community named for their unit. Confirming makes them
//! count for the unit (its member count and 报到率); declining takes them off the unit's roster (the member record
//! stays with its residence). One member or the ticked ones at once; declining asks first.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_domain::MemberId;
use shanzhi_store::PageReq;
use shanzhi_store::orgs::Member;

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::extract::UiQuery;
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/unit-roster", get(queue))
        .route("/unit-roster/confirm", post(confirm))
        .route("/unit-roster/decline", post(decline))
}

#[derive(serde::Deserialize, Default)]
struct QueueQuery {
    q: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

/// One waiting member, ready to print.
struct Row {
    m: Member,
    proposed: String,
}

#[derive(Template)]
#[template(path = "members/roster.html")]
struct QueuePage {
    l: Layout,
    items: Vec<Row>,
    pager: Pager,
    q: String,
}

async fn queue(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<QueueQuery>,
) -> Result<Response, UiError> {
    let page = state
        .cases
        .members()
        .pending(&ctx.caller, &q.q, PageReq::new(q.page, Some(20)))
        .await?;
    let pager = Pager::new(
        &page,
        "/unit-roster",
        &[("q", q.q.clone().unwrap_or_default())],
    );
    let items = page
        .items
        .into_iter()
        .map(|m| Row {
            proposed: m
                .unit_proposed_at
                .map(|t| shanzhi_domain::Timestamp(t).shanghai())
                .unwrap_or_default(),
            m,
        })
        .collect();
    Ok(render(&QueuePage {
        l: Layout::new(&ctx, "待确认成员", "/unit-roster").flash(q.ok.as_deref()),
        items,
        pager,
        q: q.q.unwrap_or_default(),
    }))
}

fn ticked(form: &Form) -> Vec<MemberId> {
    form.all("ids")
        .iter()
        .filter_map(|s| s.trim().parse().ok())
        .map(MemberId)
        .collect()
}

async fn decide(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    form: &Form,
    confirm: bool,
) -> Result<Response, UiError> {
    let ids = ticked(form);
    if ids.is_empty() {
        // Still the unit admin's action: refuse others before telling them what is missing.
        state
            .cases
            .members()
            .pending(&ctx.caller, &None, PageReq::new(Some(1), Some(1)))
            .await?;
        return Ok(see_other("/unit-roster?ok=roster_none"));
    }
    state
        .cases
        .members()
        .decide_unit_link(&ctx.caller, &ids, confirm)
        .await?;
    Ok(see_other(if confirm {
        "/unit-roster?ok=roster_confirmed"
    } else {
        "/unit-roster?ok=roster_declined"
    }))
}

async fn confirm(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    decide(&state, &ctx, &form, true).await
}

async fn decline(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    decide(&state, &ctx, &form, false).await
}

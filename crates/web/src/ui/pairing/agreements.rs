//! Pairing agreements (结对签约) between a unit's party org and a community's.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::registration::{PairingInput, PairingStatus};
use shanzhi_domain::{FieldErrors, PairingId};
use shanzhi_store::PageReq;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{Pairing, PairingFilter, PairingProgress, Project};

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, Pager, UiCtx, UiError, render, see_other};

use super::{OkOnly, parse_id, today};

#[derive(serde::Deserialize, Default)]
pub(super) struct PairingQuery {
    status: Option<String>,
    unit_id: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "pairing/list.html")]
struct PairingList {
    l: Layout,
    items: Vec<Pairing>,
    pager: Pager,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    can_manage: bool,
}

pub(super) async fn pairing_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<PairingQuery>,
) -> Result<Response, UiError> {
    let f = PairingFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        unit_id: parse_id(&q.unit_id),
    };
    let cases = state.cases.pairing();
    let page = cases
        .pairings(&ctx.caller, &f, PageReq::new(q.page, Some(20)))
        .await?;
    let pager = Pager::new(
        &page,
        "/pairings",
        &[
            ("status", q.status.clone().unwrap_or_default()),
            ("unit_id", q.unit_id.clone().unwrap_or_default()),
        ],
    );
    Ok(render(&PairingList {
        l: Layout::new(&ctx, "结对共建", "/pairings"),
        items: page.items,
        pager,
        status: q.status.unwrap_or_default(),
        statuses: PairingStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        can_manage: cases.pairing_offers(&ctx.caller).manage,
    }))
}

#[derive(Template)]
#[template(path = "pairing/form.html")]
struct PairingForm {
    l: Layout,
    form: PairingInput,
    errors: FieldErrors,
    units: Vec<(i64, String)>,
    communities: Vec<PlaceOption>,
}

async fn pairing_form(
    state: &AppState,
    ctx: &Ctx,
    form: PairingInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let options = state
        .cases
        .pairing()
        .pairing_form_options(&ctx.caller)
        .await?;
    Ok(render(&PairingForm {
        l: Layout::new(ctx, "新建结对签约", "/pairings"),
        form,
        errors,
        units: options.units,
        communities: options.communities,
    }))
}

pub(super) async fn pairing_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    let year = &today()[..4];
    let form = PairingInput {
        term_start: format!("{year}-01-01"),
        term_end: format!("{year}-12-31"),
        activities_per_quarter: "1".into(),
        ..Default::default()
    };
    pairing_form(&state, &ctx, form, FieldErrors::new()).await
}

pub(super) async fn pairing_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let input = PairingInput {
        unit_id: form.get("unit_id"),
        community_id: form.get("community_id"),
        term_start: form.get("term_start"),
        term_end: form.get("term_end"),
        activities_per_quarter: form.get("activities_per_quarter"),
        targets_note: form.get("targets_note"),
    };
    match state
        .cases
        .pairing()
        .create_pairing(&ctx.caller, &input)
        .await
    {
        Ok(id) => Ok(see_other(format!("/pairings/{id}?ok=created"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => pairing_form(&state, &ctx, input, errors).await,
            Err(e) => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "pairing/show.html")]
struct PairingShow {
    l: Layout,
    p: Pairing,
    progress: PairingProgress,
    projects: Vec<Project>,
    /// Statuses the agreement may move to next: (code, label).
    next: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    can_project: bool,
    today: String,
}

pub(super) async fn pairing_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    let page = state
        .cases
        .pairing()
        .pairing_page(&ctx.caller, PairingId(id))
        .await?;
    Ok(render(&PairingShow {
        l: Layout::new(&ctx, "结对签约", "/pairings").flash(q.ok.as_deref()),
        p: page.pairing,
        progress: page.progress,
        projects: page.projects,
        next: page.next,
        can_manage: page.offers.manage,
        can_project: page.offers.project,
        today: today(),
    }))
}

pub(super) async fn pairing_status(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let signed_on = form.get("signed_on");
    state
        .cases
        .pairing()
        .set_pairing_status(
            &ctx.caller,
            PairingId(id),
            &form.get("to"),
            Some(signed_on.as_str()),
        )
        .await?;
    Ok(see_other(format!("/pairings/{id}?ok=status")))
}

//! Alliances (党建联盟) of units run by a town.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::registration::AllianceInput;
use shanzhi_domain::{AllianceId, FieldErrors, UnitId};
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::Alliance;

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, UiCtx, UiError, render, see_other};

use super::OkOnly;

#[derive(Template)]
#[template(path = "pairing/alliances.html")]
struct AllianceList {
    l: Layout,
    items: Vec<Alliance>,
    can_manage: bool,
    towns: Vec<PlaceOption>,
    units: Vec<(i64, String)>,
    form: AllianceInput,
    errors: FieldErrors,
}

async fn alliance_page(
    state: &AppState,
    ctx: &Ctx,
    form: AllianceInput,
    errors: FieldErrors,
    ok: Option<&str>,
) -> Result<Response, UiError> {
    let p = state.cases.pairing().alliance_page(&ctx.caller).await?;
    Ok(render(&AllianceList {
        l: Layout::new(ctx, "党建联盟", "/pairings").flash(ok),
        items: p.items,
        can_manage: p.can_manage,
        towns: p.towns,
        units: p.units,
        form,
        errors,
    }))
}

pub(super) async fn alliance_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    alliance_page(
        &state,
        &ctx,
        AllianceInput::default(),
        FieldErrors::new(),
        q.ok.as_deref(),
    )
    .await
}

pub(super) async fn alliance_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let input = AllianceInput {
        name: form.get("name"),
        town_id: form.get("town_id"),
        description: form.get("description"),
    };
    match state
        .cases
        .pairing()
        .create_alliance(&ctx.caller, &input)
        .await
    {
        Ok(_) => Ok(see_other("/alliances?ok=created")),
        Err(e) => match e.into_fields() {
            Ok(errors) => alliance_page(&state, &ctx, input, errors, None).await,
            Err(e) => Err(e.into()),
        },
    }
}

pub(super) async fn alliance_add_unit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let unit = form.get("unit_id").trim().parse::<i64>().ok().map(UnitId);
    match state
        .cases
        .pairing()
        .add_alliance_unit(&ctx.caller, AllianceId(id), unit)
        .await
    {
        Ok(_) => Ok(see_other("/alliances?ok=saved")),
        Err(e) => match e.into_fields() {
            Ok(errors) => alliance_page(&state, &ctx, AllianceInput::default(), errors, None).await,
            Err(e) => Err(e.into()),
        },
    }
}

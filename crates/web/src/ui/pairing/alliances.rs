//! Alliances (党建联盟) of units run by a town.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::AllianceInput;
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{AllianceId, Code, FieldErrors, UnitId};
use shanzhi_store::StoreError;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::Alliance;

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, UiCtx, UiError, render, see_other};

use super::{OkOnly, require_manage};

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
    ctx.require(Action::PairingView)?;
    let can_manage = ctx.can(Action::PairingManage) && matches!(ctx.scope, Scope::Subtree(_));
    let (towns, units) = if can_manage {
        (
            state
                .store
                .place_options(&ctx.scope, &[PlaceLevel::Town])
                .await?,
            state
                .store
                .unit_options(&ctx.scope.nameable_units())
                .await?,
        )
    } else {
        (vec![], vec![])
    };
    Ok(render(&AllianceList {
        l: Layout::new(ctx, "党建联盟", "/pairings").flash(ok),
        items: state.store.list_alliances(&ctx.scope).await?,
        can_manage: can_manage && !towns.is_empty(),
        towns,
        units,
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
    require_manage(&ctx, Action::PairingManage)?;
    let input = AllianceInput {
        name: form.get("name"),
        town_id: form.get("town_id"),
        description: form.get("description"),
    };
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .create_alliance(&ctx.actor, &ctx.scope, &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(_) => Ok(see_other("/alliances?ok=created")),
        Err(StoreError::Fields(e)) => alliance_page(&state, &ctx, input, e, None).await,
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn alliance_add_unit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    require_manage(&ctx, Action::PairingManage)?;
    state.store.get_alliance(&ctx.scope, AllianceId(id)).await?;
    let unit: i64 = match form.get("unit_id").trim().parse() {
        Ok(u) => u,
        Err(_) => {
            return alliance_page(
                &state,
                &ctx,
                AllianceInput::default(),
                FieldErrors::single("unit_id", Code::Required),
                None,
            )
            .await;
        }
    };
    match state
        .store
        .add_alliance_unit(&ctx.actor, &ctx.scope, AllianceId(id), UnitId(unit))
        .await
    {
        Ok(()) => Ok(see_other("/alliances?ok=saved")),
        Err(StoreError::Fields(e)) => {
            alliance_page(&state, &ctx, AllianceInput::default(), e, None).await
        }
        Err(e) => Err(e.into()),
    }
}

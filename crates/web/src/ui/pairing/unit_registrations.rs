//! Unit registrations (组团式报到) with their review queue, and grid partners (网格合伙人).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{ResourceInput, UnitRegistrationInput, UnitRegistrationStatus};
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{Code, FieldErrors, PlaceId, UnitId, UnitRegistrationId};
use shanzhi_store::orgs::Unit;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::units::{
    GridPartner, Resource, UnitRegistration, UnitRegistrationFilter,
};
use shanzhi_store::{PageReq, StoreError};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, Pager, UiCtx, UiError, render, see_other};

use super::{
    Millis, OkOnly, own_unit, parse_id, register_places, require_view, resource_input,
    status_choices, when,
};

#[derive(serde::Deserialize, Default)]
pub(super) struct UregQuery {
    status: Option<String>,
    unit_id: Option<String>,
    round_id: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "unitreg/list.html")]
struct UregList {
    l: Layout,
    items: Vec<UnitRegistration>,
    pager: Pager,
    status: String,
    unit_id: String,
    statuses: Vec<(&'static str, &'static str)>,
    can_submit: bool,
    can_review: bool,
    own_unit: Option<i64>,
}

impl UregList {
    fn t<T: Millis>(&self, ms: T) -> String {
        when(ms)
    }
}

pub(super) async fn ureg_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<UregQuery>,
) -> Result<Response, UiError> {
    require_view(&ctx)?;
    let f = UnitRegistrationFilter {
        round_id: parse_id(&q.round_id),
        status: q.status.clone().filter(|s| !s.is_empty()),
        unit_id: parse_id(&q.unit_id),
    };
    let page = state
        .store
        .list_unit_registrations(&ctx.scope, &f, PageReq::new(q.page, Some(20)))
        .await?;
    let pager = Pager::new(
        &page,
        "/unit-registrations",
        &[
            ("status", q.status.clone().unwrap_or_default()),
            ("unit_id", q.unit_id.clone().unwrap_or_default()),
            ("round_id", q.round_id.clone().unwrap_or_default()),
        ],
    );
    let own_unit = match ctx.scope {
        Scope::Unit(u) => Some(u.0),
        _ => None,
    };
    Ok(render(&UregList {
        l: Layout::new(&ctx, "组团报到", "/pairings").flash(q.ok.as_deref()),
        items: page.items,
        pager,
        status: q.status.unwrap_or_default(),
        unit_id: q.unit_id.unwrap_or_default(),
        statuses: status_choices(),
        can_submit: ctx.can(Action::UnitRegistrationSubmit) && own_unit.is_some(),
        can_review: ctx.can(Action::UnitRegistrationReview),
        own_unit,
    }))
}

#[derive(Template)]
#[template(path = "unitreg/form.html")]
struct UregForm {
    l: Layout,
    unit: Unit,
    round_name: Option<String>,
    form: UnitRegistrationInput,
    res: ResourceInput,
    errors: FieldErrors,
    places: Vec<PlaceOption>,
}

pub(super) async fn ureg_form(
    state: &AppState,
    ctx: &Ctx,
    unit: UnitId,
    form: UnitRegistrationInput,
    res: ResourceInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    Ok(render(&UregForm {
        l: Layout::new(ctx, "单位报到", "/pairings"),
        unit: state.store.get_unit(&ctx.scope, unit).await?,
        round_name: state.store.current_round().await?.map(|r| r.name),
        form,
        res,
        errors,
        places: register_places(state, ctx).await?,
    }))
}

pub(super) async fn ureg_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    let unit = own_unit(&ctx)?;
    let u = state.store.get_unit(&ctx.scope, unit).await?;
    let form = UnitRegistrationInput {
        contact_name: u.contact_name.clone().unwrap_or_default(),
        ..Default::default()
    };
    ureg_form(
        &state,
        &ctx,
        unit,
        form,
        ResourceInput::default(),
        FieldErrors::new(),
    )
    .await
}

pub(super) async fn ureg_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let unit = own_unit(&ctx)?;
    let input = UnitRegistrationInput {
        place_id: form.get("place_id"),
        contact_name: form.get("contact_name"),
        contact_phone: form.get("contact_phone"),
        note: form.get("note"),
    };
    let res = resource_input(&form, "res_");
    let with_resource = !(res.title.trim().is_empty()
        && res.capacity.trim().is_empty()
        && res.schedule.trim().is_empty()
        && res.description.trim().is_empty());
    // Validate both parts first so one submission shows every error.
    let mut errors = FieldErrors::new();
    let reg = input.validate().map_err(|e| errors.0.extend(e.0)).ok();
    let resource = if with_resource {
        res.validate()
            .map_err(|e| {
                for mut x in e.0 {
                    x.field = match x.field {
                        "title" => "res_title",
                        "capacity" => "res_capacity",
                        "schedule" => "res_schedule",
                        "description" => "res_description",
                        other => other,
                    };
                    errors.0.push(x);
                }
            })
            .ok()
    } else {
        None
    };
    let Some(reg) = reg.filter(|_| errors.is_empty()) else {
        return ureg_form(&state, &ctx, unit, input, res, errors).await;
    };
    let id = match state
        .store
        .submit_unit_registration(&ctx.actor, &ctx.scope, unit, &reg)
        .await
    {
        Ok(id) => id,
        Err(StoreError::Fields(e)) => return ureg_form(&state, &ctx, unit, input, res, e).await,
        Err(StoreError::Refused(c @ (Code::AlreadyRegistered | Code::RoundNotOpen))) => {
            return ureg_form(
                &state,
                &ctx,
                unit,
                input,
                res,
                FieldErrors::single("place_id", c),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(mut r) = resource {
        r.unit_registration_id = Some(id);
        state
            .store
            .save_resource(&ctx.actor, &ctx.scope, unit, None, &r)
            .await?;
    }
    Ok(see_other(format!(
        "/unit-registrations/{id}?ok=unit_submitted"
    )))
}

#[derive(Template)]
#[template(path = "unitreg/show.html")]
struct UregShow {
    l: Layout,
    r: UnitRegistration,
    resources: Vec<Resource>,
    partners: Vec<GridPartner>,
    grids: Vec<PlaceOption>,
    can_review: bool,
    can_partner: bool,
    is_owner: bool,
    reason: String,
    grid_id: String,
    errors: FieldErrors,
}

impl UregShow {
    fn t<T: Millis>(&self, ms: T) -> String {
        when(ms)
    }
}

#[derive(Default)]
struct UregShowInput {
    reason: String,
    grid_id: String,
    errors: FieldErrors,
    ok: Option<String>,
}

async fn ureg_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    input: UregShowInput,
) -> Result<Response, UiError> {
    require_view(ctx)?;
    let r = state
        .store
        .get_unit_registration(&ctx.scope, UnitRegistrationId(id))
        .await?;
    let resources = state
        .store
        .list_resources(&ctx.scope, Some(UnitId(r.unit_id)))
        .await?;
    let partners: Vec<GridPartner> = state
        .store
        .list_grid_partners(&ctx.scope)
        .await?
        .into_iter()
        .filter(|p| p.unit_id == r.unit_id && p.place_path.starts_with(&r.place_path))
        .collect();
    let can_partner = ctx.can(Action::GridPartnerManage)
        && matches!(ctx.scope, Scope::Subtree(_))
        && r.status() == UnitRegistrationStatus::Accepted;
    let grids = if can_partner {
        state
            .store
            .place_options(&ctx.scope, &[PlaceLevel::Grid])
            .await?
            .into_iter()
            .filter(|g| {
                g.path.starts_with(&r.place_path) && !partners.iter().any(|p| p.grid_id == g.id)
            })
            .collect()
    } else {
        vec![]
    };
    Ok(render(&UregShow {
        l: Layout::new(ctx, format!("{} · 报到", r.unit_name), "/pairings")
            .flash(input.ok.as_deref()),
        can_review: ctx.can(Action::UnitRegistrationReview)
            && matches!(ctx.scope, Scope::Subtree(_))
            && r.status() == UnitRegistrationStatus::Submitted,
        can_partner,
        is_owner: ctx.can(Action::UnitRegistrationSubmit)
            && ctx.scope == Scope::Unit(UnitId(r.unit_id)),
        r,
        resources,
        partners,
        grids,
        reason: input.reason,
        grid_id: input.grid_id,
        errors: input.errors,
    }))
}

pub(super) async fn ureg_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    ureg_page(
        &state,
        &ctx,
        id,
        UregShowInput {
            ok: q.ok,
            ..Default::default()
        },
    )
    .await
}

pub(super) async fn ureg_accept(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationReview)?;
    state
        .store
        .accept_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    Ok(see_other(format!(
        "/unit-registrations/{id}?ok=unit_accepted"
    )))
}

pub(super) async fn ureg_return(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationReview)?;
    let reason = form.get("reason");
    match state
        .store
        .return_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id), &reason)
        .await
    {
        Ok(()) => Ok(see_other(format!(
            "/unit-registrations/{id}?ok=unit_returned"
        ))),
        Err(StoreError::Fields(e)) => {
            ureg_page(
                &state,
                &ctx,
                id,
                UregShowInput {
                    reason,
                    errors: e,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn ureg_withdraw(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state
        .store
        .withdraw_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    Ok(see_other(format!(
        "/unit-registrations/{id}?ok=unit_withdrawn"
    )))
}

pub(super) async fn ureg_resubmit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    state
        .store
        .resubmit_unit_registration(&ctx.actor, &ctx.scope, UnitRegistrationId(id))
        .await?;
    Ok(see_other(format!(
        "/unit-registrations/{id}?ok=unit_submitted"
    )))
}

pub(super) async fn partner_link(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::GridPartnerManage)?;
    let r = state
        .store
        .get_unit_registration(&ctx.scope, UnitRegistrationId(id))
        .await?;
    let grid_id = form.get("grid_id");
    let res = match grid_id.trim().parse::<i64>() {
        Ok(g) => {
            state
                .store
                .link_grid_partner(&ctx.actor, &ctx.scope, UnitId(r.unit_id), PlaceId(g))
                .await
        }
        Err(_) => Err(StoreError::field("grid_id", Code::Required)),
    };
    match res {
        Ok(()) => Ok(see_other(format!("/unit-registrations/{id}?ok=linked"))),
        Err(StoreError::Fields(e)) => {
            ureg_page(
                &state,
                &ctx,
                id,
                UregShowInput {
                    grid_id,
                    errors: e,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn partner_unlink(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::GridPartnerManage)?;
    let r = state
        .store
        .get_unit_registration(&ctx.scope, UnitRegistrationId(id))
        .await?;
    let grid: i64 = form
        .get("grid_id")
        .trim()
        .parse()
        .map_err(|_| AppError::new(Code::NotFound))?;
    state
        .store
        .unlink_grid_partner(&ctx.actor, &ctx.scope, UnitId(r.unit_id), PlaceId(grid))
        .await?;
    Ok(see_other(format!("/unit-registrations/{id}?ok=unlinked")))
}

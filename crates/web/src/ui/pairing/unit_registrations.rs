//! Unit registrations (组团式报到) with their review queue, and grid partners (网格合伙人).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_cases::pairing::UnitRegistrationPage;
use shanzhi_domain::registration::{ResourceInput, UnitRegistrationInput};
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, FieldErrors, PlaceId, UnitRegistrationId};
use shanzhi_store::PageReq;
use shanzhi_store::orgs::Unit;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::units::{
    GridPartner, Resource, UnitRegistration, UnitRegistrationFilter,
};

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, Pager, UiCtx, UiError, render, see_other};

use super::{Millis, OkOnly, parse_id, resource_input, status_choices, when};

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
    let f = UnitRegistrationFilter {
        round_id: parse_id(&q.round_id),
        status: q.status.clone().filter(|s| !s.is_empty()),
        unit_id: parse_id(&q.unit_id),
    };
    let cases = state.cases.pairing();
    let page = cases
        .unit_registrations(&ctx.caller, &f, PageReq::new(q.page, Some(20)))
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
    Ok(render(&UregList {
        l: Layout::new(&ctx, "组团报到", "/pairings").flash(q.ok.as_deref()),
        items: page.items,
        pager,
        status: q.status.unwrap_or_default(),
        unit_id: q.unit_id.unwrap_or_default(),
        statuses: status_choices(),
        can_submit: cases.may_submit_unit_registration(&ctx.caller),
        can_review: ctx.may(Action::UnitRegistrationReview),
        own_unit: ctx.own_unit().map(|u| u.0),
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

async fn ureg_form(
    state: &AppState,
    ctx: &Ctx,
    form: Option<UnitRegistrationInput>,
    res: ResourceInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let options = state
        .cases
        .pairing()
        .unit_registration_form(&ctx.caller)
        .await?;
    // A new form starts with the unit's contact.
    let form = form.unwrap_or_else(|| UnitRegistrationInput {
        contact_name: options.unit.contact_name.clone().unwrap_or_default(),
        ..Default::default()
    });
    Ok(render(&UregForm {
        l: Layout::new(ctx, "单位报到", "/pairings"),
        unit: options.unit,
        round_name: options.round_name,
        form,
        res,
        errors,
        places: options.places,
    }))
}

pub(super) async fn ureg_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    ureg_form(
        &state,
        &ctx,
        None,
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
    let input = UnitRegistrationInput {
        place_id: form.get("place_id"),
        contact_name: form.get("contact_name"),
        contact_phone: form.get("contact_phone"),
        note: form.get("note"),
    };
    let res = resource_input(&form, "res_");
    // All resource fields blank: no resource now.
    let with_resource = !(res.title.trim().is_empty()
        && res.capacity.trim().is_empty()
        && res.schedule.trim().is_empty()
        && res.description.trim().is_empty());
    match state
        .cases
        .pairing()
        .submit_unit_registration(&ctx.caller, &input, with_resource.then_some(&res))
        .await
    {
        Ok(id) => Ok(see_other(format!(
            "/unit-registrations/{id}?ok=unit_submitted"
        ))),
        Err(e) if matches!(e.code, Code::AlreadyRegistered | Code::RoundNotOpen) => {
            let errors = FieldErrors::single("place_id", e.code);
            ureg_form(&state, &ctx, Some(input), res, errors).await
        }
        Err(e) => match e.into_fields() {
            Ok(errors) => ureg_form(&state, &ctx, Some(input), res, errors).await,
            Err(e) => Err(e.into()),
        },
    }
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
    let UnitRegistrationPage {
        registration: r,
        resources,
        partners,
        grids,
        offers,
    } = state
        .cases
        .pairing()
        .unit_registration_page(&ctx.caller, UnitRegistrationId(id))
        .await?;
    Ok(render(&UregShow {
        l: Layout::new(ctx, format!("{} · 报到", r.unit_name), "/pairings")
            .flash(input.ok.as_deref()),
        can_review: offers.review,
        can_partner: offers.partner,
        is_owner: offers.is_owner,
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
    state
        .cases
        .pairing()
        .accept_unit_registration(&ctx.caller, UnitRegistrationId(id))
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
    let reason = form.get("reason");
    match state
        .cases
        .pairing()
        .return_unit_registration(&ctx.caller, UnitRegistrationId(id), &reason)
        .await
    {
        Ok(_) => Ok(see_other(format!(
            "/unit-registrations/{id}?ok=unit_returned"
        ))),
        Err(e) => match e.into_fields() {
            Ok(errors) => {
                ureg_page(
                    &state,
                    &ctx,
                    id,
                    UregShowInput {
                        reason,
                        errors,
                        ..Default::default()
                    },
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

pub(super) async fn ureg_withdraw(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    state
        .cases
        .pairing()
        .withdraw_unit_registration(&ctx.caller, UnitRegistrationId(id))
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
    state
        .cases
        .pairing()
        .resubmit_unit_registration(&ctx.caller, UnitRegistrationId(id))
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
    let grid_id = form.get("grid_id");
    let grid = grid_id.trim().parse::<i64>().ok().map(PlaceId);
    match state
        .cases
        .pairing()
        .link_registration_partner(&ctx.caller, UnitRegistrationId(id), grid)
        .await
    {
        Ok(()) => Ok(see_other(format!("/unit-registrations/{id}?ok=linked"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => {
                ureg_page(
                    &state,
                    &ctx,
                    id,
                    UregShowInput {
                        grid_id,
                        errors,
                        ..Default::default()
                    },
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

pub(super) async fn partner_unlink(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let grid = form.get("grid_id").trim().parse::<i64>().ok().map(PlaceId);
    state
        .cases
        .pairing()
        .unlink_registration_partner(&ctx.caller, UnitRegistrationId(id), grid)
        .await?;
    Ok(see_other(format!("/unit-registrations/{id}?ok=unlinked")))
}

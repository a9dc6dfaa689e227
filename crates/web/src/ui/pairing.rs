//! Pages for the 组团式 side of 报到接收: unit registrations with their review queue, resources (资源清单), grid
//! partners (网格合伙人), pairing agreements (结对签约), alliances (党建联盟) and joint projects (党建联建项目).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_domain::org::DictKind;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{
    ActivityInput, AllianceInput, PairingInput, PairingStatus, ProjectGrade, ProjectInput,
    ResourceInput, UnitRegistrationInput, UnitRegistrationStatus,
};
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{
    ActivityId, AllianceId, Code, FieldErrors, PairingId, PlaceId, ProjectId, ResourceId,
    Timestamp, UnitId, UnitRegistrationId,
};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::orgs::Unit;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{
    Alliance, Pairing, PairingFilter, PairingProgress, Project, ProjectActivity, ProjectFilter,
};
use shanzhi_store::registration::units::{
    GridPartner, Resource, UnitRegistration, UnitRegistrationFilter,
};
use shanzhi_store::{PageReq, StoreError};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/unit-registrations", get(ureg_list))
        .route("/unit-registrations/new", get(ureg_new).post(ureg_create))
        .route("/unit-registrations/{id}", get(ureg_show))
        .route("/unit-registrations/{id}/accept", post(ureg_accept))
        .route("/unit-registrations/{id}/return", post(ureg_return))
        .route("/unit-registrations/{id}/withdraw", post(ureg_withdraw))
        .route("/unit-registrations/{id}/resubmit", post(ureg_resubmit))
        .route("/unit-registrations/{id}/partners", post(partner_link))
        .route(
            "/unit-registrations/{id}/partners/remove",
            post(partner_unlink),
        )
        .route(
            "/units/{id}/resources",
            get(resource_list).post(resource_create),
        )
        .route(
            "/resources/{id}/edit",
            get(resource_edit).post(resource_update),
        )
        .route("/resources/{id}/delete", post(resource_delete))
        .route("/pairings", get(pairing_list))
        .route("/pairings/new", get(pairing_new).post(pairing_create))
        .route("/pairings/{id}", get(pairing_show))
        .route("/pairings/{id}/status", post(pairing_status))
        .route("/alliances", get(alliance_list).post(alliance_create))
        .route("/alliances/{id}/units", post(alliance_add_unit))
        .route("/projects", get(project_list))
        .route("/projects/new", get(project_new).post(project_create))
        .route("/projects/{id}", get(project_show))
        .route("/projects/{id}/activities", post(activity_add))
        .route("/projects/{id}/grade", post(project_grade))
        .route("/activities/{id}/done", post(activity_done))
}

/// A stored millisecond timestamp, however many references templates wrap it in.
trait Millis {
    fn millis(&self) -> i64;
}
impl Millis for i64 {
    fn millis(&self) -> i64 {
        *self
    }
}
impl<T: Millis + ?Sized> Millis for &T {
    fn millis(&self) -> i64 {
        (**self).millis()
    }
}

/// `2026-11-29 17:08` (Asia/Shanghai) for a stored millisecond timestamp.
fn when<T: Millis>(ms: T) -> String {
    Timestamp(ms.millis()).shanghai()
}

fn today() -> String {
    Timestamp::now().shanghai_date()
}

fn parse_id(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|s| s.trim().parse().ok())
}

/// Unit registrations, resources and grid partners are visible to whoever may see pairings (place admins and
/// unit admins).
fn require_view(ctx: &Ctx) -> Result<(), AppError> {
    ctx.require(Action::PairingView)
}

/// The unit a unit admin acts for; other roles cannot register a unit.
fn own_unit(ctx: &Ctx) -> Result<UnitId, AppError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    match ctx.scope {
        Scope::Unit(u) => Ok(u),
        _ => Err(AppError::new(Code::Forbidden)),
    }
}

/// Towns and communities a unit may register with: the whole district (asked of the domain for the caller).
async fn register_places(state: &AppState, ctx: &Ctx) -> Result<Vec<PlaceOption>, UiError> {
    Ok(state
        .store
        .place_options(
            &ctx.scope.nameable_places(),
            &[PlaceLevel::Town, PlaceLevel::Community],
        )
        .await?)
}

fn status_choices() -> Vec<(&'static str, &'static str)> {
    UnitRegistrationStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect()
}

// ------------------------------------------------------------------ unit registrations

#[derive(serde::Deserialize, Default)]
struct UregQuery {
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

async fn ureg_list(
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

async fn ureg_form(
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

async fn ureg_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
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

/// Resource fields in the registration form carry a `res_` prefix; all blank means "no resource now".
fn resource_input(f: &Form, prefix: &str) -> ResourceInput {
    ResourceInput {
        title: f.get(&format!("{prefix}title")),
        description: f.get(&format!("{prefix}description")),
        capacity: f.get(&format!("{prefix}capacity")),
        schedule: f.get(&format!("{prefix}schedule")),
        unit_registration_id: f.get(&format!("{prefix}unit_registration_id")),
    }
}

async fn ureg_create(
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

#[derive(serde::Deserialize, Default)]
struct OkOnly {
    ok: Option<String>,
}

async fn ureg_show(
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

async fn ureg_accept(
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

async fn ureg_return(
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

async fn ureg_withdraw(
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

async fn ureg_resubmit(
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

async fn partner_link(
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

async fn partner_unlink(
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

// ------------------------------------------------------------------ resources

#[derive(Template)]
#[template(path = "unitreg/resources.html")]
struct ResourceList {
    l: Layout,
    unit: Unit,
    items: Vec<Resource>,
    regs: Vec<UnitRegistration>,
    can_edit: bool,
    form: ResourceInput,
    errors: FieldErrors,
}

async fn resource_page(
    state: &AppState,
    ctx: &Ctx,
    unit: UnitId,
    form: ResourceInput,
    errors: FieldErrors,
    ok: Option<&str>,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitView)?;
    let u = state.store.get_unit(&ctx.scope, unit).await?;
    let can_edit =
        ctx.can(Action::UnitRegistrationSubmit) && ctx.scope == Scope::Unit(UnitId(u.id));
    let regs = if can_edit {
        state
            .store
            .list_unit_registrations(
                &ctx.scope,
                &UnitRegistrationFilter {
                    unit_id: Some(u.id),
                    ..Default::default()
                },
                PageReq::new(Some(1), Some(100)),
            )
            .await?
            .items
            .into_iter()
            .filter(|r| r.status().as_str() != "withdrawn")
            .collect()
    } else {
        vec![]
    };
    Ok(render(&ResourceList {
        l: Layout::new(ctx, format!("{} · 资源清单", u.name), "/units").flash(ok),
        items: state.store.list_resources(&ctx.scope, Some(unit)).await?,
        unit: u,
        regs,
        can_edit,
        form,
        errors,
    }))
}

async fn resource_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    resource_page(
        &state,
        &ctx,
        UnitId(id),
        ResourceInput::default(),
        FieldErrors::new(),
        q.ok.as_deref(),
    )
    .await
}

async fn resource_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    let input = resource_input(&form, "");
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .save_resource(&ctx.actor, &ctx.scope, UnitId(id), None, &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(_) => Ok(see_other(format!("/units/{id}/resources?ok=saved"))),
        Err(StoreError::Fields(e)) => resource_page(&state, &ctx, UnitId(id), input, e, None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "unitreg/resource_form.html")]
struct ResourceForm {
    l: Layout,
    id: i64,
    unit_id: i64,
    form: ResourceInput,
    errors: FieldErrors,
}

async fn resource_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    let r = state.store.get_resource(&ctx.scope, ResourceId(id)).await?;
    let form = ResourceInput {
        title: r.title,
        description: r.description.unwrap_or_default(),
        capacity: r.capacity.to_string(),
        schedule: r.schedule.unwrap_or_default(),
        unit_registration_id: r
            .unit_registration_id
            .map(|x| x.to_string())
            .unwrap_or_default(),
    };
    Ok(render(&ResourceForm {
        l: Layout::new(&ctx, "编辑资源", "/units"),
        id,
        unit_id: r.unit_id,
        form,
        errors: FieldErrors::new(),
    }))
}

async fn resource_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    let r = state.store.get_resource(&ctx.scope, ResourceId(id)).await?;
    let input = resource_input(&form, "");
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .save_resource(
                    &ctx.actor,
                    &ctx.scope,
                    UnitId(r.unit_id),
                    Some(ResourceId(id)),
                    &v,
                )
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(_) => Ok(see_other(format!(
            "/units/{}/resources?ok=saved",
            r.unit_id
        ))),
        Err(StoreError::Fields(e)) => Ok(render(&ResourceForm {
            l: Layout::new(&ctx, "编辑资源", "/units"),
            id,
            unit_id: r.unit_id,
            form: input,
            errors: e,
        })),
        Err(e) => Err(e.into()),
    }
}

async fn resource_delete(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitRegistrationSubmit)?;
    let r = state.store.get_resource(&ctx.scope, ResourceId(id)).await?;
    state
        .store
        .delete_resource(&ctx.actor, &ctx.scope, ResourceId(id))
        .await?;
    Ok(see_other(format!(
        "/units/{}/resources?ok=deleted",
        r.unit_id
    )))
}

// ------------------------------------------------------------------ pairings

#[derive(serde::Deserialize, Default)]
struct PairingQuery {
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

async fn pairing_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<PairingQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::PairingView)?;
    let f = PairingFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        unit_id: parse_id(&q.unit_id),
    };
    let page = state
        .store
        .list_pairings(&ctx.scope, &f, PageReq::new(q.page, Some(20)))
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
        can_manage: ctx.can(Action::PairingManage) && matches!(ctx.scope, Scope::Subtree(_)),
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
    Ok(render(&PairingForm {
        l: Layout::new(ctx, "新建结对签约", "/pairings"),
        form,
        errors,
        units: state
            .store
            .unit_options(&ctx.scope.nameable_units())
            .await?,
        communities: state
            .store
            .place_options(&ctx.scope, &[PlaceLevel::Community])
            .await?,
    }))
}

fn require_manage(ctx: &Ctx, action: Action) -> Result<(), AppError> {
    ctx.require(action)?;
    match ctx.scope {
        Scope::Subtree(_) => Ok(()),
        _ => Err(AppError::new(Code::Forbidden)),
    }
}

async fn pairing_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    require_manage(&ctx, Action::PairingManage)?;
    let year = &today()[..4];
    let form = PairingInput {
        term_start: format!("{year}-01-01"),
        term_end: format!("{year}-12-31"),
        activities_per_quarter: "1".into(),
        ..Default::default()
    };
    pairing_form(&state, &ctx, form, FieldErrors::new()).await
}

async fn pairing_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    require_manage(&ctx, Action::PairingManage)?;
    let input = PairingInput {
        unit_id: form.get("unit_id"),
        community_id: form.get("community_id"),
        term_start: form.get("term_start"),
        term_end: form.get("term_end"),
        activities_per_quarter: form.get("activities_per_quarter"),
        targets_note: form.get("targets_note"),
    };
    let res = match input.validate() {
        Ok(v) => state.store.create_pairing(&ctx.actor, &ctx.scope, &v).await,
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(id) => Ok(see_other(format!("/pairings/{id}?ok=created"))),
        Err(StoreError::Fields(e)) => pairing_form(&state, &ctx, input, e).await,
        Err(e) => Err(e.into()),
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

async fn pairing_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    ctx.require(Action::PairingView)?;
    let p = state.store.get_pairing(&ctx.scope, PairingId(id)).await?;
    let progress = state
        .store
        .pairing_progress(&ctx.scope, PairingId(id))
        .await?;
    let projects = state
        .store
        .list_projects(
            &ctx.scope,
            &ProjectFilter {
                pairing_id: Some(id),
                ..Default::default()
            },
            PageReq::new(Some(1), Some(100)),
        )
        .await?
        .items;
    let next = match p.status() {
        Some(from) => PairingStatus::ALL
            .iter()
            .filter(|to| from.advance(**to).is_ok())
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        None => vec![],
    };
    let managed = matches!(ctx.scope, Scope::Subtree(_));
    Ok(render(&PairingShow {
        l: Layout::new(&ctx, "结对签约", "/pairings").flash(q.ok.as_deref()),
        p,
        progress,
        projects,
        next,
        can_manage: ctx.can(Action::PairingManage) && managed,
        can_project: ctx.can(Action::ProjectManage) && managed,
        today: today(),
    }))
}

async fn pairing_status(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::PairingManage)?;
    state.store.get_pairing(&ctx.scope, PairingId(id)).await?;
    let to = PairingStatus::parse(form.get("to").trim())
        .ok_or(AppError::new(Code::IllegalTransition))?;
    let signed_on = form.get("signed_on");
    state
        .store
        .set_pairing_status(
            &ctx.actor,
            &ctx.scope,
            PairingId(id),
            to,
            Some(signed_on.as_str()),
        )
        .await?;
    Ok(see_other(format!("/pairings/{id}?ok=status")))
}

// ------------------------------------------------------------------ alliances

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

async fn alliance_list(
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

async fn alliance_create(
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

async fn alliance_add_unit(
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

// ------------------------------------------------------------------ projects

#[derive(serde::Deserialize, Default)]
struct ProjectQuery {
    category: Option<String>,
    pairing_id: Option<String>,
    unit_id: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "pairing/projects.html")]
struct ProjectList {
    l: Layout,
    items: Vec<Project>,
    pager: Pager,
    category: String,
    categories: Vec<DictEntry>,
    can_create: bool,
}

async fn project_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<ProjectQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::PairingView)?;
    let f = ProjectFilter {
        pairing_id: parse_id(&q.pairing_id),
        unit_id: parse_id(&q.unit_id),
        category: q.category.clone().filter(|s| !s.is_empty()),
    };
    let page = state
        .store
        .list_projects(&ctx.scope, &f, PageReq::new(q.page, Some(20)))
        .await?;
    let pager = Pager::new(
        &page,
        "/projects",
        &[
            ("category", q.category.clone().unwrap_or_default()),
            ("pairing_id", q.pairing_id.clone().unwrap_or_default()),
            ("unit_id", q.unit_id.clone().unwrap_or_default()),
        ],
    );
    Ok(render(&ProjectList {
        l: Layout::new(&ctx, "党建联建项目", "/pairings"),
        items: page.items,
        pager,
        category: q.category.unwrap_or_default(),
        categories: state.store.list_dict(DictKind::NeedCategory, true).await?,
        can_create: ctx.can(Action::ProjectManage) && matches!(ctx.scope, Scope::Subtree(_)),
    }))
}

#[derive(Template)]
#[template(path = "pairing/project_form.html")]
struct ProjectForm {
    l: Layout,
    form: ProjectInput,
    errors: FieldErrors,
    categories: Vec<DictEntry>,
    pairings: Vec<Pairing>,
    units: Vec<(i64, String)>,
    communities: Vec<PlaceOption>,
}

async fn project_form(
    state: &AppState,
    ctx: &Ctx,
    form: ProjectInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    Ok(render(&ProjectForm {
        l: Layout::new(ctx, "新建党建联建项目", "/pairings"),
        form,
        errors,
        categories: state.store.list_dict(DictKind::NeedCategory, true).await?,
        pairings: state
            .store
            .list_pairings(
                &ctx.scope,
                &PairingFilter::default(),
                PageReq::new(Some(1), Some(200)),
            )
            .await?
            .items,
        units: state
            .store
            .unit_options(&ctx.scope.nameable_units())
            .await?,
        communities: state
            .store
            .place_options(&ctx.scope, &[PlaceLevel::Community])
            .await?,
    }))
}

#[derive(serde::Deserialize, Default)]
struct NewProjectQuery {
    pairing_id: Option<String>,
}

async fn project_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<NewProjectQuery>,
) -> Result<Response, UiError> {
    require_manage(&ctx, Action::ProjectManage)?;
    let year = today()[..4].to_string();
    let mut form = ProjectInput {
        period_start: format!("{year}-01-01"),
        period_end: format!("{year}-12-31"),
        ..Default::default()
    };
    // Preset the parties and term from the pairing the project belongs to.
    if let Some(pid) = parse_id(&q.pairing_id)
        && let Ok(p) = state.store.get_pairing(&ctx.scope, PairingId(pid)).await
    {
        form.pairing_id = p.id.to_string();
        form.unit_id = p.unit_id.to_string();
        form.community_id = p.community_id.to_string();
        form.period_start = p.term_start;
        form.period_end = p.term_end;
    }
    project_form(&state, &ctx, form, FieldErrors::new()).await
}

async fn project_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    require_manage(&ctx, Action::ProjectManage)?;
    let input = ProjectInput {
        name: form.get("name"),
        category: form.get("category"),
        pairing_id: form.get("pairing_id"),
        unit_id: form.get("unit_id"),
        community_id: form.get("community_id"),
        goals: form.get("goals"),
        period_start: form.get("period_start"),
        period_end: form.get("period_end"),
    };
    let res = match input.validate() {
        Ok(v) => state.store.create_project(&ctx.actor, &ctx.scope, &v).await,
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(id) => Ok(see_other(format!("/projects/{id}?ok=created"))),
        Err(StoreError::Fields(e)) => project_form(&state, &ctx, input, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pairing/project_show.html")]
struct ProjectShow {
    l: Layout,
    p: Project,
    activities: Vec<ProjectActivity>,
    done: usize,
    percent: usize,
    pairing: Option<PairingProgress>,
    can_manage: bool,
    can_grade: bool,
    grades: Vec<(&'static str, &'static str)>,
    form: ActivityInput,
    errors: FieldErrors,
    today: String,
}

async fn project_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    form: ActivityInput,
    errors: FieldErrors,
    ok: Option<&str>,
) -> Result<Response, UiError> {
    ctx.require(Action::PairingView)?;
    let p = state.store.get_project(&ctx.scope, ProjectId(id)).await?;
    let activities = state
        .store
        .list_project_activities(&ctx.scope, ProjectId(id))
        .await?;
    let done = activities.iter().filter(|a| a.done_on.is_some()).count();
    let percent = (done * 100).checked_div(activities.len()).unwrap_or(0);
    let pairing = match p.pairing_id {
        Some(pid) => Some(
            state
                .store
                .pairing_progress(&ctx.scope, PairingId(pid))
                .await?,
        ),
        None => None,
    };
    let managed = matches!(ctx.scope, Scope::Subtree(_));
    Ok(render(&ProjectShow {
        l: Layout::new(ctx, p.name.clone(), "/pairings").flash(ok),
        can_manage: ctx.can(Action::ProjectManage) && managed,
        can_grade: ctx.can(Action::ProjectGrade) && managed && p.grade.is_none(),
        p,
        activities,
        done,
        percent,
        pairing,
        grades: ProjectGrade::ALL
            .iter()
            .map(|g| (g.as_str(), g.label()))
            .collect(),
        form,
        errors,
        today: today(),
    }))
}

async fn project_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkOnly>,
) -> Result<Response, UiError> {
    project_page(
        &state,
        &ctx,
        id,
        ActivityInput::default(),
        FieldErrors::new(),
        q.ok.as_deref(),
    )
    .await
}

async fn activity_add(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::ProjectManage)?;
    let input = ActivityInput {
        title: form.get("title"),
        planned_on: form.get("planned_on"),
    };
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .add_project_activity(&ctx.actor, &ctx.scope, ProjectId(id), &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(_) => Ok(see_other(format!("/projects/{id}?ok=saved"))),
        Err(StoreError::Fields(e)) => project_page(&state, &ctx, id, input, e, None).await,
        Err(e) => Err(e.into()),
    }
}

async fn activity_done(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::ProjectManage)?;
    let project: i64 = form
        .get("project_id")
        .trim()
        .parse()
        .map_err(|_| AppError::new(Code::NotFound))?;
    let done_on = form.get("done_on");
    let done_on = if done_on.trim().is_empty() {
        today()
    } else {
        done_on
    };
    match state
        .store
        .mark_activity_done(&ctx.actor, &ctx.scope, ActivityId(id), &done_on)
        .await
    {
        Ok(()) => Ok(see_other(format!("/projects/{project}?ok=done"))),
        Err(StoreError::Fields(e)) => {
            project_page(&state, &ctx, project, ActivityInput::default(), e, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn project_grade(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::ProjectGrade)?;
    let Some(grade) = ProjectGrade::parse(&form.get("grade")) else {
        return project_page(
            &state,
            &ctx,
            id,
            ActivityInput::default(),
            FieldErrors::single("grade", Code::InvalidChoice),
            None,
        )
        .await;
    };
    state
        .store
        .grade_project(&ctx.actor, &ctx.scope, ProjectId(id), grade)
        .await?;
    Ok(see_other(format!("/projects/{id}?ok=graded")))
}

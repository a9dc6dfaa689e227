//! Lists, detail pages and forms for 驻区单位, 在职党员 and 社会组织. Lists search, filter and paginate; forms
//! re-show what was typed with each error beside its field.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_domain::org::{DictKind, MemberInput, SocialOrgInput, UnitInput};
use shanzhi_domain::place::{PartyOrgLevel, PlaceLevel};
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{FieldErrors, MemberId, SocialOrgId, UnitId};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::orgs::{
    Member, MemberFilter, PersonalNumbers, SocialOrg, SocialOrgFilter, Unit, UnitFilter,
};
use shanzhi_store::places::PlaceOption;
use shanzhi_store::{PageReq, StoreError};

use super::account::OkQuery;
use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/units", get(unit_list))
        .route("/units/new", get(unit_new).post(unit_create))
        .route("/units/{id}", get(unit_show))
        .route("/units/{id}/edit", get(unit_edit).post(unit_update))
        .route("/members", get(member_list))
        .route("/members/new", get(member_new).post(member_create))
        .route("/members/{id}", get(member_show))
        .route("/members/{id}/edit", get(member_edit).post(member_update))
        .route("/members/{id}/reveal", post(member_reveal))
        .route("/social-orgs", get(social_list))
        .route("/social-orgs/new", get(social_new).post(social_create))
        .route("/social-orgs/{id}", get(social_show))
        .route(
            "/social-orgs/{id}/edit",
            get(social_edit).post(social_update),
        )
}

fn party_levels() -> Vec<(&'static str, &'static str)> {
    PartyOrgLevel::ALL
        .iter()
        .map(|l| (l.as_str(), l.label()))
        .collect()
}

/// Place choices for a unit or social organisation: towns, communities and grids in scope; for a unit admin,
/// the district's towns and communities.
async fn located_places(state: &AppState, ctx: &Ctx) -> Result<Vec<PlaceOption>, UiError> {
    Ok(state
        .store
        .place_options(
            &ctx.scope.nameable_places(),
            &[PlaceLevel::Town, PlaceLevel::Community],
        )
        .await?)
}

// ------------------------------------------------------------------ units

#[derive(serde::Deserialize, Default)]
struct UnitQuery {
    q: Option<String>,
    kind: Option<String>,
    place_id: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "units/list.html")]
struct UnitList {
    l: Layout,
    items: Vec<Unit>,
    pager: Pager,
    q: String,
    kind: String,
    kinds: Vec<DictEntry>,
    can_create: bool,
}

async fn unit_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<UnitQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitView)?;
    let place_id = q.place_id.as_deref().and_then(|s| s.parse().ok());
    let f = UnitFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        place_id,
    };
    let page = state
        .store
        .list_units(&ctx.scope, &f, PageReq::new(q.page, Some(20)))
        .await?;
    let pager = Pager::new(
        &page,
        "/units",
        &[
            ("q", q.q.clone().unwrap_or_default()),
            ("kind", q.kind.clone().unwrap_or_default()),
            ("place_id", q.place_id.clone().unwrap_or_default()),
        ],
    );
    Ok(render(&UnitList {
        l: Layout::new(&ctx, "驻区单位", "/units"),
        items: page.items,
        pager,
        q: q.q.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        kinds: state.store.list_dict(DictKind::UnitKind, true).await?,
        can_create: ctx.can(Action::UnitCreate),
    }))
}

#[derive(Template)]
#[template(path = "units/show.html")]
struct UnitShow {
    l: Layout,
    u: Unit,
    can_edit: bool,
    can_members: bool,
    can_export: bool,
}

async fn unit_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitView)?;
    let u = state.store.get_unit(&ctx.scope, UnitId(id)).await?;
    Ok(render(&UnitShow {
        l: Layout::new(&ctx, u.name.clone(), "/units").flash(q.ok.as_deref()),
        can_edit: ctx.can(Action::UnitEdit),
        can_members: ctx.can(Action::MemberView),
        can_export: ctx.can(Action::Export),
        u,
    }))
}

#[derive(Template)]
#[template(path = "units/form.html")]
struct UnitForm {
    l: Layout,
    action: String,
    back: String,
    form: UnitInput,
    errors: FieldErrors,
    kinds: Vec<DictEntry>,
    places: Vec<PlaceOption>,
    levels: Vec<(&'static str, &'static str)>,
}

fn unit_input(f: &Form) -> UnitInput {
    UnitInput {
        name: f.get("name"),
        kind: f.get("kind"),
        credit_code: f.get("credit_code"),
        place_id: f.get("place_id"),
        party_org_name: f.get("party_org_name"),
        party_org_level: f.get("party_org_level"),
        contact_name: f.get("contact_name"),
        contact_phone: f.get("contact_phone"),
    }
}

async fn unit_form(
    state: &AppState,
    ctx: &Ctx,
    action: String,
    back: String,
    form: UnitInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    Ok(render(&UnitForm {
        l: Layout::new(
            ctx,
            if action.ends_with("/new") {
                "登记驻区单位"
            } else {
                "编辑驻区单位"
            },
            "/units",
        ),
        action,
        back,
        form,
        errors,
        kinds: state.store.list_dict(DictKind::UnitKind, true).await?,
        places: located_places(state, ctx).await?,
        levels: party_levels(),
    }))
}

async fn unit_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    ctx.require(Action::UnitCreate)?;
    let form = UnitInput {
        party_org_level: "branch".into(),
        ..Default::default()
    };
    unit_form(
        &state,
        &ctx,
        "/units/new".into(),
        "/units".into(),
        form,
        FieldErrors::new(),
    )
    .await
}

async fn unit_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitCreate)?;
    let input = unit_input(&form);
    let res = match input.validate() {
        Ok(v) => state.store.create_unit(&ctx.actor, &ctx.scope, &v).await,
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(id) => Ok(see_other(format!("/units/{id}?ok=created"))),
        Err(StoreError::Fields(e)) => {
            unit_form(&state, &ctx, "/units/new".into(), "/units".into(), input, e).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn unit_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitEdit)?;
    let u = state.store.get_unit(&ctx.scope, UnitId(id)).await?;
    let form = UnitInput {
        name: u.name,
        kind: u.kind,
        credit_code: u.credit_code,
        place_id: u.place_id.to_string(),
        party_org_name: u.party_org_name,
        party_org_level: u.party_org_level,
        contact_name: u.contact_name.unwrap_or_default(),
        // The stored number is never put back into a form; leaving it blank clears it.
        contact_phone: String::new(),
    };
    unit_form(
        &state,
        &ctx,
        format!("/units/{id}/edit"),
        format!("/units/{id}"),
        form,
        FieldErrors::new(),
    )
    .await
}

async fn unit_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::UnitEdit)?;
    // An id outside the scope answers 404 before the form is checked.
    state.store.get_unit(&ctx.scope, UnitId(id)).await?;
    let input = unit_input(&form);
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .update_unit(&ctx.actor, &ctx.scope, UnitId(id), &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(()) => Ok(see_other(format!("/units/{id}?ok=saved"))),
        Err(StoreError::Fields(e)) => {
            unit_form(
                &state,
                &ctx,
                format!("/units/{id}/edit"),
                format!("/units/{id}"),
                input,
                e,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------ members

#[derive(serde::Deserialize, Default)]
struct MemberQuery {
    q: Option<String>,
    mobile: Option<String>,
    unit_id: Option<String>,
    place_id: Option<String>,
    skill: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "members/list.html")]
struct MemberList {
    l: Layout,
    items: Vec<Member>,
    pager: Pager,
    q: String,
    mobile: String,
    skill: String,
    unit_id: String,
    place_id: String,
    skills: Vec<DictEntry>,
    can_create: bool,
}

async fn member_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<MemberQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::MemberView)?;
    if let Scope::Member(m) = ctx.scope {
        return Ok(see_other(format!("/members/{m}")));
    }
    let f = MemberFilter {
        q: q.q.clone(),
        mobile: q.mobile.clone(),
        unit_id: q.unit_id.as_deref().and_then(|s| s.parse().ok()),
        place_id: q.place_id.as_deref().and_then(|s| s.parse().ok()),
        skill: q.skill.clone(),
    };
    let page = state
        .store
        .list_members(&ctx.scope, &f, PageReq::new(q.page, Some(20)))
        .await?;
    let params = [
        ("q", q.q.clone().unwrap_or_default()),
        ("mobile", q.mobile.clone().unwrap_or_default()),
        ("unit_id", q.unit_id.clone().unwrap_or_default()),
        ("place_id", q.place_id.clone().unwrap_or_default()),
        ("skill", q.skill.clone().unwrap_or_default()),
    ];
    let pager = Pager::new(&page, "/members", &params);
    Ok(render(&MemberList {
        l: Layout::new(&ctx, "在职党员", "/members"),
        items: page.items,
        pager,
        q: q.q.unwrap_or_default(),
        mobile: q.mobile.unwrap_or_default(),
        skill: q.skill.unwrap_or_default(),
        unit_id: q.unit_id.unwrap_or_default(),
        place_id: q.place_id.unwrap_or_default(),
        skills: state.store.list_dict(DictKind::Skill, true).await?,
        can_create: ctx.can(Action::MemberCreate),
    }))
}

#[derive(Template)]
#[template(path = "members/show.html")]
struct MemberShow {
    l: Layout,
    m: Member,
    full: Option<PersonalNumbers>,
    can_edit: bool,
    can_reveal: bool,
}

async fn member_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::MemberView)?;
    let m = state.store.get_member(&ctx.scope, MemberId(id)).await?;
    Ok(render(&MemberShow {
        l: Layout::new(&ctx, m.name.clone(), "/members").flash(q.ok.as_deref()),
        m,
        full: None,
        can_edit: ctx.can(Action::MemberEdit),
        can_reveal: ctx.can(Action::PersonalReveal),
    }))
}

async fn member_reveal(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::PersonalReveal)?;
    let full = state
        .store
        .reveal_member_personal(&ctx.actor, &ctx.scope, MemberId(id))
        .await?;
    let m = state.store.get_member(&ctx.scope, MemberId(id)).await?;
    Ok(render(&MemberShow {
        l: Layout::new(&ctx, m.name.clone(), "/members"),
        m,
        full: Some(full),
        can_edit: ctx.can(Action::MemberEdit),
        can_reveal: true,
    }))
}

#[derive(Template)]
#[template(path = "members/form.html")]
struct MemberForm {
    l: Layout,
    action: String,
    back: String,
    form: MemberInput,
    errors: FieldErrors,
    skills: Vec<DictEntry>,
    communities: Vec<PlaceOption>,
    units: Vec<(i64, String)>,
    editing: bool,
}

fn member_input(f: &Form) -> MemberInput {
    MemberInput {
        name: f.get("name"),
        mobile: f.get("mobile"),
        id_card: f.get("id_card"),
        unit_id: f.get("unit_id"),
        community_id: f.get("community_id"),
        skills: f.all("skills"),
        separated_residence: f.checked("separated_residence"),
    }
}

async fn member_form(
    state: &AppState,
    ctx: &Ctx,
    action: String,
    back: String,
    form: MemberInput,
    errors: FieldErrors,
    editing: bool,
) -> Result<Response, UiError> {
    let communities_scope = ctx.scope.nameable_places();
    let units_scope = ctx.scope.nameable_units();
    Ok(render(&MemberForm {
        l: Layout::new(
            ctx,
            if editing {
                "编辑党员信息"
            } else {
                "登记在职党员"
            },
            "/members",
        ),
        action,
        back,
        form,
        errors,
        skills: state.store.list_dict(DictKind::Skill, true).await?,
        communities: state
            .store
            .place_options(&communities_scope, &[PlaceLevel::Community])
            .await?,
        units: state.store.unit_options(&units_scope).await?,
        editing,
    }))
}

async fn member_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    ctx.require(Action::MemberCreate)?;
    let mut form = MemberInput::default();
    if let Scope::Unit(u) = ctx.scope {
        form.unit_id = u.to_string();
    }
    member_form(
        &state,
        &ctx,
        "/members/new".into(),
        "/members".into(),
        form,
        FieldErrors::new(),
        false,
    )
    .await
}

async fn member_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::MemberCreate)?;
    let input = member_input(&form);
    let res = match input.validate() {
        Ok(v) => state.store.create_member(&ctx.actor, &ctx.scope, &v).await,
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(id) => Ok(see_other(format!("/members/{id}?ok=created"))),
        Err(StoreError::Fields(e)) => {
            member_form(
                &state,
                &ctx,
                "/members/new".into(),
                "/members".into(),
                input,
                e,
                false,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn member_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::MemberEdit)?;
    let m = state.store.get_member(&ctx.scope, MemberId(id)).await?;
    let form = MemberInput {
        name: m.name,
        // Personal numbers are not put back into the form; the user retypes them (the field shows the masked value).
        mobile: String::new(),
        id_card: String::new(),
        unit_id: m.unit_id.to_string(),
        community_id: m.community_id.to_string(),
        skills: state.store.member_skill_codes(MemberId(id)).await?,
        separated_residence: m.separated_residence,
    };
    member_form(
        &state,
        &ctx,
        format!("/members/{id}/edit"),
        format!("/members/{id}"),
        form,
        FieldErrors::new(),
        true,
    )
    .await
}

async fn member_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::MemberEdit)?;
    // An id outside the scope answers 404 before the form is checked.
    state.store.get_member(&ctx.scope, MemberId(id)).await?;
    let input = member_input(&form);
    let res = match input.validate_edit() {
        Ok(v) => {
            state
                .store
                .update_member(&ctx.actor, &ctx.scope, MemberId(id), &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match res {
        Ok(()) => Ok(see_other(format!("/members/{id}?ok=saved"))),
        Err(StoreError::Fields(e)) => {
            let mut shown = member_input(&form);
            shown.skills = input.skills.clone();
            member_form(
                &state,
                &ctx,
                format!("/members/{id}/edit"),
                format!("/members/{id}"),
                shown,
                e,
                true,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------ social organisations

#[derive(serde::Deserialize, Default)]
struct SocialQuery {
    q: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "social/list.html")]
struct SocialList {
    l: Layout,
    items: Vec<SocialOrg>,
    pager: Pager,
    q: String,
    can_edit: bool,
}

async fn social_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<SocialQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::SocialOrgView)?;
    let page = state
        .store
        .list_social_orgs(
            &ctx.scope,
            &SocialOrgFilter {
                q: q.q.clone(),
                place_id: None,
            },
            PageReq::new(q.page, Some(20)),
        )
        .await?;
    let pager = Pager::new(
        &page,
        "/social-orgs",
        &[("q", q.q.clone().unwrap_or_default())],
    );
    Ok(render(&SocialList {
        l: Layout::new(&ctx, "社会组织", "/social-orgs"),
        items: page.items,
        pager,
        q: q.q.unwrap_or_default(),
        can_edit: ctx.can(Action::SocialOrgEdit),
    }))
}

#[derive(Template)]
#[template(path = "social/show.html")]
struct SocialShow {
    l: Layout,
    s: SocialOrg,
    can_edit: bool,
}

async fn social_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::SocialOrgView)?;
    let s = state
        .store
        .get_social_org(&ctx.scope, SocialOrgId(id))
        .await?;
    Ok(render(&SocialShow {
        l: Layout::new(&ctx, s.name.clone(), "/social-orgs").flash(q.ok.as_deref()),
        s,
        can_edit: ctx.can(Action::SocialOrgEdit),
    }))
}

#[derive(Template)]
#[template(path = "social/form.html")]
struct SocialForm {
    l: Layout,
    action: String,
    back: String,
    form: SocialOrgInput,
    errors: FieldErrors,
    places: Vec<PlaceOption>,
}

fn social_input(f: &Form) -> SocialOrgInput {
    SocialOrgInput {
        name: f.get("name"),
        credit_code: f.get("credit_code"),
        place_id: f.get("place_id"),
        contact_name: f.get("contact_name"),
        contact_phone: f.get("contact_phone"),
    }
}

async fn social_form(
    state: &AppState,
    ctx: &Ctx,
    action: String,
    back: String,
    form: SocialOrgInput,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    Ok(render(&SocialForm {
        l: Layout::new(ctx, "社会组织", "/social-orgs"),
        action,
        back,
        form,
        errors,
        places: located_places(state, ctx).await?,
    }))
}

async fn social_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    ctx.require(Action::SocialOrgEdit)?;
    social_form(
        &state,
        &ctx,
        "/social-orgs/new".into(),
        "/social-orgs".into(),
        SocialOrgInput::default(),
        FieldErrors::new(),
    )
    .await
}

async fn social_save(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    form: &Form,
) -> Result<Response, UiError> {
    ctx.require(Action::SocialOrgEdit)?;
    // An id outside the scope answers 404 before the form is checked.
    if let Some(id) = id {
        state
            .store
            .get_social_org(&ctx.scope, SocialOrgId(id))
            .await?;
    }
    let input = social_input(form);
    let res = match input.validate() {
        Ok(v) => {
            state
                .store
                .save_social_org(&ctx.actor, &ctx.scope, id.map(SocialOrgId), &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    let (action, back) = match id {
        Some(id) => (
            format!("/social-orgs/{id}/edit"),
            format!("/social-orgs/{id}"),
        ),
        None => ("/social-orgs/new".to_string(), "/social-orgs".to_string()),
    };
    match res {
        Ok(new_id) => Ok(see_other(format!("/social-orgs/{new_id}?ok=saved"))),
        Err(StoreError::Fields(e)) => social_form(state, ctx, action, back, input, e).await,
        Err(e) => Err(e.into()),
    }
}

async fn social_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    social_save(&state, &ctx, None, &form).await
}

async fn social_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::SocialOrgEdit)?;
    let s = state
        .store
        .get_social_org(&ctx.scope, SocialOrgId(id))
        .await?;
    let form = SocialOrgInput {
        name: s.name,
        credit_code: s.credit_code,
        place_id: s.place_id.to_string(),
        contact_name: s.contact_name.unwrap_or_default(),
        contact_phone: String::new(),
    };
    social_form(
        &state,
        &ctx,
        format!("/social-orgs/{id}/edit"),
        format!("/social-orgs/{id}"),
        form,
        FieldErrors::new(),
    )
    .await
}

async fn social_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    social_save(&state, &ctx, Some(id), &form).await
}

//! Lists, detail pages and forms for 驻区单位, 在职党员 and 社会组织. Lists search, filter and paginate; forms
//! re-show what was typed with each error beside its field.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_cases::orgs::FormFor;
use shanzhi_domain::org::{DictKind, MemberInput, SocialOrgInput, UnitInput};
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::Action;
use shanzhi_domain::{FieldErrors, MemberId, SocialOrgId, UnitId};
use shanzhi_store::PageReq;
use shanzhi_store::dict::DictEntry;
use shanzhi_store::orgs::{
    Member, MemberFilter, PersonalNumbers, SocialOrg, SocialOrgFilter, Unit, UnitFilter,
};
use shanzhi_store::places::PlaceOption;

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
    let place_id = q.place_id.as_deref().and_then(|s| s.parse().ok());
    let f = UnitFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        place_id,
    };
    let page = state
        .cases
        .units()
        .list(&ctx.caller, &f, PageReq::new(q.page, Some(20)))
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
        kinds: state
            .cases
            .reference()
            .dict(&ctx.caller, DictKind::UnitKind, true)
            .await?,
        can_create: ctx.may(Action::UnitCreate),
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
    can_unregistered: bool,
}

async fn unit_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    let u = state.cases.units().get(&ctx.caller, UnitId(id)).await?;
    Ok(render(&UnitShow {
        l: Layout::new(&ctx, u.name.clone(), "/units").flash(q.ok.as_deref()),
        can_edit: ctx.may(Action::UnitEdit),
        can_members: ctx.may(Action::MemberView),
        can_export: ctx.may(Action::Export),
        can_unregistered: ctx.may(Action::UnregisteredView),
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
    let editing = !action.ends_with("/new");
    let choices = state
        .cases
        .units()
        .choices(
            &ctx.caller,
            if editing {
                FormFor::Edit
            } else {
                FormFor::Create
            },
        )
        .await?;
    Ok(render(&UnitForm {
        l: Layout::new(
            ctx,
            if editing {
                "编辑驻区单位"
            } else {
                "登记驻区单位"
            },
            "/units",
        ),
        action,
        back,
        form,
        errors,
        kinds: choices.kinds,
        places: choices.places,
        levels: party_levels(),
    }))
}

async fn unit_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
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
    let input = unit_input(&form);
    match state.cases.units().create(&ctx.caller, &input).await {
        Ok(id) => Ok(see_other(format!("/units/{id}?ok=created"))),
        Err(e) => {
            let e = e.into_fields()?;
            unit_form(&state, &ctx, "/units/new".into(), "/units".into(), input, e).await
        }
    }
}

async fn unit_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    let u = state
        .cases
        .units()
        .edit_form(&ctx.caller, UnitId(id))
        .await?;
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
    let input = unit_input(&form);
    match state
        .cases
        .units()
        .update(&ctx.caller, UnitId(id), &input)
        .await
    {
        Ok(_) => Ok(see_other(format!("/units/{id}?ok=saved"))),
        Err(e) => {
            let e = e.into_fields()?;
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
    /// A page number still opens the first pages; "下一页" links by key.
    page: Option<u32>,
    /// Keyset cursor: the list continues after this member.
    after: Option<String>,
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
    // A member sees only their own record.
    if let Some(m) = ctx.own_member() {
        return Ok(see_other(format!("/members/{m}")));
    }
    let f = MemberFilter {
        q: q.q.clone(),
        mobile: q.mobile.clone(),
        unit_id: q.unit_id.as_deref().and_then(|s| s.parse().ok()),
        place_id: q.place_id.as_deref().and_then(|s| s.parse().ok()),
        skill: q.skill.clone(),
    };
    let after = q.after.as_deref().and_then(|s| s.parse().ok());
    let page = state
        .cases
        .members()
        .list(&ctx.caller, &f, PageReq::new(q.page, Some(20)).after(after))
        .await?;
    let params = [
        ("q", q.q.clone().unwrap_or_default()),
        ("mobile", q.mobile.clone().unwrap_or_default()),
        ("unit_id", q.unit_id.clone().unwrap_or_default()),
        ("place_id", q.place_id.clone().unwrap_or_default()),
        ("skill", q.skill.clone().unwrap_or_default()),
    ];
    let pager = Pager::keyset(&page, "/members", &params, after.is_some() || page.page > 1);
    Ok(render(&MemberList {
        l: Layout::new(&ctx, "在职党员", "/members"),
        items: page.items,
        pager,
        q: q.q.unwrap_or_default(),
        mobile: q.mobile.unwrap_or_default(),
        skill: q.skill.unwrap_or_default(),
        unit_id: q.unit_id.unwrap_or_default(),
        place_id: q.place_id.unwrap_or_default(),
        skills: state
            .cases
            .reference()
            .dict(&ctx.caller, DictKind::Skill, true)
            .await?,
        can_create: ctx.may(Action::MemberCreate),
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
    let m = state.cases.members().get(&ctx.caller, MemberId(id)).await?;
    Ok(render(&MemberShow {
        l: Layout::new(&ctx, m.name.clone(), "/members").flash(q.ok.as_deref()),
        m,
        full: None,
        can_edit: ctx.may(Action::MemberEdit),
        can_reveal: ctx.may(Action::PersonalReveal),
    }))
}

async fn member_reveal(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    let full = state
        .cases
        .members()
        .reveal(&ctx.caller, MemberId(id))
        .await?;
    let m = state.cases.members().get(&ctx.caller, MemberId(id)).await?;
    Ok(render(&MemberShow {
        l: Layout::new(&ctx, m.name.clone(), "/members"),
        m,
        full: Some(full),
        can_edit: ctx.may(Action::MemberEdit),
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
    let choices = state
        .cases
        .members()
        .choices(
            &ctx.caller,
            if editing {
                FormFor::Edit
            } else {
                FormFor::Create
            },
        )
        .await?;
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
        skills: choices.skills,
        communities: choices.communities,
        units: choices.units,
        editing,
    }))
}

async fn member_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    let mut form = MemberInput::default();
    // A unit admin registers members of their own unit.
    if let Some(u) = ctx.own_unit() {
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
    let input = member_input(&form);
    match state.cases.members().create(&ctx.caller, &input).await {
        Ok(id) => Ok(see_other(format!("/members/{id}?ok=created"))),
        Err(e) => {
            let e = e.into_fields()?;
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
    }
}

async fn member_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    let (m, skills) = state
        .cases
        .members()
        .edit_form(&ctx.caller, MemberId(id))
        .await?;
    let form = MemberInput {
        name: m.name,
        // Personal numbers are not put back into the form; the user retypes them (the field shows the masked value).
        mobile: String::new(),
        id_card: String::new(),
        unit_id: m.unit_id.to_string(),
        community_id: m.community_id.to_string(),
        skills,
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
    let input = member_input(&form);
    match state
        .cases
        .members()
        .update(&ctx.caller, MemberId(id), &input)
        .await
    {
        Ok(_) => Ok(see_other(format!("/members/{id}?ok=saved"))),
        Err(e) => {
            let e = e.into_fields()?;
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
    let page = state
        .cases
        .social_orgs()
        .list(
            &ctx.caller,
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
        can_edit: ctx.may(Action::SocialOrgEdit),
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
    let s = state
        .cases
        .social_orgs()
        .get(&ctx.caller, SocialOrgId(id))
        .await?;
    Ok(render(&SocialShow {
        l: Layout::new(&ctx, s.name.clone(), "/social-orgs").flash(q.ok.as_deref()),
        s,
        can_edit: ctx.may(Action::SocialOrgEdit),
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
        places: state.cases.social_orgs().choices(&ctx.caller).await?,
    }))
}

async fn social_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
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
    let input = social_input(form);
    let res = state
        .cases
        .social_orgs()
        .save(&ctx.caller, id.map(SocialOrgId), &input)
        .await;
    let (action, back) = match id {
        Some(id) => (
            format!("/social-orgs/{id}/edit"),
            format!("/social-orgs/{id}"),
        ),
        None => ("/social-orgs/new".to_string(), "/social-orgs".to_string()),
    };
    match res {
        Ok(new_id) => Ok(see_other(format!("/social-orgs/{new_id}?ok=saved"))),
        Err(e) => social_form(state, ctx, action, back, input, e.into_fields()?).await,
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
    let s = state
        .cases
        .social_orgs()
        .edit_form(&ctx.caller, SocialOrgId(id))
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

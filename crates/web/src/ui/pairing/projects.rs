//! Joint party-building projects (党建联建项目), their activities and grades.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::org::DictKind;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{ActivityInput, ProjectGrade, ProjectInput};
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{ActivityId, Code, FieldErrors, PairingId, ProjectId};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{
    Pairing, PairingFilter, PairingProgress, Project, ProjectActivity, ProjectFilter,
};
use shanzhi_store::{PageReq, StoreError};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, Pager, UiCtx, UiError, render, see_other};

use super::{OkOnly, parse_id, require_manage, today};

#[derive(serde::Deserialize, Default)]
pub(super) struct ProjectQuery {
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

pub(super) async fn project_list(
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

pub(super) async fn project_form(
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
pub(super) struct NewProjectQuery {
    pairing_id: Option<String>,
}

pub(super) async fn project_new(
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

pub(super) async fn project_create(
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

pub(super) async fn project_show(
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

pub(super) async fn activity_add(
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

pub(super) async fn activity_done(
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

pub(super) async fn project_grade(
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

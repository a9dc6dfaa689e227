//! Joint party-building projects (党建联建项目), their activities and grades.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::org::DictKind;
use shanzhi_domain::registration::{ActivityInput, ProjectGrade, ProjectInput};
use shanzhi_domain::role::Action;
use shanzhi_domain::{ActivityId, FieldErrors, PairingId, ProjectId};
use shanzhi_store::PageReq;
use shanzhi_store::dict::DictEntry;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{
    Pairing, PairingProgress, Project, ProjectActivity, ProjectFilter,
};

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, Pager, UiCtx, UiError, render, see_other};

use super::{OkOnly, parse_id, today};

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
    let f = ProjectFilter {
        pairing_id: parse_id(&q.pairing_id),
        unit_id: parse_id(&q.unit_id),
        category: q.category.clone().filter(|s| !s.is_empty()),
    };
    let page = state
        .cases
        .pairing()
        .projects(&ctx.caller, &f, PageReq::new(q.page, Some(20)))
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
        categories: state
            .cases
            .reference()
            .dict(&ctx.caller, DictKind::NeedCategory, true)
            .await?,
        can_create: ctx.may(Action::ProjectManage),
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
    let options = state
        .cases
        .pairing()
        .project_form_options(&ctx.caller)
        .await?;
    Ok(render(&ProjectForm {
        l: Layout::new(ctx, "新建党建联建项目", "/pairings"),
        form,
        errors,
        categories: options.categories,
        pairings: options.pairings,
        units: options.units,
        communities: options.communities,
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
    let year = today()[..4].to_string();
    let mut form = ProjectInput {
        period_start: format!("{year}-01-01"),
        period_end: format!("{year}-12-31"),
        ..Default::default()
    };
    // Preset the parties and term from the pairing the project belongs to.
    if let Some(pid) = parse_id(&q.pairing_id)
        && let Ok(p) = state
            .cases
            .pairing()
            .pairing(&ctx.caller, PairingId(pid))
            .await
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
    match state
        .cases
        .pairing()
        .create_project(&ctx.caller, &input)
        .await
    {
        Ok(id) => Ok(see_other(format!("/projects/{id}?ok=created"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => project_form(&state, &ctx, input, errors).await,
            Err(e) => Err(e.into()),
        },
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
    let d = state
        .cases
        .pairing()
        .project(&ctx.caller, ProjectId(id))
        .await?;
    let done = d.activities.iter().filter(|a| a.done_on.is_some()).count();
    let percent = (done * 100).checked_div(d.activities.len()).unwrap_or(0);
    Ok(render(&ProjectShow {
        l: Layout::new(ctx, d.project.name.clone(), "/pairings").flash(ok),
        can_manage: d.offers.manage,
        can_grade: d.offers.grade,
        p: d.project,
        activities: d.activities,
        done,
        percent,
        pairing: d.pairing_progress,
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
    let input = ActivityInput {
        title: form.get("title"),
        planned_on: form.get("planned_on"),
    };
    match state
        .cases
        .pairing()
        .add_project_activity(&ctx.caller, ProjectId(id), &input)
        .await
    {
        Ok(_) => Ok(see_other(format!("/projects/{id}?ok=saved"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => project_page(&state, &ctx, id, input, errors, None).await,
            Err(e) => Err(e.into()),
        },
    }
}

pub(super) async fn activity_done(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let project = form
        .get("project_id")
        .trim()
        .parse::<i64>()
        .ok()
        .map(ProjectId);
    let done_on = form.get("done_on");
    match state
        .cases
        .pairing()
        .mark_activity_done_from(&ctx.caller, project, ActivityId(id), Some(done_on.as_str()))
        .await
    {
        Ok(project) => Ok(see_other(format!("/projects/{project}?ok=done"))),
        Err(e) => match (e.into_fields(), project) {
            (Ok(errors), Some(project)) => {
                project_page(
                    &state,
                    &ctx,
                    project.0,
                    ActivityInput::default(),
                    errors,
                    None,
                )
                .await
            }
            (Ok(errors), None) => Err(errors.into()),
            (Err(e), _) => Err(e.into()),
        },
    }
}

pub(super) async fn project_grade(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    match state
        .cases
        .pairing()
        .grade_project(&ctx.caller, ProjectId(id), &form.get("grade"))
        .await
    {
        Ok(_) => Ok(see_other(format!("/projects/{id}?ok=graded"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => {
                project_page(&state, &ctx, id, ActivityInput::default(), errors, None).await
            }
            Err(e) => Err(e.into()),
        },
    }
}

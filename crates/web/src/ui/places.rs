//! The place tree with drill-down: 区 → 街镇 → 村居 → 网格, counts for each subtree, search, add and edit.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use shanzhi_domain::org::PlaceInput;
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, FieldErrors, PlaceId};
use shanzhi_store::places::{Place, PlaceFilter, PlaceSummary};
use shanzhi_store::{PageReq, StoreError};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/places", get(places_root))
        .route("/places/{id}", get(place_page))
        .route(
            "/places/{id}/new",
            get(new_child_page).post(new_child_submit),
        )
        .route("/places/{id}/edit", get(edit_page).post(edit_submit))
}

async fn places_root(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceView)?;
    let roots = state.store.scope_roots(&ctx.scope).await?;
    match roots.first() {
        Some(p) => Ok(see_other(format!("/places/{}", p.id))),
        None => Err(UiError(AppError::new(Code::NotFound))),
    }
}

#[derive(serde::Deserialize, Default)]
struct PlaceQuery {
    q: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "places/show.html")]
struct PlacePage {
    l: Layout,
    place: PlaceSummary,
    crumbs: Vec<Place>,
    children: Vec<PlaceSummary>,
    child_label: &'static str,
    q: String,
    pager: Pager,
    can_edit: bool,
    can_export: bool,
}

async fn place_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<PlaceQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceView)?;
    let place = state.store.get_place(&ctx.scope, PlaceId(id)).await?;
    let crumbs = state.store.place_ancestors(&ctx.scope, &place).await?;
    let search = q.q.clone().unwrap_or_default();
    // Without a search: the direct children. With one: matches anywhere below this place.
    let filter = if search.trim().is_empty() {
        PlaceFilter {
            parent_id: Some(place.id),
            ..Default::default()
        }
    } else {
        PlaceFilter {
            q: Some(search.clone()),
            ..Default::default()
        }
    };
    let scope = shanzhi_domain::role::Scope::Subtree(place.path.clone());
    let page = state
        .store
        .list_places(&scope, &filter, PageReq::new(q.page, Some(25)))
        .await?;
    let pager = Pager::new(&page, &format!("/places/{id}"), &[("q", search.clone())]);
    let mut children = Vec::new();
    for c in page.items {
        if c.id != place.id {
            children.push(state.store.place_summary(c).await?);
        }
    }
    let child_label = place
        .level()
        .and_then(|l| l.child())
        .map(|l| l.label())
        .unwrap_or("");
    let title = place.name.clone();
    let place = state.store.place_summary(place).await?;
    Ok(render(&PlacePage {
        l: Layout::new(&ctx, title, "/places").flash(q.ok.as_deref()),
        place,
        crumbs,
        children,
        child_label,
        q: search,
        pager,
        can_edit: ctx.can(Action::PlaceEdit),
        can_export: ctx.can(Action::Export),
    }))
}

#[derive(Template)]
#[template(path = "places/form.html")]
struct PlaceForm {
    l: Layout,
    action: String,
    back: String,
    heading: String,
    form: PlaceInput,
    errors: FieldErrors,
    levels: Vec<(&'static str, &'static str)>,
}

fn levels() -> Vec<(&'static str, &'static str)> {
    PartyOrgLevel::ALL
        .iter()
        .map(|l| (l.as_str(), l.label()))
        .collect()
}

fn place_input(form: &Form) -> PlaceInput {
    PlaceInput {
        code: form.get("code"),
        name: form.get("name"),
        party_org_name: form.get("party_org_name"),
        party_org_level: form.get("party_org_level"),
    }
}

async fn new_child_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceEdit)?;
    let parent = state.store.get_place(&ctx.scope, PlaceId(id)).await?;
    let child = parent
        .level()
        .and_then(|l| l.child())
        .ok_or(AppError::new(Code::InvalidPlaceLevel))?;
    Ok(render(&PlaceForm {
        l: Layout::new(&ctx, format!("新增{}", child.label()), "/places"),
        action: format!("/places/{id}/new"),
        back: format!("/places/{id}"),
        heading: format!("在「{}」下新增{}", parent.name, child.label()),
        form: PlaceInput::default(),
        errors: FieldErrors::new(),
        levels: levels(),
    }))
}

async fn new_child_submit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceEdit)?;
    let parent = state.store.get_place(&ctx.scope, PlaceId(id)).await?;
    let input = place_input(&form);
    let result = match input.validate() {
        Ok(v) => state
            .store
            .create_place(&ctx.actor, &ctx.scope, Some(PlaceId(id)), &v)
            .await
            .map_err(AppError::from),
        Err(e) => Err(AppError::fields(e)),
    };
    match result {
        Ok(new_id) => Ok(see_other(format!("/places/{new_id}?ok=created"))),
        Err(AppError {
            fields: Some(errors),
            ..
        }) => Ok(render(&PlaceForm {
            l: Layout::new(&ctx, "新增地区", "/places"),
            action: format!("/places/{id}/new"),
            back: format!("/places/{id}"),
            heading: format!("在「{}」下新增", parent.name),
            form: input,
            errors,
            levels: levels(),
        })),
        Err(e) => Err(UiError(e)),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceEdit)?;
    let p = state.store.get_place(&ctx.scope, PlaceId(id)).await?;
    Ok(render(&PlaceForm {
        l: Layout::new(&ctx, format!("编辑{}", p.name), "/places"),
        action: format!("/places/{id}/edit"),
        back: format!("/places/{id}"),
        heading: format!("编辑{}「{}」", p.level_label(), p.name),
        form: PlaceInput {
            code: p.code.clone(),
            name: p.name.clone(),
            party_org_name: p.party_org_name.clone().unwrap_or_default(),
            party_org_level: p.party_org_level.clone().unwrap_or_default(),
        },
        errors: FieldErrors::new(),
        levels: levels(),
    }))
}

async fn edit_submit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::PlaceEdit)?;
    // An id outside the scope answers 404 before the form is checked.
    state.store.get_place(&ctx.scope, PlaceId(id)).await?;
    let input = place_input(&form);
    let result = match input.validate() {
        Ok(v) => {
            state
                .store
                .update_place(&ctx.actor, &ctx.scope, PlaceId(id), &v)
                .await
        }
        Err(e) => Err(StoreError::Fields(e)),
    };
    match result {
        Ok(()) => Ok(see_other(format!("/places/{id}?ok=saved"))),
        Err(StoreError::Fields(errors)) => Ok(render(&PlaceForm {
            l: Layout::new(&ctx, "编辑地区", "/places"),
            action: format!("/places/{id}/edit"),
            back: format!("/places/{id}"),
            heading: "编辑地区".into(),
            form: input,
            errors,
            levels: levels(),
        })),
        Err(e) => Err(e.into()),
    }
}

//! The place tree with drill-down: 区 → 街镇 → 村居 → 网格, counts for each subtree, search, add and edit.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use shanzhi_domain::org::PlaceInput;
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::Action;
use shanzhi_domain::{FieldErrors, PlaceId};
use shanzhi_store::places::{Place, PlaceSummary};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
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
    let home = state.cases.places().home(&ctx.caller).await?;
    Ok(see_other(format!("/places/{}", home.id)))
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
    /// The unit and member lists open for this role (no link that leads to a 403).
    can_units: bool,
    can_members: bool,
    can_export: bool,
    can_unregistered: bool,
}

async fn place_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<PlaceQuery>,
) -> Result<Response, UiError> {
    let search = q.q.clone().unwrap_or_default();
    let view = state
        .cases
        .places()
        .view(&ctx.caller, PlaceId(id), &search, q.page)
        .await?;
    let pager = Pager::new(
        &view.children,
        &format!("/places/{id}"),
        &[("q", search.clone())],
    );
    let child_label = view
        .place
        .place
        .level()
        .and_then(|l| l.child())
        .map(|l| l.label())
        .unwrap_or("");
    let title = view.place.place.name.clone();
    Ok(render(&PlacePage {
        l: Layout::new(&ctx, title, "/places").flash(q.ok.as_deref()),
        place: view.place,
        crumbs: view.crumbs,
        children: view.children.items,
        child_label,
        q: search,
        pager,
        can_edit: ctx.may(Action::PlaceEdit),
        can_units: ctx.may(Action::UnitView),
        can_members: ctx.may(Action::MemberView),
        can_export: ctx.may(Action::Export),
        can_unregistered: ctx.may(Action::UnregisteredView),
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
    let (parent, child) = state
        .cases
        .places()
        .new_child_form(&ctx.caller, PlaceId(id))
        .await?;
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
    let input = place_input(&form);
    match state
        .cases
        .places()
        .create(&ctx.caller, PlaceId(id), &input)
        .await
    {
        Ok(new_id) => Ok(see_other(format!("/places/{new_id}?ok=created"))),
        Err(e) => {
            let errors = e.into_fields()?;
            // An unknown or out-of-scope parent answers 404 here.
            let parent = state.cases.places().get(&ctx.caller, PlaceId(id)).await?;
            Ok(render(&PlaceForm {
                l: Layout::new(&ctx, "新增地区", "/places"),
                action: format!("/places/{id}/new"),
                back: format!("/places/{id}"),
                heading: format!("在「{}」下新增", parent.name),
                form: input,
                errors,
                levels: levels(),
            }))
        }
    }
}

async fn edit_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    let p = state
        .cases
        .places()
        .edit_form(&ctx.caller, PlaceId(id))
        .await?;
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
    let input = place_input(&form);
    match state
        .cases
        .places()
        .update(&ctx.caller, PlaceId(id), &input)
        .await
    {
        Ok(_) => Ok(see_other(format!("/places/{id}?ok=saved"))),
        Err(e) => Ok(render(&PlaceForm {
            l: Layout::new(&ctx, "编辑地区", "/places"),
            action: format!("/places/{id}/edit"),
            back: format!("/places/{id}"),
            heading: "编辑地区".into(),
            form: input,
            errors: e.into_fields()?,
            levels: levels(),
        })),
    }
}

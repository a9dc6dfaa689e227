//! Resources (资源清单) a unit offers.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::registration::ResourceInput;
use shanzhi_domain::{FieldErrors, ResourceId, UnitId};
use shanzhi_store::orgs::Unit;
use shanzhi_store::registration::units::{Resource, UnitRegistration};

use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::{Layout, UiCtx, UiError, render, see_other};

use super::{OkOnly, resource_input};

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
    let p = state
        .cases
        .pairing()
        .unit_resources_page(&ctx.caller, unit)
        .await?;
    Ok(render(&ResourceList {
        l: Layout::new(ctx, format!("{} · 资源清单", p.unit.name), "/units").flash(ok),
        items: p.items,
        unit: p.unit,
        regs: p.regs,
        can_edit: p.can_edit,
        form,
        errors,
    }))
}

pub(super) async fn resource_list(
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

pub(super) async fn resource_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let input = resource_input(&form, "");
    match state
        .cases
        .pairing()
        .create_resource(&ctx.caller, UnitId(id), &input)
        .await
    {
        Ok(_) => Ok(see_other(format!("/units/{id}/resources?ok=saved"))),
        Err(e) => match e.into_fields() {
            Ok(errors) => resource_page(&state, &ctx, UnitId(id), input, errors, None).await,
            Err(e) => Err(e.into()),
        },
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

pub(super) async fn resource_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    let r = state
        .cases
        .pairing()
        .editable_resource(&ctx.caller, ResourceId(id))
        .await?;
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

pub(super) async fn resource_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let input = resource_input(&form, "");
    let cases = state.cases.pairing();
    match cases
        .update_resource(&ctx.caller, ResourceId(id), &input)
        .await
    {
        Ok(r) => Ok(see_other(format!(
            "/units/{}/resources?ok=saved",
            r.unit_id
        ))),
        Err(e) => match e.into_fields() {
            Ok(errors) => {
                let r = cases.editable_resource(&ctx.caller, ResourceId(id)).await?;
                Ok(render(&ResourceForm {
                    l: Layout::new(&ctx, "编辑资源", "/units"),
                    id,
                    unit_id: r.unit_id,
                    form: input,
                    errors,
                }))
            }
            Err(e) => Err(e.into()),
        },
    }
}

pub(super) async fn resource_delete(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    let unit = state
        .cases
        .pairing()
        .delete_resource(&ctx.caller, ResourceId(id))
        .await?;
    Ok(see_other(format!("/units/{unit}/resources?ok=deleted")))
}

//! Resources (资源清单) a unit offers.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shanzhi_domain::registration::ResourceInput;
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{FieldErrors, ResourceId, UnitId};
use shanzhi_store::orgs::Unit;
use shanzhi_store::registration::units::{Resource, UnitRegistration, UnitRegistrationFilter};
use shanzhi_store::{PageReq, StoreError};

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

pub(super) async fn resource_edit(
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

pub(super) async fn resource_update(
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

pub(super) async fn resource_delete(
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

//! The home page for each role, "my account" (password change, roles), and switching the role in use.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use shanzhi_domain::{Code, RoleAssignmentId};
use shanzhi_store::places::PlaceSummary;

use super::{Layout, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::extract::UiQuery;
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/", get(home))
        .route("/account", get(account_page))
        .route("/account/password", post(account_password))
        .route("/account/role", post(switch_role))
        .route("/account/export.json", get(export_own))
}

#[derive(serde::Deserialize, Default)]
pub struct OkQuery {
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    role: &'static str,
    summaries: Vec<PlaceSummary>,
    unit: Option<shanzhi_store::orgs::Unit>,
    member: Option<shanzhi_store::orgs::Member>,
    accounts_total: i64,
    audit_total: i64,
    todo: Vec<shanzhi_cases::accounts::Todo>,
    tiles: shanzhi_cases::accounts::Tiles,
    unread: i64,
}

async fn home(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    let home = state.cases.accounts().home(&ctx.caller).await?;
    Ok(render(&HomePage {
        l: Layout::new(&ctx, "首页", "/").flash(q.ok.as_deref()),
        role: ctx.role().as_str(),
        summaries: home.summaries,
        unit: home.unit,
        member: home.member,
        accounts_total: home.accounts_total,
        audit_total: home.audit_total,
        todo: home.todo,
        tiles: home.tiles,
        unread: home.unread,
    }))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    username: String,
    mobile: String,
    error: &'static str,
    unread: i64,
}

async fn account_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    let mobile = state
        .cases
        .accounts()
        .own_mobile(&ctx.caller)
        .await?
        .unwrap_or_else(|| "未登记".into());
    Ok(render(&AccountPage {
        l: Layout::new(&ctx, "我的账号", "/account").flash(q.ok.as_deref()),
        username: ctx.session.username.clone(),
        mobile,
        error: "",
        unread: state.cases.reminders().unread(&ctx.caller).await?,
    }))
}

async fn account_password(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    match state
        .cases
        .accounts()
        .change_password(
            &ctx.caller,
            &form.get("current"),
            &form.get("new"),
            &form.get("confirm"),
            &*state.hasher,
        )
        .await
    {
        Ok(()) => {
            // Every session ended with the change (including this one): sign in again with the new password.
            Ok(see_other("/login"))
        }
        Err(e) if e.code == Code::Internal => Err(UiError(e)),
        Err(e) => {
            let mobile = state
                .cases
                .accounts()
                .own_mobile(&ctx.caller)
                .await?
                .unwrap_or_default();
            Ok(render(&AccountPage {
                l: Layout::new(&ctx, "我的账号", "/account"),
                username: ctx.session.username.clone(),
                mobile,
                error: e.code.message(),
                unread: state.cases.reminders().unread(&ctx.caller).await?,
            }))
        }
    }
}

async fn switch_role(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let id: i64 = form
        .get("role_id")
        .parse()
        .map_err(|_| AppError::new(Code::InvalidRole))?;
    state
        .cases
        .accounts()
        .switch_role(&ctx.caller, &ctx.session.token_hash, RoleAssignmentId(id))
        .await?;
    Ok(see_other("/?ok=role"))
}

/// The signed-in person's own data as a JSON download (audited).
async fn export_own(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    let data = state.cases.accounts().export_own(&ctx.caller).await?;
    let body = serde_json::to_vec_pretty(&data).map_err(AppError::internal)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"shanzhi-{}.json\"",
                    ctx.session.username
                ),
            ),
        ],
        body,
    )
        .into_response())
}

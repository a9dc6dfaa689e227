//! Dictionaries (district admin), the audit log (auditor), accounts (security admin).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_domain::org::{DictEntryInput, DictKind};
use shanzhi_domain::role::Action;
use shanzhi_domain::{AccountId, Code, DictEntryId, FieldErrors, Timestamp};
use shanzhi_store::accounts::AccountSummary;
use shanzhi_store::dict::DictEntry;
use shanzhi_store::{AuditFilter, AuditRow, PageReq, StoreError};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::forms::Form;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dictionaries", get(dict_page).post(dict_create))
        .route("/dictionaries/{id}/edit", get(dict_edit).post(dict_update))
        .route("/audit", get(audit_page))
        .route("/accounts", get(accounts_page))
        .route("/accounts/{id}/unlock", post(account_unlock))
}

#[derive(serde::Deserialize, Default)]
struct DictQuery {
    kind: Option<String>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "dict/list.html")]
struct DictPage {
    l: Layout,
    kinds: Vec<(&'static str, &'static str, bool)>,
    kind: &'static str,
    kind_label: &'static str,
    entries: Vec<DictEntry>,
    form: DictEntryInput,
    errors: FieldErrors,
}

async fn dict_render(
    state: &AppState,
    ctx: &Ctx,
    kind: DictKind,
    form: DictEntryInput,
    errors: FieldErrors,
    ok: Option<&str>,
) -> Result<Response, UiError> {
    Ok(render(&DictPage {
        l: Layout::new(ctx, "字典管理", "/dictionaries").flash(ok),
        kinds: DictKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(), *k == kind))
            .collect(),
        kind: kind.as_str(),
        kind_label: kind.label(),
        entries: state.store.list_dict(kind, false).await?,
        form,
        errors,
    }))
}

fn kind_of(s: Option<&str>) -> DictKind {
    s.and_then(DictKind::parse).unwrap_or(DictKind::Skill)
}

async fn dict_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Query(q): Query<DictQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::DictionaryEdit)?;
    dict_render(
        &state,
        &ctx,
        kind_of(q.kind.as_deref()),
        DictEntryInput {
            active: true,
            ..Default::default()
        },
        FieldErrors::new(),
        q.ok.as_deref(),
    )
    .await
}

fn dict_input(f: &Form) -> Result<DictEntryInput, FieldErrors> {
    let sort = match f.get("sort").trim() {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| FieldErrors::single("sort", Code::InvalidNumber))?,
        ),
    };
    Ok(DictEntryInput {
        code: f.get("code"),
        name: f.get("name"),
        sort,
        active: f.checked("active"),
    })
}

async fn dict_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::DictionaryEdit)?;
    let kind = kind_of(Some(&form.get("kind")));
    let input = dict_input(&form);
    let res = match &input {
        Ok(i) => match i.validate() {
            Ok(v) => state
                .store
                .create_dict_entry(&ctx.actor, kind, &v)
                .await
                .map(|_| ()),
            Err(e) => Err(StoreError::Fields(e)),
        },
        Err(e) => Err(StoreError::Fields(e.clone())),
    };
    match res {
        Ok(()) => Ok(see_other(format!(
            "/dictionaries?kind={}&ok=created",
            kind.as_str()
        ))),
        Err(StoreError::Fields(e)) => {
            let shown = DictEntryInput {
                code: form.get("code"),
                name: form.get("name"),
                sort: None,
                active: form.checked("active"),
            };
            dict_render(&state, &ctx, kind, shown, e, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "dict/edit.html")]
struct DictEdit {
    l: Layout,
    e: DictEntry,
    kind_label: &'static str,
    errors: FieldErrors,
}

async fn dict_edit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    ctx.require(Action::DictionaryEdit)?;
    let e = state.store.get_dict_entry(DictEntryId(id)).await?;
    let kind_label = DictKind::parse(&e.kind).map(DictKind::label).unwrap_or("");
    Ok(render(&DictEdit {
        l: Layout::new(&ctx, "编辑字典项", "/dictionaries"),
        e,
        kind_label,
        errors: FieldErrors::new(),
    }))
}

async fn dict_update(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Path(id): Path<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::DictionaryEdit)?;
    let current = state.store.get_dict_entry(DictEntryId(id)).await?;
    let mut input = match dict_input(&form) {
        Ok(i) => i,
        Err(errors) => {
            let kind_label = DictKind::parse(&current.kind)
                .map(DictKind::label)
                .unwrap_or("");
            return Ok(render(&DictEdit {
                l: Layout::new(&ctx, "编辑字典项", "/dictionaries"),
                e: current,
                kind_label,
                errors,
            }));
        }
    };
    input.code = current.code.clone();
    match input.validate() {
        Ok(v) => {
            state
                .store
                .update_dict_entry(&ctx.actor, DictEntryId(id), &v)
                .await?;
            Ok(see_other(format!(
                "/dictionaries?kind={}&ok=saved",
                current.kind
            )))
        }
        Err(errors) => {
            let kind_label = DictKind::parse(&current.kind)
                .map(DictKind::label)
                .unwrap_or("");
            let e = DictEntry {
                name: form.get("name"),
                ..current
            };
            Ok(render(&DictEdit {
                l: Layout::new(&ctx, "编辑字典项", "/dictionaries"),
                e,
                kind_label,
                errors,
            }))
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    result: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    items: Vec<AuditRow>,
    pager: Pager,
    f: AuditFilter,
}

async fn audit_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::AuditView)?;
    let f = AuditFilter {
        actor: q.actor,
        action: q.action,
        result: q.result,
        from: q.from,
        to: q.to,
    };
    let page = state
        .store
        .list_audit(&f, PageReq::new(q.page, Some(50)))
        .await?;
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let pager = Pager::new(
        &page,
        "/audit",
        &[
            ("actor", s(&f.actor)),
            ("action", s(&f.action)),
            ("result", s(&f.result)),
            ("from", s(&f.from)),
            ("to", s(&f.to)),
        ],
    );
    Ok(render(&AuditPage {
        l: Layout::new(&ctx, "审计日志", "/audit"),
        items: page.items,
        pager,
        f,
    }))
}

#[derive(serde::Deserialize, Default)]
struct AccountsQuery {
    q: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    l: Layout,
    items: Vec<AccountSummary>,
    pager: Pager,
    q: String,
    now: i64,
}

async fn accounts_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Query(q): Query<AccountsQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    let page = state
        .store
        .list_accounts(q.q.as_deref(), PageReq::new(q.page, Some(30)))
        .await?;
    let pager = Pager::new(
        &page,
        "/accounts",
        &[("q", q.q.clone().unwrap_or_default())],
    );
    Ok(render(&AccountsPage {
        l: Layout::new(&ctx, "账号管理", "/accounts").flash(q.ok.as_deref()),
        items: page.items,
        pager,
        q: q.q.unwrap_or_default(),
        now: Timestamp::now().0,
    }))
}

async fn account_unlock(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    Path(id): Path<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    state
        .store
        .unlock_account(&ctx.actor, AccountId(id))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::new(Code::NotFound),
            other => other.into(),
        })?;
    Ok(see_other("/accounts?ok=unlocked"))
}

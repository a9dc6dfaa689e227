//! Dictionaries (district admin), the audit log (auditor), accounts (security admin).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_domain::org::{DictEntryInput, DictKind};
use shanzhi_domain::role::Action;
use shanzhi_domain::role::Role;
use shanzhi_domain::{AccountId, Code, DictEntryId, FieldErrors, RoleAssignmentId, Timestamp};
use shanzhi_store::accounts::AccountSummary;
use shanzhi_store::accounts::{NewAccount, NewBinding};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::{AuditFilter, AuditRow, PageReq, StoreError};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/dictionaries", get(dict_page).post(dict_create))
        .route("/dictionaries/{id}/edit", get(dict_edit).post(dict_update))
        .route("/audit", get(audit_page))
        .route("/accounts", get(accounts_page))
        .route("/accounts/{id}/unlock", post(account_unlock))
        .route("/accounts/new", get(account_new).post(account_create))
        .route("/accounts/{id}", get(account_show))
        .route("/accounts/{id}/roles", post(account_add_role))
        .route(
            "/accounts/{id}/roles/{binding}/remove",
            post(account_remove_role),
        )
        .route("/accounts/{id}/active", post(account_set_active))
        .route(
            "/accounts/{id}/reset-password",
            post(account_reset_password),
        )
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
    UiQuery(q): UiQuery<DictQuery>,
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
    UiPath(id): UiPath<i64>,
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
    UiPath(id): UiPath<i64>,
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
    UiQuery(q): UiQuery<AuditQuery>,
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
    UiQuery(q): UiQuery<AccountsQuery>,
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
    UiPath(id): UiPath<i64>,
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

// ------------------------------------------------------------------ account administration (security admin)

fn role_choices() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

/// Resolves "what the role is bound to" as typed: a place code, a unit's credit code or a member's mobile.
async fn binding_from_form(state: &AppState, form: &Form) -> Result<NewBinding, FieldErrors> {
    let role = Role::parse(&form.get("role"))
        .ok_or_else(|| FieldErrors::single("role", Code::InvalidRole))?;
    let target = form.get("target");
    let target = target.trim();
    let mut b = NewBinding {
        role,
        place_id: None,
        unit_id: None,
        member_id: None,
    };
    let internal = |_| FieldErrors::single("target", Code::Internal);
    if role.needs_unit() {
        b.unit_id = Some(
            state
                .store
                .unit_by_credit_code(target)
                .await
                .map_err(internal)?
                .ok_or_else(|| FieldErrors::single("target", Code::InvalidUnit))?,
        );
    } else if role.needs_member() {
        b.member_id = Some(
            state
                .store
                .member_by_mobile(target)
                .await
                .map_err(internal)?
                .ok_or_else(|| FieldErrors::single("target", Code::NotFound))?,
        );
    } else {
        let place = state
            .store
            .place_by_code(target)
            .await
            .map_err(internal)?
            .ok_or_else(|| FieldErrors::single("target", Code::InvalidPlace))?;
        b.place_id = Some(place.id());
    }
    Ok(b)
}

#[derive(Template)]
#[template(path = "accounts/new.html")]
struct AccountNew {
    l: Layout,
    username: String,
    display_name: String,
    mobile: String,
    role: String,
    target: String,
    roles: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

async fn account_new(UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    Ok(render(&AccountNew {
        l: Layout::new(&ctx, "新建账号", "/accounts"),
        username: String::new(),
        display_name: String::new(),
        mobile: String::new(),
        role: String::new(),
        target: String::new(),
        roles: role_choices(),
        errors: FieldErrors::new(),
    }))
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordShown {
    l: Layout,
    username: String,
    password: String,
    account_id: i64,
}

async fn hash_password(password: &str) -> Result<String, AppError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || shanzhi_secure::password::hash(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

async fn account_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    let again = |errors: FieldErrors| AccountNew {
        l: Layout::new(&ctx, "新建账号", "/accounts"),
        username: form.get("username"),
        display_name: form.get("display_name"),
        mobile: form.get("mobile"),
        role: form.get("role"),
        target: form.get("target"),
        roles: role_choices(),
        errors,
    };
    let mut errors = FieldErrors::new();
    if let Err(c) = shanzhi_domain::validate::text(&form.get("display_name"), 40) {
        errors.add("display_name", c);
    }
    let binding = match binding_from_form(&state, &form).await {
        Ok(b) => Some(b),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    let Some(binding) = binding.filter(|_| errors.is_empty()) else {
        return Ok(render(&again(errors)));
    };
    let password = shanzhi_secure::password::initial_password();
    let mobile = Some(form.get("mobile")).filter(|m| !m.trim().is_empty());
    let account = NewAccount {
        username: form.get("username"),
        display_name: form.get("display_name").trim().to_string(),
        mobile,
        password_hash: hash_password(&password).await?,
        member_id: binding.member_id,
        bindings: vec![binding],
    };
    match state.store.create_account(&ctx.actor, &account).await {
        Ok(id) => {
            // An initial password is temporary: admins must replace it at first login.
            state
                .store
                .set_password_changed_at(id, Timestamp(0))
                .await?;
            Ok(render(&PasswordShown {
                l: Layout::new(&ctx, "账号已创建", "/accounts"),
                username: account.username.to_ascii_lowercase(),
                password,
                account_id: id.0,
            }))
        }
        Err(StoreError::Fields(e)) => Ok(render(&again(e))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/show.html")]
struct AccountShow {
    l: Layout,
    a: AccountSummary,
    mobile: String,
    bindings: Vec<(i64, String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    locked: bool,
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    id: AccountId,
    errors: FieldErrors,
    ok: Option<&str>,
) -> Result<Response, UiError> {
    let account = state.store.get_account(id).await?;
    let a = AccountSummary {
        id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        failed_logins: account.failed_logins,
        locked_until: account.locked_until,
        totp_enabled: account.totp_enabled,
        active: account.active,
        created_at: account.created_at,
    };
    let bindings = state
        .store
        .account_bindings(id)
        .await?
        .into_iter()
        .map(|(bid, b)| (bid.0, b.role.label().to_string(), b.scope_name))
        .collect();
    Ok(render(&AccountShow {
        l: Layout::new(ctx, account.username.clone(), "/accounts").flash(ok),
        locked: account.is_locked(Timestamp::now()),
        a,
        mobile: state
            .store
            .account_mobile_masked(id)
            .await?
            .unwrap_or_else(|| "未登记".into()),
        bindings,
        roles: role_choices(),
        errors,
    }))
}

async fn account_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<AccountsQuery>,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    account_page(
        &state,
        &ctx,
        AccountId(id),
        FieldErrors::new(),
        q.ok.as_deref(),
    )
    .await
}

async fn account_add_role(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    let binding = match binding_from_form(&state, &form).await {
        Ok(b) => b,
        Err(e) => return account_page(&state, &ctx, AccountId(id), e, None).await,
    };
    match state
        .store
        .add_role(&ctx.actor, AccountId(id), &binding)
        .await
    {
        Ok(()) => Ok(see_other(format!("/accounts/{id}?ok=saved"))),
        Err(StoreError::Fields(e)) => account_page(&state, &ctx, AccountId(id), e, None).await,
        Err(e) => Err(e.into()),
    }
}

async fn account_remove_role(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath((id, binding)): UiPath<(i64, i64)>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    match state
        .store
        .remove_role(&ctx.actor, AccountId(id), RoleAssignmentId(binding))
        .await
    {
        Ok(()) => Ok(see_other(format!("/accounts/{id}?ok=saved"))),
        Err(StoreError::Refused(c)) => {
            account_page(
                &state,
                &ctx,
                AccountId(id),
                FieldErrors::single("role", c),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn account_set_active(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    if AccountId(id) == ctx.account_id() {
        return Err(UiError(AppError::new(Code::Forbidden)));
    }
    state
        .store
        .set_account_active(&ctx.actor, AccountId(id), form.get("active") == "true")
        .await?;
    Ok(see_other(format!("/accounts/{id}?ok=saved")))
}

async fn account_reset_password(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    ctx.require(Action::AccountManage)?;
    let account = state.store.get_account(AccountId(id)).await?;
    let password = shanzhi_secure::password::initial_password();
    state
        .store
        .set_password(&ctx.actor, AccountId(id), &hash_password(&password).await?)
        .await?;
    state
        .store
        .set_password_changed_at(AccountId(id), Timestamp(0))
        .await?;
    Ok(render(&PasswordShown {
        l: Layout::new(&ctx, "密码已重置", "/accounts"),
        username: account.username,
        password,
        account_id: id,
    }))
}

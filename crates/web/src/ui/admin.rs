//! Dictionaries (district admin), the audit log (auditor), accounts (security admin).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_cases::accounts::{AccountInput, BindTarget, BindingInput, Candidate};
use shanzhi_domain::org::{DictEntryInput, DictKind};
use shanzhi_domain::role::Role;
use shanzhi_domain::{AccountId, Code, DictEntryId, FieldErrors, RoleAssignmentId, Timestamp};
use shanzhi_store::PageReq;
use shanzhi_store::accounts::{AccountFilter, AccountSummary};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::{AuditFilter, AuditRow};

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
        entries: state.cases.dict().manage(&ctx.caller, kind).await?,
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
    let kind = kind_of(Some(&form.get("kind")));
    let res = match dict_input(&form) {
        Ok(i) => state
            .cases
            .dict()
            .create(&ctx.caller, Some(kind), &i)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match res {
        Ok(()) => Ok(see_other(format!(
            "/dictionaries?kind={}&ok=created",
            kind.as_str()
        ))),
        Err(e) => match e.into_fields() {
            Ok(e) => {
                let shown = DictEntryInput {
                    code: form.get("code"),
                    name: form.get("name"),
                    sort: None,
                    active: form.checked("active"),
                };
                dict_render(&state, &ctx, kind, shown, e, None).await
            }
            Err(e) => Err(e.into()),
        },
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
    let e = state.cases.dict().get(&ctx.caller, DictEntryId(id)).await?;
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
    let current = state.cases.dict().get(&ctx.caller, DictEntryId(id)).await?;
    let input = match dict_input(&form) {
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
    match state
        .cases
        .dict()
        .update(&ctx.caller, DictEntryId(id), &input)
        .await
        .map(|_| ())
        .map_err(AppError::into_fields)
    {
        Ok(()) => Ok(see_other(format!(
            "/dictionaries?kind={}&ok=saved",
            current.kind
        ))),
        Err(Err(e)) => Err(e.into()),
        Err(Ok(errors)) => {
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
    /// Each entry with who did it, by display name.
    items: Vec<(AuditRow, String)>,
    pager: Pager,
    f: AuditFilter,
}

async fn audit_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<AuditQuery>,
) -> Result<Response, UiError> {
    let f = AuditFilter {
        actor: q.actor,
        action: q.action,
        result: q.result,
        from: q.from,
        to: q.to,
    };
    let page = state
        .cases
        .audit()
        .list(&ctx.caller, &f, PageReq::new(q.page, Some(50)))
        .await?;
    let names = state
        .cases
        .audit()
        .actor_names(&ctx.caller, &page.items)
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
        items: page.items.into_iter().zip(names).collect(),
        pager,
        f,
    }))
}

#[derive(serde::Deserialize, Default)]
struct AccountsQuery {
    q: Option<String>,
    /// A role code (list filter; the picker's role on an account page).
    role: Option<String>,
    /// Scope name contains (list filter).
    scope: Option<String>,
    /// The picker's search (account page).
    find: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

/// One account row: the account and its bindings as "role · scope" in Chinese.
struct AccountLine {
    a: AccountSummary,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    l: Layout,
    items: Vec<AccountLine>,
    pager: Pager,
    q: String,
    role: String,
    scope: String,
    roles: Vec<(&'static str, &'static str)>,
    now: i64,
}

async fn accounts_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<AccountsQuery>,
) -> Result<Response, UiError> {
    let f = AccountFilter {
        q: q.q.clone(),
        role: q.role.clone(),
        scope: q.scope.clone(),
    };
    let cases = state.cases.accounts();
    let roles = role_choices(cases.roles(&ctx.caller)?);
    let page = cases
        .list(&ctx.caller, &f, PageReq::new(q.page, Some(30)))
        .await?;
    let pager = Pager::new(
        &page,
        "/accounts",
        &[
            ("q", q.q.clone().unwrap_or_default()),
            ("role", q.role.clone().unwrap_or_default()),
            ("scope", q.scope.clone().unwrap_or_default()),
        ],
    );
    let items = page
        .items
        .into_iter()
        .map(|r| AccountLine {
            roles: r
                .bindings
                .iter()
                .map(|b| format!("{} · {}", b.role.label(), b.scope_name))
                .collect(),
            a: r.account,
        })
        .collect();
    Ok(render(&AccountsPage {
        l: Layout::new(&ctx, "账号管理", "/accounts").flash(q.ok.as_deref()),
        items,
        pager,
        q: q.q.unwrap_or_default(),
        role: q.role.unwrap_or_default(),
        scope: q.scope.unwrap_or_default(),
        roles,
        now: Timestamp::now().0,
    }))
}

async fn account_unlock(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    state
        .cases
        .accounts()
        .unlock(&ctx.caller, AccountId(id))
        .await?;
    Ok(see_other("/accounts?ok=unlocked"))
}

// ------------------------------------------------------------------ account administration (security admin)

fn role_choices(roles: &[Role]) -> Vec<(&'static str, &'static str)> {
    roles.iter().map(|r| (r.as_str(), r.label())).collect()
}

/// The binding as chosen: the role, and the place, unit or member picked from the search results (a typed id).
fn binding_input(form: &Form) -> BindingInput {
    BindingInput {
        role: form.get("role"),
        target: BindTarget::parse(&form.get("target")),
    }
}

#[derive(serde::Deserialize, Default)]
struct PickQuery {
    role: Option<String>,
    /// Name to search places, units or members by.
    find: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/new.html")]
struct AccountNew {
    l: Layout,
    username: String,
    display_name: String,
    mobile: String,
    role: String,
    find: String,
    /// The chosen target's form value, kept when the form is shown again.
    target: String,
    candidates: Vec<Candidate>,
    roles: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

/// Step one (search by role and name, a GET form that works without JavaScript) and step two (choose one of the
/// matches, fill in the account) on one page.
async fn account_new(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<PickQuery>,
) -> Result<Response, UiError> {
    let cases = state.cases.accounts();
    let roles = role_choices(cases.roles(&ctx.caller)?);
    let role = q.role.unwrap_or_default();
    let find = q.find.unwrap_or_default();
    let candidates = if role.is_empty() {
        Vec::new()
    } else {
        cases.candidates(&ctx.caller, &role, &find).await?
    };
    Ok(render(&AccountNew {
        l: Layout::new(&ctx, "新建账号", "/accounts"),
        username: String::new(),
        display_name: String::new(),
        mobile: String::new(),
        role,
        find,
        target: String::new(),
        candidates,
        roles,
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

async fn account_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let candidates = state
        .cases
        .accounts()
        .candidates(&ctx.caller, &form.get("role"), &form.get("find"))
        .await?;
    let again = |errors: FieldErrors| AccountNew {
        l: Layout::new(&ctx, "新建账号", "/accounts"),
        username: form.get("username"),
        display_name: form.get("display_name"),
        mobile: form.get("mobile"),
        role: form.get("role"),
        find: form.get("find"),
        target: form.get("target"),
        candidates: candidates.clone(),
        roles: role_choices(&Role::ALL),
        errors,
    };
    let input = AccountInput {
        username: form.get("username"),
        display_name: form.get("display_name"),
        mobile: form.get("mobile"),
        binding: binding_input(&form),
    };
    match state
        .cases
        .accounts()
        .create(&ctx.caller, &input, &*state.hasher)
        .await
    {
        Ok(created) => Ok(render(&PasswordShown {
            l: Layout::new(&ctx, "账号已创建", "/accounts"),
            username: created.username,
            password: created.password,
            account_id: created.account_id.0,
        })),
        Err(e) => match e.into_fields() {
            Ok(errors) => Ok(render(&again(errors))),
            Err(e) => Err(e.into()),
        },
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
    /// The add-role picker: the role and name searched, and the matches to choose from.
    role: String,
    find: String,
    candidates: Vec<Candidate>,
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    id: AccountId,
    errors: FieldErrors,
    ok: Option<&str>,
    pick: PickQuery,
) -> Result<Response, UiError> {
    let d = state.cases.accounts().get(&ctx.caller, id).await?;
    let role = pick.role.unwrap_or_default();
    let find = pick.find.unwrap_or_default();
    let candidates = if role.is_empty() {
        Vec::new()
    } else {
        state
            .cases
            .accounts()
            .candidates(&ctx.caller, &role, &find)
            .await?
    };
    let bindings = d
        .bindings
        .into_iter()
        .map(|(bid, b)| (bid.0, b.role.label().to_string(), b.scope_name))
        .collect();
    Ok(render(&AccountShow {
        l: Layout::new(ctx, d.account.username.clone(), "/accounts").flash(ok),
        locked: d.locked,
        a: d.account,
        mobile: d.mobile.unwrap_or_else(|| "未登记".into()),
        bindings,
        roles: role_choices(&Role::ALL),
        errors,
        role,
        find,
        candidates,
    }))
}

async fn account_show(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<AccountsQuery>,
) -> Result<Response, UiError> {
    let pick = PickQuery {
        role: q.role,
        find: q.find,
    };
    account_page(
        &state,
        &ctx,
        AccountId(id),
        FieldErrors::new(),
        q.ok.as_deref(),
        pick,
    )
    .await
}

async fn account_add_role(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    match state
        .cases
        .accounts()
        .add_role(&ctx.caller, AccountId(id), &binding_input(&form))
        .await
    {
        Ok(()) => Ok(see_other(format!("/accounts/{id}?ok=saved"))),
        Err(e) => match e.into_fields() {
            Ok(e) => {
                let pick = PickQuery {
                    role: Some(form.get("role")),
                    find: Some(form.get("find")),
                };
                account_page(&state, &ctx, AccountId(id), e, None, pick).await
            }
            Err(e) => Err(e.into()),
        },
    }
}

async fn account_remove_role(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath((id, binding)): UiPath<(i64, i64)>,
    _form: Form,
) -> Result<Response, UiError> {
    match state
        .cases
        .accounts()
        .remove_role(&ctx.caller, AccountId(id), RoleAssignmentId(binding))
        .await
    {
        Ok(()) => Ok(see_other(format!("/accounts/{id}?ok=saved"))),
        Err(e) if e.code == Code::InvalidRole => {
            account_page(
                &state,
                &ctx,
                AccountId(id),
                FieldErrors::single("role", e.code),
                None,
                PickQuery::default(),
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
    state
        .cases
        .accounts()
        .set_active(&ctx.caller, AccountId(id), form.get("active") == "true")
        .await?;
    Ok(see_other(format!("/accounts/{id}?ok=saved")))
}

async fn account_reset_password(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    let reset = state
        .cases
        .accounts()
        .reset_password(&ctx.caller, AccountId(id), &*state.hasher)
        .await?;
    Ok(render(&PasswordShown {
        l: Layout::new(&ctx, "密码已重置", "/accounts"),
        username: reset.username,
        password: reset.password,
        account_id: reset.account_id.0,
    }))
}

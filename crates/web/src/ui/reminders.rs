//! 未报到名单 (per unit, per place) with 提醒报到 / 提醒全部 and its export, and the signed-in person's inbox (消息).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use shanzhi_cases::reminders::UnregisteredOffers;
use shanzhi_domain::{Code, MemberId, NotificationId, PlaceId, UnitId};
use shanzhi_sheets::Format;
use shanzhi_store::PageReq;
use shanzhi_store::notifications::{
    Notification, UnregisteredFilter, UnregisteredList, UnregisteredOf,
};

use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::Ctx;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;
use crate::ui::imports::download;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/units/{id}/unregistered", get(unit_list))
        .route("/units/{id}/unregistered.xlsx", get(unit_export))
        .route("/units/{id}/unregistered/remind", post(unit_remind))
        .route("/units/{id}/unregistered/remind-all", post(unit_remind_all))
        .route("/places/{id}/unregistered", get(place_list))
        .route("/places/{id}/unregistered.xlsx", get(place_export))
        .route("/places/{id}/unregistered/remind", post(place_remind))
        .route(
            "/places/{id}/unregistered/remind-all",
            post(place_remind_all),
        )
        .route("/messages", get(inbox))
        .route("/messages/read-all", post(inbox_read_all))
        .route("/messages/{id}/read", post(inbox_read))
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    page: Option<u32>,
    /// `1`: show full mobiles (roles that may reveal; audited).
    reveal: Option<String>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "reminders/list.html")]
struct ListPage {
    l: Layout,
    /// `/units/3/unregistered` or `/places/7/unregistered`.
    base: String,
    /// Where 返回 leads (the unit or place page).
    back: String,
    of_name: String,
    list: Option<UnregisteredList>,
    offers: UnregisteredOffers,
    q: String,
    sort: String,
    reveal: bool,
    error: &'static str,
    pager: Option<Pager>,
}

fn paths(of: UnregisteredOf) -> (String, String) {
    match of {
        UnregisteredOf::Unit(u) => (
            format!("/units/{}/unregistered", u.0),
            format!("/units/{}", u.0),
        ),
        UnregisteredOf::Place(p) => (
            format!("/places/{}/unregistered", p.0),
            format!("/places/{}", p.0),
        ),
    }
}

fn filter(q: &ListQuery) -> UnregisteredFilter {
    UnregisteredFilter {
        q: q.q.clone(),
        sort: q.sort.clone(),
    }
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    of: UnregisteredOf,
    q: &ListQuery,
    error: &'static str,
) -> Result<Response, UiError> {
    let cases = state.cases.reminders();
    let offers = cases.offers(ctx);
    let reveal = q.reveal.as_deref() == Some("1") && offers.reveal;
    let page = PageReq::new(q.page, Some(20));
    let (base, back) = paths(of);
    let (list, of_name) = match cases.unregistered(ctx, of, &filter(q), page, reveal).await {
        Ok(list) => {
            let name = list.of_name.clone();
            (Some(list), name)
        }
        Err(e) if e.code == Code::RoundNotOpen => (None, String::new()),
        Err(e) => return Err(UiError(e)),
    };
    let pager = list.as_ref().map(|l| {
        Pager::new(
            &l.members,
            &base,
            &[
                ("q", q.q.clone().unwrap_or_default()),
                ("sort", q.sort.clone().unwrap_or_default()),
                ("reveal", if reveal { "1".into() } else { String::new() }),
            ],
        )
    });
    let title = if of_name.is_empty() {
        "未报到名单".to_string()
    } else {
        format!("{of_name} · 未报到名单")
    };
    Ok(render(&ListPage {
        l: Layout::new(ctx, title, "/").flash(q.ok.as_deref()),
        base,
        back,
        of_name,
        list,
        offers,
        q: q.q.clone().unwrap_or_default(),
        sort: q.sort.clone().unwrap_or_default(),
        reveal,
        error,
        pager,
    }))
}

async fn unit_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<ListQuery>,
) -> Result<Response, UiError> {
    list_page(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), &q, "").await
}

async fn place_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<ListQuery>,
) -> Result<Response, UiError> {
    list_page(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), &q, "").await
}

async fn export(
    state: &AppState,
    ctx: &Ctx,
    of: UnregisteredOf,
    q: &ListQuery,
) -> Result<Response, UiError> {
    let file = state.cases.reminders().export(ctx, of, &filter(q)).await?;
    Ok(download(Format::Xlsx, &file.file_name, file.bytes))
}

async fn unit_export(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<ListQuery>,
) -> Result<Response, UiError> {
    export(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), &q).await
}

async fn place_export(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<ListQuery>,
) -> Result<Response, UiError> {
    export(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), &q).await
}

/// The list query a form carried back (search and order), for the page shown after a reminder.
fn query_of(form: &Form) -> ListQuery {
    let opt = |k: &str| Some(form.get(k)).filter(|v| !v.is_empty());
    ListQuery {
        q: opt("q"),
        sort: opt("sort"),
        page: form.get("page").parse().ok(),
        reveal: None,
        ok: None,
    }
}

fn back_to(of: UnregisteredOf, q: &ListQuery, ok: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("q", &q.q), ("sort", &q.sort)] {
        if let Some(v) = v {
            s.append_pair(k, v);
        }
    }
    if let Some(p) = q.page {
        s.append_pair("page", &p.to_string());
    }
    s.append_pair("ok", ok);
    format!("{}?{}", paths(of).0, s.finish())
}

async fn remind(
    state: &AppState,
    ctx: &Ctx,
    of: UnregisteredOf,
    form: Form,
) -> Result<Response, UiError> {
    let q = query_of(&form);
    let member = form.get("member_id").parse().ok().map(MemberId);
    match state.cases.reminders().remind(ctx, of, member).await {
        Ok(()) => Ok(see_other(back_to(of, &q, "reminded"))),
        Err(e)
            if matches!(
                e.code,
                Code::RemindedRecently | Code::MemberAlreadyRegistered | Code::ValidationFailed
            ) =>
        {
            let msg = e
                .fields
                .as_ref()
                .and_then(|f| f.get("member_id"))
                .map(|f| f.message)
                .unwrap_or(e.code.message());
            list_page(state, ctx, of, &q, msg).await
        }
        Err(e) => Err(UiError(e)),
    }
}

async fn unit_remind(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    remind(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), form).await
}

async fn place_remind(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    remind(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), form).await
}

async fn remind_all(
    state: &AppState,
    ctx: &Ctx,
    of: UnregisteredOf,
    form: Form,
) -> Result<Response, UiError> {
    let q = query_of(&form);
    let out = state
        .cases
        .reminders()
        .remind_all(ctx, of, &filter(&q))
        .await?;
    let ok = if out.reminded == 0 {
        "reminded_none"
    } else if out.skipped > 0 {
        "reminded_some"
    } else {
        "reminded_all"
    };
    Ok(see_other(back_to(of, &q, ok)))
}

async fn unit_remind_all(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    remind_all(&state, &ctx, UnregisteredOf::Unit(UnitId(id)), form).await
}

async fn place_remind_all(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    remind_all(&state, &ctx, UnregisteredOf::Place(PlaceId(id)), form).await
}

// ------------------------------------------------------------------ 消息

#[derive(serde::Deserialize, Default)]
struct InboxQuery {
    page: Option<u32>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "reminders/inbox.html")]
struct InboxPage {
    l: Layout,
    items: Vec<Notification>,
    unread: i64,
    pager: Pager,
}

async fn inbox(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<InboxQuery>,
) -> Result<Response, UiError> {
    let cases = state.cases.reminders();
    let page = cases.inbox(&ctx, PageReq::new(q.page, Some(20))).await?;
    let unread = cases.unread(&ctx).await?;
    let pager = Pager::new(&page, "/messages", &[]);
    Ok(render(&InboxPage {
        l: Layout::new(&ctx, "消息", "/account").flash(q.ok.as_deref()),
        items: page.items,
        unread,
        pager,
    }))
}

/// Marks a message read and follows its link (or returns to 消息).
async fn inbox_read(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let n = state
        .cases
        .reminders()
        .read(&ctx, NotificationId(id))
        .await?;
    let go = form.get("go") == "1";
    Ok(see_other(match (go, n.link) {
        (true, Some(link)) if link.starts_with('/') && !link.starts_with("//") => link,
        _ => "/messages?ok=read".into(),
    }))
}

async fn inbox_read_all(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
) -> Result<Response, UiError> {
    state.cases.reminders().read_all(&ctx).await?;
    Ok(see_other("/messages?ok=read"))
}

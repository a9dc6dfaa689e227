//! 报到接收 for members (志愿式): the district's rounds, the member's registration on a phone (pick the community,
//! skills, intentions and availability — four fields), the community's review queue (accept into a grid or return
//! with a reason), transfers, receipts (回执), the home unit's overview and the member card (亮身份).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use shanzhi_domain::org::DictKind;

use shanzhi_domain::registration::{
    Availability, RegistrationInput, RegistrationStatus, RoundInput, Slot,
};
use shanzhi_domain::role::Action;
use shanzhi_domain::{
    Code, FieldErrors, MemberId, PlaceId, RegistrationId, RoundId, Timestamp, UnitId,
};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::places::Place;
use shanzhi_store::registration::cards::{MemberCard, PublicCard};
use shanzhi_store::registration::{
    Receipt, Registration, RegistrationFilter, Round, UnitRegistrationRate,
};
use shanzhi_store::{PageReq, SessionKind};

use super::account::OkQuery;
use super::{Layout, Pager, UiCtx, UiError, render, see_other};
use crate::AppState;
use crate::auth::{Ctx, load};
use crate::error::AppError;
use crate::extract::{UiPath, UiQuery};
use crate::forms::Form;

/// Cookie that remembers the community of a scanned QR code (/join/{code}) across the login.
pub(crate) const JOIN_COOKIE: &str = "sz_join";

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/rounds", get(round_list))
        .route("/rounds/new", get(round_new).post(round_create))
        .route("/rounds/{id}/close", post(round_close))
        .route("/my/registration", get(my_page).post(my_submit))
        .route("/join/{code}", get(join))
        .route("/registrations", get(queue))
        .route("/registrations/qr", get(join_qr))
        .route("/registrations/qr.svg", get(join_qr_svg))
        .route("/registrations/qr.png", get(join_qr_png))
        .route("/registrations/accept", post(accept_many))
        .route("/registrations/{id}", get(detail))
        .route("/registrations/{id}/accept", post(accept))
        .route("/registrations/{id}/return", post(return_))
        .route("/registrations/{id}/withdraw", post(withdraw))
        .route("/registrations/{id}/confirm", post(confirm))
        .route(
            "/registrations/{id}/transfer",
            get(transfer_page).post(transfer),
        )
        .route("/registrations/{id}/receipt", get(receipt))
        .route("/units/{id}/registrations", get(unit_overview))
        .route("/members/{id}/card", get(card).post(card_switch))
        .route("/card/{token}", get(public_card))
}

// ------------------------------------------------------------------ helpers

/// A checkbox: code, label, checked.
pub struct Choice {
    pub code: String,
    pub name: String,
    pub checked: bool,
}

fn dict_choices(entries: &[DictEntry], selected: &[String]) -> Vec<Choice> {
    entries
        .iter()
        .map(|e| Choice {
            code: e.code.clone(),
            name: e.name.clone(),
            checked: selected.contains(&e.code),
        })
        .collect()
}

fn slot_choices(selected: &[String]) -> Vec<Choice> {
    Slot::ALL
        .iter()
        .map(|s| Choice {
            code: s.as_str().into(),
            name: s.label().into(),
            checked: selected.iter().any(|x| x == s.as_str()),
        })
        .collect()
}

/// Dictionary names for comma-separated codes (unknown codes as they are).
fn names(codes: &[&str], dict: &[DictEntry]) -> String {
    let v: Vec<String> = codes
        .iter()
        .map(|c| {
            dict.iter()
                .find(|e| e.code == *c)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| c.to_string())
        })
        .collect();
    if v.is_empty() {
        "—".into()
    } else {
        v.join("、")
    }
}

fn ts(ms: i64) -> String {
    Timestamp(ms).shanghai()
}

fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// `https://host` or `http://host` of this request, for links printed in QR codes.
pub(crate) fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

pub(crate) fn qr(url: &str) -> Result<String, UiError> {
    shanzhi_secure::qr::svg(url).map_err(|e| UiError(AppError::internal(e)))
}

/// A registration with what the pages print beside it.
pub struct RegView {
    pub r: Registration,
    pub submitted: String,
    pub decided: String,
    pub skills: String,
    pub intentions: String,
    pub availability: String,
}

/// The dictionaries a registration's codes are named from, read once per request (not once per row).
struct RegDicts {
    skills: Vec<DictEntry>,
    cats: Vec<DictEntry>,
}

impl RegDicts {
    async fn load(state: &AppState, ctx: &Ctx) -> Result<Self, UiError> {
        let reference = state.cases.reference();
        Ok(RegDicts {
            skills: reference.dict(ctx, DictKind::Skill, false).await?,
            cats: reference.dict(ctx, DictKind::NeedCategory, false).await?,
        })
    }

    fn view(&self, r: Registration) -> RegView {
        RegView {
            submitted: ts(r.submitted_at),
            decided: r.decided_at.map(ts).unwrap_or_default(),
            skills: names(&r.skill_codes(), &self.skills),
            intentions: names(&r.intention_codes(), &self.cats),
            availability: {
                let a = r.availability_label();
                if a.is_empty() { "—".into() } else { a }
            },
            r,
        }
    }
}

async fn reg_view(state: &AppState, ctx: &Ctx, r: Registration) -> Result<RegView, UiError> {
    Ok(RegDicts::load(state, ctx).await?.view(r))
}

// ------------------------------------------------------------------ rounds

#[derive(Template)]
#[template(path = "registration/rounds.html")]
struct RoundList {
    l: Layout,
    items: Vec<(Round, String)>,
    has_open: bool,
}

async fn round_list(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    let rounds = state.cases.registration().rounds_to_manage(&ctx).await?;
    let has_open = rounds.iter().any(Round::is_open);
    Ok(render(&RoundList {
        l: Layout::new(&ctx, "报到轮次", "/rounds").flash(q.ok.as_deref()),
        items: rounds
            .into_iter()
            .map(|r| {
                let closed = r.closed_at.map(ts).unwrap_or_default();
                (r, closed)
            })
            .collect(),
        has_open,
    }))
}

#[derive(Template)]
#[template(path = "registration/round_form.html")]
struct RoundForm {
    l: Layout,
    form: RoundInput,
    errors: FieldErrors,
    error: &'static str,
    previous: Option<String>,
}

async fn round_form(
    state: &AppState,
    ctx: &Ctx,
    form: RoundInput,
    errors: FieldErrors,
    error: &'static str,
) -> Result<Response, UiError> {
    let previous = state
        .cases
        .registration()
        .rounds_to_manage(ctx)
        .await?
        .into_iter()
        .find(|r| !r.is_open())
        .map(|r| r.name);
    Ok(render(&RoundForm {
        l: Layout::new(ctx, "开启报到轮次", "/rounds"),
        form,
        errors,
        error,
        previous,
    }))
}

async fn round_new(State(state): State<AppState>, UiCtx(ctx): UiCtx) -> Result<Response, UiError> {
    let year: i32 = Timestamp::now()
        .shanghai_date()
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2026);
    let form = RoundInput {
        name: format!("{year}年度"),
        year: year.to_string(),
        starts_on: format!("{year}-01-01"),
        ends_on: format!("{year}-12-31"),
        carry_over: true,
    };
    round_form(&state, &ctx, form, FieldErrors::new(), "").await
}

async fn round_create(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let input = RoundInput {
        name: form.get("name"),
        year: form.get("year"),
        starts_on: form.get("starts_on"),
        ends_on: form.get("ends_on"),
        carry_over: form.checked("carry_over"),
    };
    match state.cases.registration().open_round(&ctx, &input).await {
        Ok(_) => Ok(see_other("/rounds?ok=round_opened")),
        Err(e) if e.code == Code::RoundOverlap => {
            round_form(&state, &ctx, input, FieldErrors::new(), e.code.message()).await
        }
        Err(e) => match e.into_fields() {
            Ok(fields) => round_form(&state, &ctx, input, fields, "").await,
            Err(e) => Err(e.into()),
        },
    }
}

async fn round_close(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    state
        .cases
        .registration()
        .close_round(&ctx, RoundId(id))
        .await?;
    Ok(see_other("/rounds?ok=round_closed"))
}

// ------------------------------------------------------------------ the member's registration

#[derive(serde::Deserialize, Default)]
struct MyQuery {
    ok: Option<String>,
    /// Community search.
    q: Option<String>,
    /// Preset community (from a QR code or a search result).
    community_id: Option<String>,
}

#[derive(Template)]
#[template(path = "registration/my.html")]
struct MyPage {
    l: Layout,
    member_id: i64,
    round: Option<Round>,
    /// This round's registrations of the member, newest first.
    regs: Vec<RegView>,
    /// The active one (submitted, carried or accepted).
    active: Option<RegView>,
    /// A returned registration to correct and resubmit (when none is active).
    returned: Option<RegView>,
    show_form: bool,
    q: String,
    communities: Vec<(i64, String)>,
    community_id: String,
    skills: Vec<Choice>,
    intentions: Vec<Choice>,
    slots: Vec<Choice>,
    errors: FieldErrors,
    error: &'static str,
}

/// What the member typed (or the defaults), to show in the form.
struct Typed {
    q: String,
    community_id: String,
    skills: Vec<String>,
    intentions: Vec<String>,
    availability: Vec<String>,
}

async fn my_render(
    state: &AppState,
    ctx: &Ctx,
    flash: Option<&str>,
    typed: Option<Typed>,
    errors: FieldErrors,
    error: &'static str,
    headers: &HeaderMap,
) -> Result<Response, UiError> {
    let cases = state.cases.registration();
    let m = cases.me(ctx).await?;
    let round = cases.current_round(ctx).await?;
    let mut regs = Vec::new();
    if let Some(r) = &round {
        let dicts = RegDicts::load(state, ctx).await?;
        for r in cases.mine(ctx, r.id()).await? {
            regs.push(dicts.view(r));
        }
    }
    let active_idx = regs.iter().position(|v| v.r.status().is_active());
    let active = active_idx.map(|i| regs.remove(i));
    let returned = if active.is_none() {
        regs.iter()
            .position(|v| v.r.status() == RegistrationStatus::Returned)
            .map(|i| regs.remove(i))
    } else {
        None
    };
    let show_form = round.is_some() && active.is_none();
    // Defaults: what was typed; else the returned registration; else the member's own record.
    let typed = match typed {
        Some(t) => t,
        None => {
            let preset = cookie_or(headers, None);
            match &returned {
                Some(v) => Typed {
                    q: String::new(),
                    community_id: shanzhi_domain::registration::resubmission_community(
                        PlaceId(v.r.community_id),
                        preset.as_deref().and_then(parse_id).map(PlaceId),
                        Some(PlaceId(m.community_id)),
                    )
                    .map(|c| c.0.to_string())
                    .unwrap_or_default(),
                    skills: v.r.skill_codes().iter().map(|s| s.to_string()).collect(),
                    intentions: v
                        .r
                        .intention_codes()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    availability: Availability::parse(&v.r.availability)
                        .unwrap_or_default()
                        .slots()
                        .iter()
                        .map(|s| s.as_str().to_string())
                        .collect(),
                },
                None => Typed {
                    q: String::new(),
                    community_id: preset.unwrap_or_else(|| m.community_id.to_string()),
                    skills: cases.my_skills(ctx).await?,
                    intentions: vec![],
                    availability: vec![],
                },
            }
        }
    };
    let communities = community_choices(state, ctx, &typed.q, &typed.community_id).await?;
    let reference = state.cases.reference();
    let skill_dict = reference.dict(ctx, DictKind::Skill, true).await?;
    let cat_dict = reference.dict(ctx, DictKind::NeedCategory, true).await?;
    Ok(render(&MyPage {
        l: Layout::new(ctx, "我的报到", "/my/registration").flash(flash),
        member_id: m.id,
        round,
        regs,
        active,
        returned,
        show_form,
        q: typed.q,
        communities,
        community_id: typed.community_id,
        skills: dict_choices(&skill_dict, &typed.skills),
        intentions: dict_choices(&cat_dict, &typed.intentions),
        slots: slot_choices(&typed.availability),
        errors,
        error,
    }))
}

/// The community remembered from a scanned QR code, unless another is given.
fn cookie_or(headers: &HeaderMap, given: Option<String>) -> Option<String> {
    given.filter(|s| parse_id(s).is_some()).or_else(|| {
        crate::middleware::cookie(headers, JOIN_COOKIE).filter(|s| parse_id(s).is_some())
    })
}

/// Communities to pick from: the search results for `q` (or the first ones by name), with the chosen one first.
async fn community_choices(
    state: &AppState,
    ctx: &Ctx,
    q: &str,
    chosen: &str,
) -> Result<Vec<(i64, String)>, UiError> {
    let reference = state.cases.reference();
    let mut out: Vec<(i64, String)> = Vec::new();
    if let Some(id) = parse_id(chosen)
        && let Some(p) = reference.community(ctx, PlaceId(id)).await?
    {
        out.push((p.id, p.name));
    }
    for p in reference.communities(ctx, q, 30).await? {
        if !out.iter().any(|(id, _)| *id == p.id) {
            out.push((p.id, p.name));
        }
    }
    Ok(out)
}

async fn my_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<MyQuery>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let typed = if q.q.is_some() || q.community_id.is_some() {
        Some(Typed {
            q: q.q.clone().unwrap_or_default(),
            community_id: cookie_or(&headers, q.community_id.clone()).unwrap_or_default(),
            skills: state.cases.registration().my_skills(&ctx).await?,
            intentions: vec![],
            availability: vec![],
        })
    } else {
        None
    };
    my_render(
        &state,
        &ctx,
        q.ok.as_deref(),
        typed,
        FieldErrors::new(),
        "",
        &headers,
    )
    .await
}

fn registration_input(form: &Form) -> RegistrationInput {
    RegistrationInput {
        community_id: form.get("community_id"),
        skills: form.all("skills"),
        intentions: form.all("intentions"),
        availability: form.all("availability"),
    }
}

async fn my_submit(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, UiError> {
    let input = registration_input(&form);
    let resubmit = parse_id(&form.get("registration_id")).map(RegistrationId);
    let res = state
        .cases
        .registration()
        .submit(&ctx, &input, resubmit)
        .await;
    let typed = Typed {
        q: String::new(),
        community_id: input.community_id.clone(),
        skills: input.skills.clone(),
        intentions: input.intentions.clone(),
        availability: input.availability.clone(),
    };
    match res {
        Ok(_) => {
            let mut res = see_other("/my/registration?ok=submitted");
            // The QR code's community has served its purpose.
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{JOIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
            )) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(e) if matches!(e.code, Code::AlreadyRegistered | Code::RoundNotOpen) => {
            my_render(
                &state,
                &ctx,
                None,
                Some(typed),
                FieldErrors::new(),
                e.code.message(),
                &headers,
            )
            .await
        }
        Err(e) => match e.into_fields() {
            Ok(fields) => my_render(&state, &ctx, None, Some(typed), fields, "", &headers).await,
            Err(e) => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "registration/join.html")]
struct JoinPage {
    community: Place,
}

/// A community's QR code leads here: the community is remembered (a cookie, across the login) and the member
/// continues to the registration form.
async fn join(
    State(state): State<AppState>,
    UiPath(code): UiPath<String>,
    parts: axum::http::request::Parts,
) -> Result<Response, UiError> {
    let community = state
        .cases
        .reference()
        .community_by_code(&code)
        .await?
        .ok_or(AppError::new(Code::NotFound))?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = HeaderValue::from_str(&format!(
        "{JOIN_COOKIE}={}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax{secure}",
        community.id
    ))
    .map_err(|e| UiError(AppError::internal(e)))?;
    let signed_in = load(&state, &parts, SessionKind::Web).await.ok();
    let mut res = match signed_in {
        Some(ctx) if ctx.may(Action::RegistrationSubmit) => {
            see_other(format!("/my/registration?community_id={}", community.id))
        }
        _ => render(&JoinPage { community }),
    };
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

#[derive(Template)]
#[template(path = "registration/join_qr.html")]
struct JoinQr {
    l: Layout,
    community: Place,
    url: String,
    svg: String,
}

/// The community's registration QR code to print and post (扫码报到).
async fn join_qr(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let place = state.cases.registration().own_community(&ctx).await?;
    let url = format!("{}/join/{}", origin(&state, &headers), place.code);
    Ok(render(&JoinQr {
        l: Layout::new(&ctx, "扫码报到二维码", "/registrations"),
        svg: qr(&url)?,
        url,
        community: place,
    }))
}

/// The community's registration QR code as an SVG file to download.
async fn join_qr_svg(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let place = state.cases.registration().own_community(&ctx).await?;
    let url = format!("{}/join/{}", origin(&state, &headers), place.code);
    Ok(download(
        qr(&url)?.into_bytes(),
        "image/svg+xml",
        &place.code,
        "svg",
    ))
}

/// The community's registration QR code as a PNG image (10 px per module) to download.
async fn join_qr_png(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let place = state.cases.registration().own_community(&ctx).await?;
    let url = format!("{}/join/{}", origin(&state, &headers), place.code);
    let png = shanzhi_secure::qr::png(&url, 10).map_err(|e| UiError(AppError::internal(e)))?;
    Ok(download(png, "image/png", &place.code, "png"))
}

/// A file download named after the community code (ASCII: `join-fanjia.png`).
fn download(body: Vec<u8>, content_type: &'static str, code: &str, ext: &str) -> Response {
    let name: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let disposition = format!("attachment; filename=\"join-{name}.{ext}\"");
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

// ------------------------------------------------------------------ review queue and detail

#[derive(serde::Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    round_id: Option<String>,
    q: Option<String>,
    page: Option<u32>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "registration/list.html")]
struct QueuePage {
    l: Layout,
    items: Vec<RegView>,
    pager: Pager,
    status: String,
    round_id: String,
    q: String,
    statuses: Vec<(&'static str, &'static str)>,
    rounds: Vec<Round>,
    is_community: bool,
    /// The community's grids for 批量接收 (empty: no bulk accept offered).
    bulk_grids: Vec<(i64, String)>,
}

async fn queue(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<QueueQuery>,
) -> Result<Response, UiError> {
    if ctx.own_member().is_some() {
        return Ok(see_other("/my/registration"));
    }
    let can_review = ctx.may(Action::RegistrationReview);
    let cases = state.cases.registration();
    let rounds = cases.rounds(&ctx).await?;
    // Defaults: the open (or latest) round; reviewers start with what waits for them.
    let round_id = match &q.round_id {
        Some(r) => r.clone(),
        None => rounds.first().map(|r| r.id.to_string()).unwrap_or_default(),
    };
    let status = match &q.status {
        Some(s) => s.clone(),
        None if can_review => RegistrationStatus::Submitted.as_str().into(),
        None => String::new(),
    };
    let f = RegistrationFilter {
        round_id: parse_id(&round_id),
        status: RegistrationStatus::parse(&status).map(|s| s.as_str().to_string()),
        q: q.q.clone(),
        place_id: None,
        unit_id: None,
    };
    let page = cases.list(&ctx, &f, PageReq::new(q.page, Some(20))).await?;
    let pager = Pager::new(
        &page,
        "/registrations",
        &[
            ("status", status.clone()),
            ("round_id", round_id.clone()),
            ("q", q.q.clone().unwrap_or_default()),
        ],
    );
    let dicts = RegDicts::load(&state, &ctx).await?;
    let items: Vec<RegView> = page.items.into_iter().map(|r| dicts.view(r)).collect();
    // The QR code link is offered to the reviewing community the QR page serves.
    let is_community = can_review && cases.own_community(&ctx).await.is_ok();
    let bulk_grids = if is_community && items.iter().any(|v| v.r.status().is_waiting()) {
        cases.own_grids(&ctx).await?
    } else {
        Vec::new()
    };
    Ok(render(&QueuePage {
        l: Layout::new(&ctx, "报到接收", "/registrations").flash(q.ok.as_deref()),
        items,
        pager,
        status,
        round_id,
        q: q.q.unwrap_or_default(),
        statuses: RegistrationStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        rounds,
        is_community,
        bulk_grids,
    }))
}

/// One step of the history, ready to print.
pub struct HistoryView {
    pub at: String,
    pub actor: String,
    pub community: String,
    pub to: &'static str,
    pub note: String,
}

#[derive(Template)]
#[template(path = "registration/show.html")]
struct DetailPage {
    l: Layout,
    v: RegView,
    history: Vec<HistoryView>,
    grids: Vec<(i64, String)>,
    can_review: bool,
    is_owner: bool,
    can_transfer: bool,
    errors: FieldErrors,
    reason: String,
    grid_id: String,
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: RegistrationId,
    flash: Option<&str>,
    errors: FieldErrors,
    reason: String,
    grid_id: String,
) -> Result<Response, UiError> {
    let cases = state.cases.registration();
    let r = cases.get(ctx, id).await?;
    let history = cases
        .history(ctx, id)
        .await?
        .into_iter()
        .map(|h| HistoryView {
            at: ts(h.at),
            to: h.to_label(),
            actor: h.actor,
            community: h.community_name,
            note: h.note.unwrap_or_default(),
        })
        .collect();
    let offers = cases.offers(ctx, &r).await?;
    let is_owner = offers.is_owner;
    Ok(render(&DetailPage {
        l: Layout::new(
            ctx,
            format!("{} 的报到", r.member_name),
            if is_owner {
                "/my/registration"
            } else {
                "/registrations"
            },
        )
        .flash(flash),
        v: reg_view(state, ctx, r).await?,
        history,
        grids: offers.grids,
        can_review: offers.review,
        is_owner,
        can_transfer: offers.transfer,
        errors,
        reason,
        grid_id,
    }))
}

async fn detail(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
) -> Result<Response, UiError> {
    detail_page(
        &state,
        &ctx,
        RegistrationId(id),
        q.ok.as_deref(),
        FieldErrors::new(),
        String::new(),
        String::new(),
    )
    .await
}

async fn accept(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let grid_id = form.get("grid_id");
    let grid = parse_id(&grid_id).map(PlaceId);
    match state
        .cases
        .registration()
        .accept(&ctx, RegistrationId(id), grid)
        .await
    {
        Ok(_) => Ok(see_other(format!("/registrations/{id}?ok=accepted"))),
        Err(e) => match e.into_fields() {
            Ok(fields) => {
                detail_page(
                    &state,
                    &ctx,
                    RegistrationId(id),
                    None,
                    fields,
                    String::new(),
                    grid_id,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// 批量接收: the ticked registrations of the queue into one grid.
async fn accept_many(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    form: Form,
) -> Result<Response, UiError> {
    let ids: Vec<RegistrationId> = form
        .all("ids")
        .iter()
        .filter_map(|s| parse_id(s))
        .map(RegistrationId)
        .collect();
    let grid = parse_id(&form.get("grid_id")).map(PlaceId);
    let Some(grid) = grid.filter(|_| !ids.is_empty()) else {
        // Still a reviewer's action: refuse others before telling them what is missing.
        state.cases.registration().own_community(&ctx).await?;
        return Ok(see_other("/registrations?ok=bulk_none"));
    };
    let (_, refused) = state
        .cases
        .registration()
        .accept_many(&ctx, &ids, grid)
        .await?;
    Ok(see_other(if refused == 0 {
        "/registrations?ok=bulk_accepted"
    } else {
        "/registrations?ok=bulk_partial"
    }))
}

async fn return_(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let reason = form.get("reason");
    match state
        .cases
        .registration()
        .return_(&ctx, RegistrationId(id), &reason)
        .await
    {
        Ok(()) => Ok(see_other("/registrations?ok=returned")),
        Err(e) => match e.into_fields() {
            Ok(fields) => {
                detail_page(
                    &state,
                    &ctx,
                    RegistrationId(id),
                    None,
                    fields,
                    reason,
                    String::new(),
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

async fn withdraw(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    state
        .cases
        .registration()
        .withdraw(&ctx, RegistrationId(id))
        .await?;
    Ok(see_other("/my/registration?ok=withdrawn"))
}

async fn confirm(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    _form: Form,
) -> Result<Response, UiError> {
    state
        .cases
        .registration()
        .confirm(&ctx, RegistrationId(id))
        .await?;
    Ok(see_other("/my/registration?ok=confirmed"))
}

#[derive(Template)]
#[template(path = "registration/transfer.html")]
struct TransferPage {
    l: Layout,
    v: RegView,
    q: String,
    communities: Vec<(i64, String)>,
    community_id: String,
    errors: FieldErrors,
    back: String,
}

#[derive(serde::Deserialize, Default)]
struct TransferQuery {
    q: Option<String>,
}

async fn transfer_render(
    state: &AppState,
    ctx: &Ctx,
    id: RegistrationId,
    q: String,
    community_id: String,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let r = state.cases.registration().to_transfer(ctx, id).await?;
    let mut communities = community_choices(state, ctx, &q, &community_id).await?;
    communities.retain(|(cid, _)| *cid != r.community_id);
    let back = if ctx.own_member().is_some() {
        "/my/registration".to_string()
    } else {
        format!("/registrations/{id}")
    };
    Ok(render(&TransferPage {
        l: Layout::new(ctx, "转移报到", "/my/registration"),
        v: reg_view(state, ctx, r).await?,
        q,
        communities,
        community_id,
        errors,
        back,
    }))
}

async fn transfer_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<TransferQuery>,
) -> Result<Response, UiError> {
    transfer_render(
        &state,
        &ctx,
        RegistrationId(id),
        q.q.unwrap_or_default(),
        String::new(),
        FieldErrors::new(),
    )
    .await
}

async fn transfer(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let community_id = form.get("community_id");
    let res = match parse_id(&community_id) {
        Some(c) => {
            state
                .cases
                .registration()
                .transfer(&ctx, RegistrationId(id), PlaceId(c))
                .await
        }
        None => Err(AppError::fields(FieldErrors::single(
            "community_id",
            Code::Required,
        ))),
    };
    match res {
        Ok(_) if ctx.own_member().is_some() => Ok(see_other("/my/registration?ok=transferred")),
        Ok(new_id) => Ok(see_other(format!("/registrations/{new_id}?ok=transferred"))),
        Err(e) => match e.into_fields() {
            Ok(fields) => {
                transfer_render(
                    &state,
                    &ctx,
                    RegistrationId(id),
                    String::new(),
                    community_id,
                    fields,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "registration/receipt.html")]
struct ReceiptPage {
    l: Layout,
    rc: Receipt,
    accepted: String,
    accepted_date: String,
    back: String,
}

async fn receipt(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
) -> Result<Response, UiError> {
    let rc = state
        .cases
        .registration()
        .receipt(&ctx, RegistrationId(id))
        .await?;
    let back = match (ctx.own_member(), ctx.own_unit()) {
        (Some(_), _) => "/my/registration".to_string(),
        (None, Some(u)) => format!("/units/{u}/registrations"),
        _ => format!("/registrations/{id}"),
    };
    Ok(render(&ReceiptPage {
        l: Layout::new(
            &ctx,
            format!("报到回执 {}", rc.receipt_no),
            "/registrations",
        ),
        accepted: rc.accepted_at.map(ts).unwrap_or_default(),
        accepted_date: rc
            .accepted_at
            .map(|t| Timestamp(t).shanghai_date_cn())
            .unwrap_or_default(),
        rc,
        back,
    }))
}

// ------------------------------------------------------------------ the home unit's overview

#[derive(serde::Deserialize, Default)]
struct UnitQuery {
    round_id: Option<String>,
}

#[derive(Template)]
#[template(path = "registration/unit.html")]
struct UnitPage {
    l: Layout,
    unit_id: i64,
    unit_name: String,
    rounds: Vec<Round>,
    round_id: String,
    rate: Option<UnitRegistrationRate>,
    percent: String,
}

async fn unit_overview(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<UnitQuery>,
) -> Result<Response, UiError> {
    let cases = state.cases.registration();
    let (unit, rounds) = cases.unit_overview(&ctx, UnitId(id)).await?;
    let round = q
        .round_id
        .as_deref()
        .and_then(parse_id)
        .or_else(|| rounds.first().map(|r| r.id));
    let rate = match round {
        Some(r) => Some(cases.unit_rate(&ctx, UnitId(id), Some(RoundId(r))).await?),
        None => None,
    };
    let percent = rate
        .as_ref()
        .map(|r| format!("{:.1}%", r.rate * 100.0))
        .unwrap_or_default();
    Ok(render(&UnitPage {
        l: Layout::new(&ctx, format!("{} · 报到情况", unit.name), "/units"),
        unit_id: unit.id,
        unit_name: unit.name,
        rounds,
        round_id: round.map(|r| r.to_string()).unwrap_or_default(),
        rate,
        percent,
    }))
}

// ------------------------------------------------------------------ member card (亮身份)

#[derive(Template)]
#[template(path = "registration/card.html")]
struct CardPage {
    l: Layout,
    c: MemberCard,
    url: String,
    svg: String,
    can_switch: bool,
}

async fn card(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    UiQuery(q): UiQuery<OkQuery>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let cases = state.cases.registration();
    let c = cases.card(&ctx, MemberId(id)).await?;
    let (url, svg) = match &c.token {
        Some(t) => {
            let url = format!("{}/card/{t}", origin(&state, &headers));
            let svg = qr(&url)?;
            (url, svg)
        }
        None => (String::new(), String::new()),
    };
    Ok(render(&CardPage {
        l: Layout::new(&ctx, "亮身份", "/my/registration").flash(q.ok.as_deref()),
        can_switch: cases.may_switch_card(&ctx, MemberId(id)),
        c,
        url,
        svg,
    }))
}

async fn card_switch(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiPath(id): UiPath<i64>,
    form: Form,
) -> Result<Response, UiError> {
    let public = form.get("public") == "on";
    state
        .cases
        .registration()
        .set_card_public(&ctx, MemberId(id), public)
        .await?;
    Ok(see_other(format!(
        "/members/{id}/card?ok={}",
        if public { "card_on" } else { "card_off" }
    )))
}

#[derive(Template)]
#[template(path = "registration/public_card.html")]
struct PublicCardPage {
    c: PublicCard,
    /// When this page was generated (Asia/Shanghai): whoever scans the card sees it is live.
    checked_at: String,
}

/// The public card behind a QR code: no login; not found when switched off.
async fn public_card(
    State(state): State<AppState>,
    UiPath(token): UiPath<String>,
) -> Result<Response, UiError> {
    if token.len() > 64 {
        return Err(UiError(AppError::new(Code::NotFound)));
    }
    let c = state.cases.registration().public_card(&token).await?;
    let mut res = render(&PublicCardPage {
        c,
        checked_at: Timestamp::now().shanghai(),
    });
    res.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(res.into_response())
}

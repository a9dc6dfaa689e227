//! Getting in (issue 8.1): `/activate`, where a member on a roster activates their own account (step 1: name,
//! mobile and the district's factor; step 2: the SMS code when the district asks for one, and a password) and is
//! then signed in; and `/activation-codes`, where
//! unit and community admins see who has not activated yet and print or download activation sheets. The rules
//! are in `shanzhi_cases::activation` and `shanzhi_domain::activation`.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shanzhi_cases::activation::Slip;
use shanzhi_domain::activation::ActivationInput;
use shanzhi_domain::{Code, FieldErrors, Timestamp};
use shanzhi_sheets::Format;
use shanzhi_store::activation::PendingMember;
use shanzhi_store::{PageReq, SessionKind};

use super::{Layout, Pager, UiCtx, UiError, render};
use crate::AppState;
use crate::auth::client_addr;
use crate::extract::UiQuery;
use crate::forms::Form;
use crate::middleware::{CsrfToken, SESSION_COOKIE};

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/activate", get(activate_page).post(activate_submit))
        .route("/activation-codes", get(codes_page).post(codes_issue))
}

/// Where to go after activating: a local path given by the page that linked here (`/join/{code}` passes
/// `/my/registration`), never another site.
fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 200
        && next
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '\\' && c != '"' && c != '<');
    ok.then_some(next)
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    csrf: String,
    /// 1: who you are; 2: choose a password.
    step: u8,
    factor_label: &'static str,
    name: String,
    mobile: String,
    factor: String,
    next: String,
    errors: FieldErrors,
    error: &'static str,
    /// Step 2 asks for the SMS code (and offers to send it again).
    sms: bool,
    /// Step 2: where the code went.
    notice: String,
}

#[derive(serde::Deserialize)]
struct ActivateQuery {
    next: Option<String>,
}

async fn activate_page(
    State(state): State<AppState>,
    csrf: axum::Extension<CsrfToken>,
    UiQuery(q): UiQuery<ActivateQuery>,
) -> Result<Response, UiError> {
    let policy = state.cases.activation().policy().await?;
    Ok(render(&ActivatePage {
        csrf: csrf.0.0.clone(),
        step: 1,
        factor_label: policy.label(),
        name: String::new(),
        mobile: String::new(),
        factor: String::new(),
        next: q
            .next
            .as_deref()
            .and_then(safe_next)
            .unwrap_or_default()
            .to_string(),
        errors: FieldErrors::new(),
        error: "",
        sms: false,
        notice: String::new(),
    }))
}

async fn activate_submit(
    State(state): State<AppState>,
    parts: Parts,
    form: Form,
) -> Result<Response, UiError> {
    let input = ActivationInput {
        name: form.get("name"),
        mobile: form.get("mobile"),
        factor: form.get("factor"),
    };
    let next = safe_next(&form.get("next")).unwrap_or_default().to_string();
    let policy = state.cases.activation().policy().await?;
    let client = client_addr(&parts);
    let cases = state.cases.activation();
    let sms = cases.sms_required().await?;
    let sent_notice = format!(
        "验证码已发送至{},5分钟内有效",
        shanzhi_domain::mask::mobile(input.mobile.trim())
    );
    let page = |step: u8, errors: FieldErrors, error: &'static str| ActivatePage {
        csrf: form.get("_csrf"),
        step,
        factor_label: policy.label(),
        name: input.name.clone(),
        mobile: input.mobile.clone(),
        factor: input.factor.clone(),
        next: next.clone(),
        errors,
        error,
        sms,
        notice: String::new(),
    };
    let step = form.get("step");
    if step == "resend" {
        // Step 2 again, with a new code (or the reason there is none).
        return Ok(match cases.check(&input, client.as_deref()).await {
            Ok(true) => render(&ActivatePage {
                notice: sent_notice,
                ..page(2, FieldErrors::new(), "")
            }),
            Ok(false) => render(&page(2, FieldErrors::new(), "")),
            Err(e) if e.code == Code::Internal => return Err(e.into()),
            Err(e) if e.code == Code::RateLimited => {
                render(&page(2, FieldErrors::new(), e.code.message()))
            }
            Err(e) => render(&page(1, FieldErrors::new(), e.code.message())),
        });
    }
    if step != "password" {
        return Ok(match cases.check(&input, client.as_deref()).await {
            Ok(true) => render(&ActivatePage {
                notice: sent_notice,
                ..page(2, FieldErrors::new(), "")
            }),
            Ok(false) => render(&page(2, FieldErrors::new(), "")),
            Err(e) if e.code == Code::Internal => return Err(e.into()),
            Err(e) => match e.into_fields() {
                Ok(fields) => render(&page(1, fields, "")),
                Err(e) => render(&page(1, FieldErrors::new(), e.code.message())),
            },
        });
    }
    let done = cases
        .activate(
            &input,
            &form.get("password"),
            &form.get("confirm"),
            &form.get("sms_code"),
            client.as_deref(),
            &*state.hasher,
        )
        .await;
    let activated = match done {
        Ok(a) => a,
        Err(e) if e.code == Code::Internal => return Err(e.into()),
        Err(e) => {
            return Ok(match e.into_fields() {
                Ok(fields)
                    if fields.get("password").is_some() || fields.get("confirm").is_some() =>
                {
                    render(&page(2, fields, ""))
                }
                Ok(fields) => render(&page(1, fields, "")),
                Err(e) if e.code == Code::SmsCodeInvalid => {
                    render(&page(2, FieldErrors::new(), e.code.message()))
                }
                Err(e) => render(&page(1, FieldErrors::new(), e.code.message())),
            });
        }
    };
    // Signed in at once, as after a login: a fresh session with the member binding.
    let token = crate::auth::open_session(&state, activated.account_id, SessionKind::Web).await?;
    let joining = crate::middleware::cookie(&parts.headers, super::registration::JOIN_COOKIE)
        .is_some_and(|c| !c.is_empty());
    let to = if !next.is_empty() {
        next
    } else if joining {
        "/my/registration".to_string()
    } else {
        "/?ok=activated".to_string()
    };
    let cookie = axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(state.config.secure_cookies);
    Ok((
        axum_extra::extract::cookie::CookieJar::new().add(cookie),
        super::see_other(to),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "activation/codes.html")]
struct CodesPage {
    l: Layout,
    q: String,
    items: Vec<PendingView>,
    pager: Pager,
}

struct PendingView {
    m: PendingMember,
    code: String,
}

#[derive(serde::Deserialize)]
struct CodesQuery {
    q: Option<String>,
    page: Option<u32>,
}

async fn codes_page(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    UiQuery(q): UiQuery<CodesQuery>,
) -> Result<Response, UiError> {
    let text = q.q.clone().unwrap_or_default();
    let page = state
        .cases
        .activation()
        .pending(&ctx, &text, PageReq::new(q.page, None))
        .await?;
    let pager = Pager::new(&page, "/activation-codes", &[("q", text.clone())]);
    let now = Timestamp::now().0;
    let items = page
        .items
        .into_iter()
        .map(|m| {
            let code = match (m.code_issued_at, m.code_expires_at) {
                (Some(at), Some(until)) if until > now => {
                    format!("已生成({})", Timestamp(at).shanghai_date())
                }
                (Some(_), Some(_)) => "已过期".to_string(),
                _ => "未生成".to_string(),
            };
            PendingView { m, code }
        })
        .collect();
    Ok(render(&CodesPage {
        l: Layout::new(&ctx, "激活码", "/activation-codes"),
        q: text,
        items,
        pager,
    }))
}

#[derive(Template)]
#[template(path = "activation/sheet.html")]
struct SheetPage {
    l: Layout,
    slips: Vec<Slip>,
    url: String,
    svg: String,
    expires: String,
}

/// Issues codes for the members listed (the search `q`), then shows the printable sheet or sends the .xlsx.
async fn codes_issue(
    State(state): State<AppState>,
    UiCtx(ctx): UiCtx,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, UiError> {
    let cases = state.cases.activation();
    let slips = cases.issue(&ctx, &form.get("q")).await?;
    let url = format!("{}/activate", super::registration::origin(&state, &headers));
    if form.get("format") == "xlsx" && !slips.is_empty() {
        let bytes = cases.sheet_xlsx(&slips, &url)?;
        let name = format!("激活码-{}.xlsx", Timestamp::now().shanghai_date());
        return Ok(super::imports::download(Format::Xlsx, &name, bytes));
    }
    Ok(render(&SheetPage {
        l: Layout::new(&ctx, "激活码打印", "/activation-codes"),
        expires: slips
            .first()
            .map(|s| s.expires_at.shanghai_date_cn())
            .unwrap_or_default(),
        svg: super::registration::qr(&url)?,
        url,
        slips,
    }))
}

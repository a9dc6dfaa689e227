//! Login, second factor (TOTP verify and first-time enrolment), forced password change, logout.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use shanzhi_domain::Code;
use shanzhi_store::{Actor, AuditEntry, SessionKind, SessionStage};

use super::{UiError, render, see_other};
use crate::AppState;
use crate::auth::{
    PendingSession, after_second_factor, check_password, check_totp, client_addr, totp_ok,
};
use crate::error::AppError;
use crate::extract::UiQuery;
use crate::forms::Form;
use crate::middleware::{CsrfToken, SESSION_COOKIE};

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/totp", get(totp_page).post(totp_submit))
        .route("/login/totp-enroll", get(enroll_page).post(enroll_submit))
        .route("/login/password", get(password_page).post(password_submit))
        .route("/logout", post(logout))
}

pub fn stage_path(stage: SessionStage) -> &'static str {
    match stage {
        SessionStage::Totp => "/login/totp",
        SessionStage::TotpEnroll => "/login/totp-enroll",
        SessionStage::PasswordChange => "/login/password",
        SessionStage::Full => "/",
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: String,
    notice: &'static str,
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    expired: Option<String>,
    bye: Option<String>,
}

async fn login_page(csrf: axum::Extension<CsrfToken>, UiQuery(q): UiQuery<LoginQuery>) -> Response {
    let notice = if q.expired.is_some() {
        "登录已超时,请重新登录"
    } else if q.bye.is_some() {
        "您已安全退出"
    } else {
        ""
    };
    render(&LoginPage {
        csrf: csrf.0.0.clone(),
        username: String::new(),
        error: String::new(),
        notice,
    })
}

/// Redirect that also sets the session cookie (or, with `None`, removes it).
fn with_cookie(state: &AppState, to: &str, token: Option<&str>) -> Response {
    let c = Cookie::build((SESSION_COOKIE, token.unwrap_or_default().to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies);
    let c = if token.is_none() { c.removal() } else { c };
    (CookieJar::new().add(c), see_other(to)).into_response()
}

async fn login_submit(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    form: Form,
) -> Response {
    let username = form.get("username");
    let password = form.get("password");
    let csrf = form.get("_csrf");
    let again = |error: &str| {
        render(&LoginPage {
            csrf: csrf.clone(),
            username: username.clone(),
            error: error.to_string(),
            notice: "",
        })
    };
    if username.trim().is_empty() || password.is_empty() {
        return again("请输入用户名(或手机号)和密码");
    }
    match check_password(&state, &username, &password, client_addr(&parts)).await {
        Ok(outcome) => {
            // A fresh token at every login (no session fixation); the old session, if any, ends.
            if let Some(old) = crate::middleware::cookie(&parts.headers, SESSION_COOKIE) {
                let _ = state
                    .store
                    .delete_session(&shanzhi_secure::token::sha256_hex(&old))
                    .await;
            }
            match state
                .store
                .create_session(
                    outcome.account.id(),
                    SessionKind::Web,
                    outcome.stage,
                    outcome.first_binding,
                )
                .await
            {
                Ok(token) => {
                    // Came from a community's QR code (扫码报到): straight on to the prefilled form.
                    let joining =
                        crate::middleware::cookie(&parts.headers, super::registration::JOIN_COOKIE)
                            .is_some_and(|c| !c.is_empty());
                    let to =
                        if outcome.stage == SessionStage::Full && outcome.may_register && joining {
                            "/my/registration"
                        } else {
                            stage_path(outcome.stage)
                        };
                    with_cookie(&state, to, Some(&token))
                }
                Err(e) => UiError(e.into()).into_response(),
            }
        }
        Err(e) if e.code == Code::Internal => UiError(e).into_response(),
        Err(e) => again(e.code.message()),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    csrf: String,
    error: &'static str,
}

async fn totp_page(p: PendingSession) -> Response {
    if p.session.stage != SessionStage::Totp {
        return see_other(stage_path(p.session.stage));
    }
    render(&TotpPage {
        csrf: p.csrf,
        error: "",
    })
}

async fn totp_submit(
    State(state): State<AppState>,
    p: PendingSession,
    form: Form,
) -> Result<Response, UiError> {
    if p.session.stage != SessionStage::Totp {
        return Ok(see_other(stage_path(p.session.stage)));
    }
    let account = state.store.get_account(p.session.account_id).await?;
    match check_totp(&state, &account, &form.get("code"), p.client.clone()).await {
        Ok(()) => {}
        Err(e) if e.code == Code::AccountLocked => {
            state.store.delete_session(&p.session.token_hash).await?;
            return Err(UiError(e));
        }
        Err(e) if e.code == Code::TotpInvalid => {
            return Ok(render(&TotpPage {
                csrf: p.csrf,
                error: Code::TotpInvalid.message(),
            }));
        }
        Err(e) => return Err(UiError(e)),
    }
    let next = after_second_factor(&account, true);
    state
        .store
        .update_session(&p.session.token_hash, next, p.session.role_assignment_id)
        .await?;
    Ok(see_other(stage_path(next)))
}

#[derive(Template)]
#[template(path = "totp_enroll.html")]
struct EnrollPage {
    csrf: String,
    secret: String,
    qr_svg: String,
    error: &'static str,
}

async fn enroll_page(
    State(state): State<AppState>,
    p: PendingSession,
) -> Result<Response, UiError> {
    if p.session.stage != SessionStage::TotpEnroll {
        return Ok(see_other(stage_path(p.session.stage)));
    }
    let account = state.store.get_account(p.session.account_id).await?;
    // Keep a pending secret across reloads until it is confirmed.
    let secret = match state.store.decrypt_totp(&account)? {
        Some(s) if !account.totp_enabled => s,
        _ => {
            let s = shanzhi_secure::totp::new_secret();
            let actor = Actor {
                account_id: Some(account.id()),
                name: account.username.clone(),
                client_addr: p.client.clone(),
                ..Actor::default()
            };
            state
                .store
                .set_totp(&actor, account.id(), Some(&s), false)
                .await?;
            s
        }
    };
    let url = shanzhi_secure::totp::otpauth_url(&secret, &account.username)
        .map_err(AppError::internal)?;
    let qr_svg = shanzhi_secure::qr::svg(&url).map_err(AppError::internal)?;
    Ok(render(&EnrollPage {
        csrf: p.csrf,
        secret,
        qr_svg,
        error: "",
    }))
}

async fn enroll_submit(
    State(state): State<AppState>,
    p: PendingSession,
    form: Form,
) -> Result<Response, UiError> {
    if p.session.stage != SessionStage::TotpEnroll {
        return Ok(see_other(stage_path(p.session.stage)));
    }
    let account = state.store.get_account(p.session.account_id).await?;
    if !totp_ok(&state, &account, &form.get("code")).await? {
        let secret = state.store.decrypt_totp(&account)?.unwrap_or_default();
        let url = shanzhi_secure::totp::otpauth_url(&secret, &account.username)
            .map_err(AppError::internal)?;
        let qr_svg = shanzhi_secure::qr::svg(&url).map_err(AppError::internal)?;
        return Ok(render(&EnrollPage {
            csrf: p.csrf,
            secret,
            qr_svg,
            error: Code::TotpInvalid.message(),
        }));
    }
    let actor = Actor {
        account_id: Some(account.id()),
        name: account.username.clone(),
        client_addr: p.client.clone(),
        ..Actor::default()
    };
    let secret = state.store.decrypt_totp(&account)?;
    state
        .store
        .set_totp(&actor, account.id(), secret.as_deref(), true)
        .await?;
    let next = after_second_factor(&account, true);
    state
        .store
        .update_session(&p.session.token_hash, next, p.session.role_assignment_id)
        .await?;
    Ok(see_other(stage_path(next)))
}

#[derive(Template)]
#[template(path = "password_forced.html")]
struct PasswordPage {
    csrf: String,
    error: &'static str,
}

async fn password_page(p: PendingSession) -> Response {
    if p.session.stage != SessionStage::PasswordChange {
        return see_other(stage_path(p.session.stage));
    }
    render(&PasswordPage {
        csrf: p.csrf,
        error: "",
    })
}

/// Checks and applies a password change; shared by the forced change and "my account".
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    account_id: shanzhi_domain::AccountId,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let account = state.store.get_account(account_id).await?;
    if !state.hasher.verify(current, &account.password_hash).await? {
        return Err(AppError::new(Code::WrongPassword));
    }
    if new != confirm {
        return Err(AppError::new(Code::PasswordMismatch));
    }
    if new == current {
        return Err(AppError::new(Code::PasswordReused));
    }
    shanzhi_domain::password::check_policy(new).map_err(AppError::new)?;
    let new_hash = state.hasher.hash(new).await?;
    state
        .store
        .set_password(actor, account_id, &new_hash, false)
        .await?;
    Ok(())
}

async fn password_submit(
    State(state): State<AppState>,
    p: PendingSession,
    form: Form,
) -> Result<Response, UiError> {
    if p.session.stage != SessionStage::PasswordChange {
        return Ok(see_other(stage_path(p.session.stage)));
    }
    let actor = Actor {
        account_id: Some(p.session.account_id),
        name: p.session.username.clone(),
        client_addr: p.client.clone(),
        ..Actor::default()
    };
    match change_password(
        &state,
        &actor,
        p.session.account_id,
        &form.get("current"),
        &form.get("new"),
        &form.get("confirm"),
    )
    .await
    {
        Ok(()) => {
            // All sessions ended with the change; start a fresh full one.
            let token = state
                .store
                .create_session(
                    p.session.account_id,
                    SessionKind::Web,
                    SessionStage::Full,
                    p.session.role_assignment_id,
                )
                .await?;
            Ok(with_cookie(&state, "/?ok=password", Some(&token)))
        }
        Err(e) if e.code == Code::Internal => Err(UiError(e)),
        Err(e) => Ok(render(&PasswordPage {
            csrf: p.csrf,
            error: e.code.message(),
        })),
    }
}

async fn logout(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    _form: Form,
) -> Result<Response, UiError> {
    if let Some(token) = crate::middleware::cookie(&parts.headers, SESSION_COOKIE) {
        let hash = shanzhi_secure::token::sha256_hex(&token);
        if let Ok(Some(s)) = state.store.session(&token).await {
            let actor = Actor {
                account_id: Some(s.account_id),
                name: s.username.clone(),
                client_addr: client_addr(&parts),
                ..Actor::default()
            };
            state
                .store
                .append_audit(
                    &actor,
                    &AuditEntry::ok("logout", format!("account:{}", s.account_id)),
                )
                .await?;
        }
        state.store.delete_session(&hash).await?;
    }
    Ok(with_cookie(&state, "/login?bye=1", None))
}

//! Security headers on every response, and the CSRF token every page form echoes back (tied to the session).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::AppState;

/// Pre-session id of a browser before login (the CSRF token is derived from it, never equal to it).
pub const CSRF_COOKIE: &str = "sz_csrf";
pub const SESSION_COOKIE: &str = "sz_session";

/// The CSRF token of this request (derived from its session or pre-session id), for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Reads a cookie from the request headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// The CSRF token for a browser: an HMAC (under a key derived from the vault's key file, so every instance
/// computes the same) of its session token, or, before login, of its pre-session id. A token cannot be chosen by
/// whoever can plant a cookie, and a new session (every login) brings a new token.
pub fn csrf_token(state: &AppState, session: Option<&str>, pre_session: &str) -> String {
    let vault = state.store.vault();
    match session {
        Some(s) => vault.purpose_token("csrf", &format!("session:{s}")),
        None => vault.purpose_token("csrf", &format!("pre:{pre_session}")),
    }
}

/// Works out the CSRF token of every request (see [`csrf_token`]) for forms to embed and the `Form` extractor to
/// check, and gives a browser without a session a pre-session id cookie.
pub async fn csrf_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let session = jar
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty());
    let pre = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| {
            v.len() >= 20
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    let (pre, fresh) = match pre {
        Some(p) => (p, false),
        None => (shanzhi_secure::token::random_token(), session.is_none()),
    };
    let token = csrf_token(&state, session.as_deref(), &pre);
    req.extensions_mut().insert(CsrfToken(token));
    let res = next.run(req).await;
    if fresh {
        let c = Cookie::build((CSRF_COOKIE, pre))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.secure_cookies);
        (jar.add(c), res).into_response()
    } else {
        res
    }
}

/// The address a request comes from, for audit rows and login throttling.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// Works out the client address: the TCP peer, unless the peer is one of the configured trusted proxies, in which
/// case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. A forwarded header from anyone
/// else is ignored, since clients can forge it.
pub async fn client_address(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let trusted = &state.config.trusted_proxies;
        let mut addr = peer;
        if trusted.contains(&peer) {
            let forwarded: Vec<std::net::IpAddr> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            if let Some(client) = forwarded.iter().rev().find(|ip| !trusted.contains(ip)) {
                addr = *client;
            }
        }
        req.extensions_mut().insert(ClientAddr(addr.to_string()));
    }
    next.run(req).await
}

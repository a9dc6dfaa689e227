//! Security headers on every response, and the CSRF cookie every page form echoes back.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

pub const CSRF_COOKIE: &str = "sz_csrf";
pub const SESSION_COOKIE: &str = "sz_session";

/// The CSRF token of this request (from its cookie, or freshly made), for forms to embed.
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
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Ensures every browser has a CSRF cookie (double-submit token): forms carry the same value in `_csrf`.
pub async fn csrf_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|v| {
        v.len() >= 20
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (shanzhi_secure::token::random_token(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
        )) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
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

//! Operations plumbing from tower-http: a request id on every request (`x-request-id`, echoed in the response),
//! one log line per request (method, route pattern, status, latency, request id — never the query string or a
//! body, so no phone or ID number reaches the log), a time limit per request, a body-size limit, and a panic in a
//! handler answered as a coded 500 instead of a dropped connection.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// How long one request may take before it is answered `408` (uploads of 20 MiB on a slow phone included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest body an ordinary JSON or form request may carry; the import upload routes raise their own limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A random id per request (12 url-safe characters), unless a trusted caller already set one.
#[derive(Clone, Copy, Default)]
struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id: String = shanzhi_secure::token::random_token()
            .chars()
            .take(12)
            .collect();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

fn request_span<B>(req: &Request<B>) -> Span {
    // The route pattern (`/api/v1/members/{id}`), never the raw URI: queries may carry a phone number.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
}

fn log_response<B>(res: &Response<B>, latency: Duration, _span: &Span) {
    let status = res.status().as_u16();
    let ms = latency.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, latency_ms = format_args!("{ms:.1}"), "response");
    } else {
        tracing::info!(status, latency_ms = format_args!("{ms:.1}"), "response");
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    let err = crate::error::AppError::internal("a request handler panicked");
    let body = serde_json::json!({"error": {"code": err.code.as_str(), "message": err.message()}});
    let mut res = Response::new(axum::body::Body::from(body.to_string()));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Wraps the application's router in the operations layers (outermost first: request id, logging, time limit,
/// panic guard, body limit).
pub fn layers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomId))
}

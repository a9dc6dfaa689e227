//! The web layer of 善治: server-rendered Chinese pages under `/` and a JSON API under `/api/v1/`, over the same
//! store and the same rules. A handler reads the request, asks the domain whether the action is allowed, calls
//! one store method and renders.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod forms;
pub mod hashing;
pub mod middleware;
pub mod ops;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use shanzhi_store::Store;

/// Settings the web layer needs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when the service is reached over TLS, e.g. behind an HTTPS proxy).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the client address for audit and throttling).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Password-hashing threads (0 = one per core, at most 8); each holds one Argon2 buffer (19 MiB).
    pub hash_workers: usize,
    /// Logins that may wait for a hashing thread before more are refused with `rate_limited` (0 = 8 per thread).
    pub hash_queue: usize,
}

#[derive(Clone)]
pub struct AppState {
    /// The use cases; handlers call these.
    pub cases: shanzhi_cases::Cases,
    /// The store, for the login path, middleware and health check only.
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub hasher: Arc<hashing::HashPool>,
}

/// The whole application: pages, API, OpenAPI document, static files, health check and middleware. SMS codes
/// are only logged ([`shanzhi_cases::sms::LogSender`]).
pub fn app(store: Store, config: WebConfig) -> Router {
    app_with_sms(
        store,
        config,
        Arc::new(shanzhi_cases::sms::LogSender::default()),
    )
}

/// The whole application, sending SMS codes through `sms` (a provider: see [`shanzhi_cases::sms`]).
pub fn app_with_sms(
    store: Store,
    config: WebConfig,
    sms: Arc<dyn shanzhi_cases::sms::SmsSender>,
) -> Router {
    let state = AppState {
        cases: shanzhi_cases::Cases::with_sms(store.clone(), sms),
        store,
        hasher: Arc::new(hashing::HashPool::new(
            config.hash_workers,
            config.hash_queue,
        )),
        config: Arc::new(config),
    };
    let (api_router, openapi) = api::router();
    let openapi = Arc::new(openapi);
    let router = Router::new()
        .merge(ui::router())
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf_cookie,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::client_address,
        ))
        .layer(axum::middleware::from_fn(middleware::security_headers));
    ops::layers(router)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    config: WebConfig,
) -> std::io::Result<()> {
    let router = app(store, config);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

//! Pages for this part of 报到接收 (see the module's routes).

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}

//! JSON endpoints for this part of 报到接收.

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}

//! The HTTP surface, assembled in one place: health, metrics, the REST API
//! under `/api`, and the server-rendered dashboard, behind one middleware
//! stack (request id, tracing, metrics, timeout, body limit).

pub mod api;
pub mod error;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod state;
pub mod ui;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use error::ApiError;
pub use state::AppState;

pub fn router(state: AppState) -> Router {
    let limits = middleware::Limits::from_config(&state.config);
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::handler))
        .nest("/api", api::router())
        .merge(ui::router(&state))
        .fallback(fallback);
    middleware::wrap(routes, limits).with_state(state)
}

/// Paths no route matched: JSON for anything under `/api` (whatever the
/// nesting rules say about `/api/` itself), the app's 404 page otherwise.
async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return api::no_route(request.method(), path).into_response();
    }
    ui::not_found(state, request).await
}

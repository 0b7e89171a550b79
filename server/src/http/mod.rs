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
        .merge(ui::router(&state));
    middleware::wrap(routes, limits).with_state(state)
}

//! The HTTP surface, assembled in one place: health, metrics, the REST API
//! under `/api`, and the server-rendered dashboard, behind one middleware
//! stack (security headers, client address, request id, tracing, metrics,
//! timeout, body limit, Host check).

pub mod api;
pub mod auth;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod forms;
pub mod health;
pub mod hooks;
pub mod host_check;
pub mod metrics;
pub mod middleware;
pub mod page_compression;
pub mod pages;
pub mod quota;
pub mod quota_gate;
pub mod security_headers;
pub mod sessions;
pub mod site_assets;
pub mod state;
pub mod ui;
pub mod workflow_draft;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::Layer;

use state::AppState;

pub fn router(state: AppState) -> Router {
    let limits = middleware::Limits::from_config(&state.config);
    // Validated when the configuration loaded; `None` here only when unset.
    let expected_host = state.config.expected_host().ok().flatten().map(Arc::new);
    let hook_host = expected_host.clone();
    let trusted_proxies = Arc::new(state.config.trusted_proxies.clone());
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::handler))
        .nest("/api/v1", api_v1(&state))
        .merge(ui::router(&state))
        // With the session: the 404 page's header knows who is signed in.
        .fallback_service(
            page_compression::layer()
                .service(sessions::layer(&state).layer(fallback.with_state(state.clone()))),
        )
        // Outside each session layer, so that a session's failed write
        // is answered like any failure.
        .layer(axum::middleware::from_fn(sessions::answer_failed_writes))
        // Inside the request-id, tracing and metrics layers, so refused
        // Hosts are logged and counted like any answer.
        .layer(axum::middleware::from_fn(move |request, next| {
            host_check::check(expected_host.clone(), request, next)
        }));
    // Webhooks: their own body limit, no session or quota.
    let hooks = Router::new()
        .route(
            "/hooks/{provider}/{project}",
            axum::routing::post(hooks::receive),
        )
        .layer(axum::middleware::from_fn(move |request, next| {
            host_check::check(hook_host.clone(), request, next)
        }));
    let hook_limits = middleware::Limits {
        max_body_bytes: state.config.webhook_max_bytes,
        ..limits
    };
    middleware::wrap(routes, limits)
        .merge(middleware::wrap(hooks, hook_limits))
        // Outside them: the logs name the client, and every answer,
        // whichever layer made it, carries the security headers.
        .layer(axum::middleware::from_fn(move |request, next| {
            client_addr::resolve(trusted_proxies.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(security_headers::add))
        .with_state(state)
}

/// The API with what every call goes through, outermost first: the session
/// cookie, then the gate (who the caller is, CSRF, the quota).
fn api_v1(state: &AppState) -> Router<AppState> {
    let (routes, _) = api::routes().split_for_parts();
    routes
        .fallback(api::not_found)
        .layer(from_fn_with_state(state.clone(), quota_gate::gate))
        .layer(sessions::layer(state))
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

//! The REST API under `/api`. Versioned routes live under `/api/v1`; any other
//! path answers 404 with the JSON error body, never the dashboard's HTML.

use axum::Json;
use axum::Router;
use axum::extract::OriginalUri;
use axum::http::Method;
use axum::routing::get;
use serde_json::{Value, json};

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/version", get(version))
        .fallback(not_found)
}

async fn version() -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION")}))
}

async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    no_route(&method, uri.path())
}

/// The error for a method and path no API route answers.
pub fn no_route(method: &Method, path: &str) -> ApiError {
    ApiError::NotFound(format!("no API route for {method} {path}"))
}

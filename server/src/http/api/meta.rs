//! About the API itself: the server version and the OpenAPI document.

use axum::response::IntoResponse;

use super::accounts::types::VersionBody;
use crate::http::extract::Json;

#[utoipa::path(get, path = "/version", tag = "meta",
    responses((status = 200, body = VersionBody)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn version() -> Json<VersionBody> {
    Json(VersionBody {
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// This document: every `/api/v1` operation with its cost.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(super::openapi().clone())
}

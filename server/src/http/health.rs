//! Liveness and readiness for load balancers and orchestrators:
//! `/healthz` answers while the process runs, `/readyz` only while the
//! database answers too.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db::Database;

const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(db): State<Database>) -> (StatusCode, Json<Value>) {
    let reachable = tokio::time::timeout(READY_PROBE_TIMEOUT, db.is_reachable())
        .await
        .unwrap_or(false);
    if reachable {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": "ok"})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "unreachable"})),
        )
    }
}

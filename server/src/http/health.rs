//! Liveness and readiness for load balancers and orchestrators:
//! `/healthz` answers while the process runs, `/readyz` only while the
//! database answers and the job workers run (not paused after failures).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db::Database;
use crate::jobs::PoolHealth;

const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(
    State(db): State<Database>,
    State(pool): State<PoolHealth>,
) -> (StatusCode, Json<Value>) {
    let reachable = tokio::time::timeout(READY_PROBE_TIMEOUT, db.is_reachable())
        .await
        .unwrap_or(false);
    let running = pool.is_running();
    let body = json!({
        "status": if reachable && running { "ready" } else { "unavailable" },
        "database": if reachable { "ok" } else { "unreachable" },
        "workers": if running { "running" } else { "restarting" },
    });
    let status = if reachable && running {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

//! The periodic cleanup job: deletes expired browser sessions. Pushed at
//! start-up and then every `CLEANUP_EVERY`; idempotent, so several servers
//! pushing it is harmless.

use std::time::Duration;

use apalis::prelude::Data;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::db::entities::session;

pub const QUEUE: &str = "kiln.cleanup";
pub const CLEANUP_EVERY: Duration = Duration::from_secs(15 * 60);

/// The job's payload: when it was pushed, to measure queue latency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cleanup {
    #[serde(default)]
    pub enqueued_at_ms: i64,
}

impl Cleanup {
    pub fn now() -> Self {
        Self {
            enqueued_at_ms: crate::clock::now_ms(),
        }
    }
}

/// What the jobs share.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub db: DatabaseConnection,
}

/// What one cleanup did; stored by apalis as the job's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CleanupReport {
    pub sessions_deleted: u64,
}

pub async fn run(job: Cleanup, context: Data<JobContext>) -> Result<CleanupReport, sea_orm::DbErr> {
    let now = chrono::Utc::now();
    let waited_ms = (now.timestamp_millis() - job.enqueued_at_ms).max(0);
    metrics::histogram!("kiln_job_pickup_seconds", "job" => "cleanup")
        .record(waited_ms as f64 / 1000.0);

    let result = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now.timestamp()))
        .exec(&context.db)
        .await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!("kiln_jobs_total", "job" => "cleanup", "outcome" => outcome).increment(1);
    let deleted = result?.rows_affected;
    tracing::info!(sessions_deleted = deleted, waited_ms, "cleanup done");
    Ok(CleanupReport {
        sessions_deleted: deleted,
    })
}

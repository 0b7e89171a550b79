//! The step job: "run attempt N of step S". Any worker serving the step's
//! queue may take it; the engine's claim makes a duplicate or stale job a
//! no-op, so at-least-once delivery runs a step once.

use std::sync::Arc;

use apalis::prelude::Data;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepJob {
    pub step_id: i64,
    pub attempt: i32,
    /// When it was pushed (or became due), for `kiln_job_wait_seconds`.
    pub due_at_ms: i64,
}

/// The apalis handler. Failures of the step itself are the step's state,
/// not the job's: the job only fails when the engine could not record them,
/// and then the lease sweeper finishes the story.
pub async fn run(
    job: StepJob,
    engine: Data<Arc<Engine>>,
) -> Result<(), crate::engine::EngineError> {
    let result = crate::engine::executor::execute(&engine, &job).await;
    if let Err(error) = &result {
        tracing::error!(step = job.step_id, attempt = job.attempt, %error, "step job failed");
    }
    result
}

//! The step job: "run attempt N of step S". Any worker serving the step's
//! queue may take it. What running it means is the engine's business: it
//! hands the pool a [`StepRunner`], so this transport knows nothing of it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apalis::prelude::Data;
use serde::{Deserialize, Serialize};

use super::Cause;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepJob {
    pub step_id: i64,
    pub attempt: i32,
    /// When it was pushed (or became due), for `kiln_job_wait_seconds`.
    pub due_at_ms: i64,
}

pub type StepFuture = Pin<Box<dyn Future<Output = Result<(), Cause>> + Send>>;

/// Runs one step job to its end; an error means its end could not be
/// recorded (the job then fails, and the engine's sweeper takes over).
#[derive(Clone)]
pub struct StepRunner(Arc<dyn Fn(StepJob) -> StepFuture + Send + Sync>);

impl StepRunner {
    pub fn new(run: impl Fn(StepJob) -> StepFuture + Send + Sync + 'static) -> Self {
        StepRunner(Arc::new(run))
    }
}

impl std::fmt::Debug for StepRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepRunner")
    }
}

/// The apalis handler.
pub async fn run(job: StepJob, runner: Data<StepRunner>) -> Result<(), Cause> {
    let runner: &StepRunner = &runner;
    (runner.0)(job).await
}

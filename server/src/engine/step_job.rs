//! The engine's side of a step job: what the worker pool calls for each
//! job it takes. Failures of the step itself are the step's state, not the
//! job's: the job only fails when the engine could not record them, and
//! then the lease sweeper finishes the story.

use std::sync::Arc;

use super::{Engine, executor};
use crate::jobs::Cause;
use crate::jobs::steps::StepRunner;

pub fn runner(engine: Arc<Engine>) -> StepRunner {
    StepRunner::new(move |job| {
        let engine = engine.clone();
        Box::pin(async move {
            let result = executor::execute(&engine, &job).await;
            if let Err(error) = &result {
                tracing::error!(step = job.step_id, attempt = job.attempt, %error, "step job failed");
            }
            result.map_err(|e| Box::new(e) as Cause)
        })
    })
}

//! The handle that pushes jobs; cheap to clone into every request handler
//! and into the engine.

use super::JobsError;
use super::cleanup::{self, Cleanup};
use super::live;
use super::notifier::Notifier;
use super::steps::StepJob;
use super::storage::{Push, Storage};
use crate::db::Pool;

/// Where the jobs go, and how this process's workers are woken for them.
#[derive(Clone)]
pub struct JobQueue {
    pool: Pool,
    cleanup: Storage<Cleanup>,
    notifier: Notifier,
}

impl JobQueue {
    pub fn new(pool: &Pool, notifier: Notifier) -> Self {
        Self {
            pool: pool.clone(),
            cleanup: Storage::new(pool, cleanup::QUEUE, 1),
            notifier,
        }
    }

    /// Wakes this process's workers of a queue.
    pub fn notifier(&self) -> Notifier {
        self.notifier.clone()
    }

    /// Pushes a cleanup job; returns once it is stored, with this process's
    /// workers already woken for it.
    pub async fn push_cleanup(&self) -> Result<(), JobsError> {
        self.cleanup.push(Cleanup::now(), None).await?;
        self.notifier.notify(cleanup::QUEUE);
        Ok(())
    }

    /// Pushes a step's job to `queue`, runnable from `run_at` (Unix seconds)
    /// or at once.
    pub async fn push_step(
        &self,
        queue: &str,
        job: StepJob,
        run_at: Option<u64>,
    ) -> Result<(), JobsError> {
        self.push_steps(queue, vec![(job, run_at)]).await
    }

    /// How many live jobs attempt `attempt` of step `step` has in `queue`.
    pub async fn live_step_jobs(
        &self,
        queue: &str,
        step: i64,
        attempt: i32,
    ) -> Result<i64, JobsError> {
        live::live_step_jobs(&self.pool, queue, step, attempt).await
    }

    /// Pushes steps' jobs to `queue` in one batch, each runnable from its
    /// time (Unix seconds) or at once.
    pub async fn push_steps(
        &self,
        queue: &str,
        jobs: Vec<(StepJob, Option<u64>)>,
    ) -> Result<(), JobsError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let jobs = jobs
            .into_iter()
            .map(|(job, run_at)| Push {
                key: Some(live::key_of(&job)),
                job,
                run_at,
            })
            .collect();
        Storage::<StepJob>::new(&self.pool, queue, 1)
            .push_all(jobs)
            .await?;
        self.notifier.notify(queue);
        Ok(())
    }
}

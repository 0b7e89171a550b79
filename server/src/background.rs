//! The loops every Kiln process runs beside its HTTP server (or instead of
//! one, in `kiln worker`): the job worker pool, the engine's sweeper and
//! the reader of run events for live pages, the sender of commit statuses,
//! the scheduler (in `kiln serve`), SQLite's checkpoints, and the return of
//! freed memory, started by one function so `serve` and `worker` cannot
//! drift apart, and drained together on shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::Database;
use crate::engine::{Engine, step_job, sweeper};
use crate::jobs::{self, JobQueue, PoolHealth, PoolPlan, Workers};
use crate::pipelines::statuses::Reporter;

/// The running loops.
pub struct Background {
    workers: Workers,
    sweeper: JoinHandle<()>,
    engine: Arc<Engine>,
}

/// The loops a process runs besides the worker pool and the sweeper.
#[derive(Default)]
pub struct Optional {
    /// Sends commit statuses to git hosts.
    pub statuses: Option<Reporter>,
    /// Fires cron schedules (`kiln serve`).
    pub scheduler: bool,
}

/// Starts the worker pool of `plan`, the sweeper and the `optional`
/// loops; all stop when `shutdown` fires (running jobs get `grace`).
pub fn start(
    db: &Database,
    queue: &JobQueue,
    engine: Arc<Engine>,
    plan: PoolPlan,
    shutdown: CancellationToken,
    grace: Duration,
    optional: Optional,
) -> Background {
    let runner = step_job::runner(engine.clone());
    if !plan.step_queues.is_empty() {
        // Only a process that runs steps has slots to show.
        engine.slots.show_count();
    }
    let workers = jobs::start(db, queue, runner, plan, shutdown.clone(), grace);
    tokio::spawn(engine.feed.clone().run(engine.db.clone(), shutdown.clone()));
    tokio::spawn(crate::memory::return_freed(shutdown.clone()));
    tokio::spawn(crate::db::checkpoint::run(
        engine.db.clone(),
        shutdown.clone(),
    ));
    if let Some(reporter) = optional.statuses {
        tokio::spawn(reporter.run(engine.clone(), shutdown.clone()));
    }
    if optional.scheduler {
        tokio::spawn(crate::schedules::scheduler::run(
            engine.clone(),
            shutdown.clone(),
        ));
    }
    // Draining starts with the shutdown, not once the HTTP requests are
    // done: a job that gets a slot meanwhile must not start its step.
    let (to_drain, signal) = (engine.clone(), shutdown.clone());
    tokio::spawn(async move {
        signal.cancelled().await;
        to_drain.begin_draining();
    });
    let sweeper = tokio::spawn(sweeper::run(engine.clone(), shutdown));
    Background {
        workers,
        sweeper,
        engine,
    }
}

impl Background {
    /// Whether the worker pool runs (for `/readyz`).
    pub fn health(&self) -> PoolHealth {
        self.workers.health.clone()
    }

    /// After shutdown fired: running steps get `grace` to finish; then
    /// they are stopped (SIGTERM, SIGKILL after the kill grace) and handed
    /// back at once, each recorded as stopped by shutdown: retried if it
    /// has retries left, failed otherwise. False when steps had to be
    /// stopped.
    pub async fn drain(self, grace: Duration) -> bool {
        self.engine.begin_draining();
        self.sweeper.abort();
        // apalis stops waiting for its jobs after `grace`; they run on.
        let _ = tokio::time::timeout(grace + Duration::from_secs(1), self.workers.wait()).await;
        let engine = self.engine;
        if engine.running_count() == 0 {
            return true;
        }
        let stopped = engine.stop_running();
        tracing::warn!(
            steps = ?stopped,
            grace_seconds = grace.as_secs(),
            "steps still running after the grace period; stopping them and handing them back"
        );
        let recorded = async {
            while engine.running_count() > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let bound = engine.settings.kill_grace + Duration::from_secs(10);
        if tokio::time::timeout(bound, recorded).await.is_err() {
            tracing::error!(
                steps = engine.running_count(),
                "steps not recorded after being stopped; their leases will run out"
            );
        }
        false
    }
}

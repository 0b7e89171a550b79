//! Background jobs on apalis, as transport: the queue handle that pushes
//! jobs, the worker pool that runs them (in `kiln serve` by default, or
//! `kiln worker`), the cleanup job, and the step job's payload. What a step
//! job does is the engine's (`engine::step_job`), handed in as a runner:
//! nothing here imports the engine.
//!
//! SQLite uses apalis-sqlite's tables and statements, woken in-process the
//! moment a job is pushed (apalis-sqlite alone would only notice on its
//! 30-second heartbeat), each write taking its turn at Kiln's write gate
//! and as few trips to the connection's thread as it can (`sqlite`);
//! PostgreSQL uses apalis-postgres' tables and statements with LISTEN/NOTIFY,
//! so workers on other machines wake too, each statement in a round trip of
//! its own (`postgres`). MySQL/MariaDB uses Kiln's own apalis backend
//! (`mysql/`), since apalis-mysql 1.0.0-rc.8 does not compile against apalis
//! 1.0. All three are driven by apalis-core's `Persisted`
//! (`persisted_queue`).

mod bookkeeping;
pub mod cleanup;
pub mod echo;
pub mod live;
pub mod mysql;
pub mod notifier;
pub mod persisted_queue;
pub mod postgres;
pub mod postgres_ack;
pub mod queue;
pub mod sqlite;
mod sqlite_plans;
pub mod steps;
pub mod storage;
mod task_row;
pub mod wakeups;
pub mod workers;

use std::time::Duration;

pub use queue::JobQueue;
pub use workers::{PoolHealth, PoolPlan, Workers, setup, start};

/// How often workers prove they are alive to apalis; a worker silent for
/// `HEARTBEAT * MISSED_HEARTBEATS` has its jobs handed to others.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
pub const MISSED_HEARTBEATS: usize = 3;

/// apalis' storages each have their own error type; keep the cause boxed.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("cannot set up the job queue tables: {0}")]
    Setup(#[source] Cause),
    #[error("cannot enqueue job: {0}")]
    Push(#[source] Cause),
    #[error("cannot read the job queue: {0}")]
    Query(#[source] Cause),
}

impl From<JobsError> for crate::ServiceError {
    fn from(error: JobsError) -> Self {
        // Its messages say "the job queue" already.
        crate::ServiceError::internal_as_is(error)
    }
}

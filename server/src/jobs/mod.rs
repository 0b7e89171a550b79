//! Background jobs on apalis: the queue handle that pushes jobs, the worker
//! pool that runs them (in `kiln serve` by default), and the jobs themselves.
//!
//! SQLite uses apalis-sqlite, woken in-process the moment a job is pushed
//! (apalis-sqlite alone would only notice on its 30-second heartbeat);
//! PostgreSQL uses apalis-postgres with LISTEN/NOTIFY, so workers on other
//! machines wake too. MySQL has no apalis 1.0 backend yet (apalis-mysql
//! 1.0.0-rc.8 targets a pre-1.0 apalis-core and does not compile against 1.0),
//! so on MySQL the queue reports itself unavailable.

pub mod cleanup;
pub mod notifier;
pub mod queue;
pub mod workers;

pub use queue::JobQueue;
pub use workers::{Workers, start};

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("cannot set up the job queue tables: {0}")]
    Setup(String),
    #[error("cannot enqueue job: {0}")]
    Push(String),
    #[error("background jobs are not available on {0} yet")]
    Unsupported(&'static str),
}

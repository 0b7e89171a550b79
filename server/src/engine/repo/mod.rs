//! The engine's SQL for runs and steps: reading rows and the run lock
//! (`rows`), the lists and views the API and pages read (`runs`),
//! creating a run with its steps (`create`), every change of state with
//! its run event (`moves`), the events themselves (`events`), leases and
//! dispatch stamps (`leases`), concurrency groups (`groups`), and the
//! commit statuses pipeline runs owe their git hosts (`statuses`), and
//! approvals of runs from forks (`approvals`), and the short step logs
//! kept in steps' rows (`short_logs`).
//! Services call these; no state is written anywhere else.

pub mod approvals;
pub mod artifacts;
pub mod create;
pub mod events;
pub mod groups;
pub mod leases;
pub mod moves;
mod rows;
pub mod runs;
pub mod short_logs;
mod sqlite_move;
pub mod statuses;

/// Rows written by one statement: a run of thousands of tasks starts in a
/// few statements, and no statement exceeds a backend's parameter cap.
pub const BATCH: usize = 500;

pub use rows::{
    has_pending, lock_run, outputs_of, over_but_open, plan_steps, run, step, step_and_run,
    steps_by_id, steps_in, steps_of, steps_of_tasks,
};

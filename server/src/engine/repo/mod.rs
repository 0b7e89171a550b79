//! The engine's SQL for runs and steps: reading rows and the run lock
//! (`rows`), creating a run with its steps (`create`), every change of
//! state with its run event (`moves`), and the events themselves
//! (`events`). Services call these; no state is written anywhere else.

pub mod create;
pub mod events;
pub mod moves;
mod rows;

/// Rows written by one statement: a run of thousands of tasks starts in a
/// few statements, and no statement exceeds a backend's parameter cap.
pub const BATCH: usize = 500;

pub use rows::{lock_run, plan_steps, run_state_of, state_of, steps_in, steps_of};

//! The engine's SQL for runs and steps: reading rows and the run lock
//! (`rows`), creating a run with its steps (`create`), every change of
//! state with its run event (`moves`), and the events themselves
//! (`events`). Services call these; no state is written anywhere else.

pub mod create;
pub mod events;
pub mod moves;
mod rows;

pub use rows::{lock_run, plan_steps, run_state_of, state_of, steps_in, steps_of};

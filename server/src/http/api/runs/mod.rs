//! Workflows and runs over the API: workflow definitions, starting runs,
//! a project's runs and every run across projects, one run with its steps,
//! cancel, re-run and approval, step logs and artifacts, and the live
//! streams of run lists, run events and logs.

pub mod all_runs;
pub mod artifacts;
pub mod events;
pub mod live;
pub mod log_streams;
pub mod logs;
pub mod run;
pub mod types;
pub mod workflows;

//! Cron schedules over the API: create, change, pause, resume and run them,
//! their firings, and the preview of an expression.

pub mod schedule;
pub mod types;

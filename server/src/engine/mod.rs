//! Running steps: the shell runner (process groups, timeouts, cancellation,
//! captured output) and step logs (masked, capped, readable while written). The rules of what runs when are pure functions in
//! `kiln_core::engine`; this is where processes actually start.

pub mod logs;
pub mod secrets;
pub mod shell;

//! Running steps: the shell runner (process groups, timeouts, cancellation,
//! captured output). The rules of what runs when are pure functions in
//! `kiln_core::engine`; this is where processes actually start.

pub mod shell;

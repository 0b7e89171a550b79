//! Kiln's domain: plain types and pure functions with no IO.
//!
//! Everything here is tested in milliseconds and compiles for wasm32, so the
//! browser and the server share the same definitions (error bodies,
//! database URL validation, account rules, the permission table, the
//! network rules, the engine's states and rules, workflow files). How
//! things look on screen lives in `app/`.

pub mod access;
pub mod accounts;
pub mod api_error;
pub mod database_url;
pub mod engine;
pub mod hooks;
pub mod line_diff;
pub mod net;
pub mod pipeline;
pub mod sandbox;
#[cfg(feature = "cron")]
pub mod schedule;
pub mod text;
pub mod workflow;

pub use api_error::{ErrorBody, ErrorDetail, SourceProblem};
pub use database_url::{DatabaseKind, DatabaseUrl, DatabaseUrlError};

//! Kiln's server: configuration, the CLI, the HTTP surface (dashboard, API,
//! health, metrics), the database, and the background job workers.
//!
//! The binary is a thin CLI over this library; tests start the same server
//! in-process on port 0 through [`serve::Server`].

pub mod accounts;
pub mod background;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod engine;
pub mod http;
pub mod jobs;
pub mod memory;
pub mod pipelines;
pub mod schedules;
pub mod serve;
pub mod service_error;
pub mod shutdown;
pub mod telemetry;
pub mod worker;

pub use service_error::ServiceError;

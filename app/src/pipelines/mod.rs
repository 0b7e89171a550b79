//! Pipelines: a project's pipelines with its repository and the dry-run
//! form, and its webhook deliveries.

pub mod data;
pub mod load;
#[cfg(feature = "ssr")]
pub mod port;

//! Pipelines from the repository: the project's linked repository (where
//! Kiln fetches from, which host sends webhooks, the hook secret). The
//! rules themselves (pipeline files, `when:`, webhook payloads) are the
//! domain crate's; this is where they meet the database.

pub mod changes;
pub mod deliveries;
pub mod dry_run;
pub mod hooks;
mod matching;
pub mod overview;
pub mod replay;
pub mod repository;
pub mod start;
pub mod statuses;

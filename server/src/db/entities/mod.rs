//! SeaORM entities, one file per table. The schema itself lives in the
//! `kiln-migrations` crate; these mirror it for queries.

pub mod api_token;
pub mod commit_status;
pub mod definition;
pub mod delivery;
pub mod instance_owner;
pub mod membership;
pub mod node;
pub mod repository;
pub mod run;
pub mod run_event;
pub mod schedule;
pub mod schedule_firing;
pub mod secret;
pub mod session;
pub mod step;
pub mod user;
pub mod worker_label_grant;
pub mod workflow;
pub mod workflow_version;

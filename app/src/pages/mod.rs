//! One module per dashboard page.

pub mod account;
pub mod admin;
pub mod all_runs;
pub mod api_reference;
pub mod dashboard;
pub mod deliveries;
pub mod login;
pub mod node;
pub mod not_found;
pub mod pipelines;
pub mod project_runs;
pub mod project_workflows;
pub mod projects;
pub mod run;
pub mod schedules;
pub mod workflow_editor;
pub mod workflows;

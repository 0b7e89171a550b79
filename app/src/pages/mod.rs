//! One module per dashboard page.

pub mod account;
pub mod admin;
pub mod api_reference;
pub mod dashboard;
pub mod login;
pub mod node;
pub mod not_found;
pub mod projects;
pub mod runs;
pub mod schedules;
pub mod workflows;

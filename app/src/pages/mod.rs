//! One module per dashboard page.

pub mod admin;
pub mod dashboard;
pub mod not_found;
pub mod projects;
pub mod runs;
pub mod schedules;
pub mod workflows;

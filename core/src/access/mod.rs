//! Who may do what on the project tree: roles granted on groups and projects,
//! the effective role inherited down the tree, the permission table
//! (role × action), API token scopes, and visibility. Pure functions, so the
//! whole table is tested exhaustively without a database.

pub mod action;
pub mod decision;
pub mod role;
pub mod scope;

pub use action::Action;
pub use decision::{Caller, Visibility, decide};
pub use role::Role;
pub use scope::Scope;

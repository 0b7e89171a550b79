//! Who may do what on the project tree: roles granted on groups and projects,
//! the effective role inherited down the tree, the permission table
//! (role × action), API token scopes, and visibility. Pure functions, so the
//! whole table is tested exhaustively without a database.

pub mod action;
pub mod csrf;
pub mod decision;
pub mod role;
pub mod scope;
pub mod top_level;

pub use action::Action;
pub use decision::{Caller, Decision, UnknownVisibility, Visibility, decide};
pub use role::{Role, UnknownRole, effective_role};
pub use scope::{Scope, UnknownScope};
pub use top_level::{TopLevelRefusal, check_top_level_group};

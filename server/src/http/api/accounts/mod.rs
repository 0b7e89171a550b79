//! Accounts and the project tree over the API: sign-up and sign-in, the
//! caller's own account and tokens, administration, groups and projects,
//! their members, and the body types they share (pages, cursors).

pub mod admin;
pub mod auth;
pub mod me;
pub mod members;
pub mod tree;
pub mod tree_delete;
pub mod types;

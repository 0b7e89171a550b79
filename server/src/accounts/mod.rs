//! Accounts and the project tree, as services over the database: users and
//! their passwords, API tokens, groups and projects, role grants, and the one
//! place every request is authorized. The rules themselves are pure
//! functions in `kiln_core::{accounts, access}`; this module applies them.

pub mod authorize;
pub mod credentials;
pub mod members;
pub mod nodes;
pub mod passwords;
pub mod principal;
pub mod recheck;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod visible;

pub use authorize::authorize;
pub use principal::{Principal, TokenGrant, UserPrincipal};

pub use crate::clock::{now_s as now, s_to_rfc3339 as rfc3339};

/// A page of a list: `limit` items after the id `cursor`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub after: Option<i64>,
}

impl Page {
    pub const DEFAULT_LIMIT: u64 = 50;
    pub const MAX_LIMIT: u64 = 200;
}

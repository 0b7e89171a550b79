//! Accounts and the project tree: who is signed in, the groups and projects
//! they see, one group's or project's page, the account page, the list of
//! users, and the operations the API reference page lists.

pub mod data;
pub mod load;
#[cfg(feature = "ssr")]
pub mod port;

//! The accounts part of the pages' data port (see [`crate::backend`]): the
//! server crate implements it over the same services as the REST API.

use http::request::Parts;

use super::data::*;
use crate::accounts::data::Loaded;

#[async_trait::async_trait]
pub trait AccountsPort: Send + Sync {
    async fn whoami(&self, request: &Parts) -> Option<ViewerView>;
    async fn tree(&self, request: &Parts) -> Loaded<TreePage>;
    /// The group or project page at `path` (`kind` is `group` or `project`).
    async fn node(&self, request: &Parts, kind: &str, path: &str) -> Loaded<NodePage>;
    async fn account(&self, request: &Parts) -> Loaded<AccountPage>;
    async fn users(&self, request: &Parts) -> Loaded<Vec<UserView>>;
    fn operations(&self) -> Vec<OperationView>;
}

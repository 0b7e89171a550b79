//! The port through which pages load data on the server: the server crate
//! implements it over the same services as the REST API and puts it in
//! Leptos' context. The request's head identifies the viewer.

use std::sync::Arc;

use http::request::Parts;

use crate::data::{AccountPage, Loaded, NodePage, OperationView, TreePage, UserView};

#[async_trait::async_trait]
pub trait UiBackend: Send + Sync {
    async fn whoami(&self, request: &Parts) -> Option<UserView>;
    async fn tree(&self, request: &Parts) -> Loaded<TreePage>;
    /// The group or project page at `path` (`kind` is `group` or `project`).
    async fn node(&self, request: &Parts, kind: &str, path: &str) -> Loaded<NodePage>;
    async fn account(&self, request: &Parts) -> Loaded<AccountPage>;
    async fn users(&self, request: &Parts) -> Loaded<Vec<UserView>>;
    fn operations(&self) -> Vec<OperationView>;
}

pub type SharedBackend = Arc<dyn UiBackend>;

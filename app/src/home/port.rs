//! The home part of the pages' data port (see [`crate::backend`]): the
//! server crate implements it over the same services as the REST API.

use http::request::Parts;

use super::data::*;
use crate::accounts::data::Loaded;

#[async_trait::async_trait]
pub trait HomePort: Send + Sync {
    /// The signed-in viewer's home: runs across their projects.
    async fn home(&self, request: &Parts) -> Loaded<HomePage>;
    /// Every run the viewer can see, filtered.
    async fn all_runs(&self, request: &Parts, filter: AllRunsFilter) -> Loaded<AllRunsPage>;
    /// Every workflow the viewer can see, with its newest run.
    async fn workflows_across(&self, request: &Parts) -> Loaded<WorkflowsAcrossPage>;
}

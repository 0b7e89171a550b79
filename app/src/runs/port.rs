//! The runs part of the pages' data port (see [`crate::backend`]): the
//! server crate implements it over the same services as the REST API.

use http::request::Parts;

use super::data::*;
use crate::accounts::data::Loaded;
use crate::home::data::WorkflowAcross;

#[async_trait::async_trait]
pub trait RunsPort: Send + Sync {
    /// The workflow `name` of project `project` (`None`: a new one), with
    /// versions `compare` (from, to) compared.
    async fn workflow(
        &self,
        request: &Parts,
        project: i64,
        name: Option<String>,
        compare: Option<(i32, i32)>,
    ) -> Loaded<WorkflowPage>;
    /// The graph of `source` as typed in `project`'s editor, if it loads.
    async fn draft_graph(
        &self,
        request: &Parts,
        project: i64,
        source: String,
    ) -> Loaded<Option<GraphView>>;
    async fn workflows(&self, request: &Parts, project: i64) -> Loaded<Vec<WorkflowAcross>>;
    async fn runs(&self, request: &Parts, project: i64, filter: RunFilterView) -> Loaded<RunsPage>;
    async fn run(&self, request: &Parts, run: i64) -> Loaded<RunPage>;
    /// A piece of a step's log: of `attempt` (the latest when `None`).
    async fn log(
        &self,
        request: &Parts,
        run: i64,
        task: String,
        attempt: Option<i32>,
        offset: u64,
    ) -> Loaded<LogChunk>;
}

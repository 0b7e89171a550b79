//! The port through which pages load data on the server: the server crate
//! implements it over the same services as the REST API and puts it in
//! Leptos' context. The request's head identifies the viewer.

use std::sync::Arc;

use http::request::Parts;

use crate::data::{AccountPage, Loaded, NodePage, OperationView, TreePage, UserView};
use crate::engine_data::{LogChunk, RunFilterView, RunPage, RunsPage, WorkflowPage};
use crate::home_data::{AllRunsFilter, AllRunsPage, HomePage, WorkflowAcross, WorkflowsAcrossPage};
use crate::pipeline_data::{DeliveriesPage, DryRunQuery, PipelinesPage};
use crate::schedule_data::{PreviewView, SchedulePage, SchedulesPage};

#[async_trait::async_trait]
pub trait UiBackend: Send + Sync {
    async fn whoami(&self, request: &Parts) -> Option<UserView>;
    async fn tree(&self, request: &Parts) -> Loaded<TreePage>;
    /// The group or project page at `path` (`kind` is `group` or `project`).
    async fn node(&self, request: &Parts, kind: &str, path: &str) -> Loaded<NodePage>;
    async fn account(&self, request: &Parts) -> Loaded<AccountPage>;
    async fn users(&self, request: &Parts) -> Loaded<Vec<UserView>>;
    fn operations(&self) -> Vec<OperationView>;
    /// The workflow `name` of project `project` (`None`: a new one).
    async fn workflow(
        &self,
        request: &Parts,
        project: i64,
        name: Option<String>,
    ) -> Loaded<WorkflowPage>;
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
    /// A project's schedules, or (`None`) every schedule the viewer sees.
    async fn schedules(&self, request: &Parts, project: Option<i64>) -> Loaded<SchedulesPage>;
    async fn schedule(&self, request: &Parts, id: i64) -> Loaded<SchedulePage>;
    /// The next five instants of `expr` in zone `tz`, from now.
    fn preview_cron(&self, expr: &str, tz: &str) -> PreviewView;
    /// A project's pipelines page; `query` is the dry-run form as sent.
    async fn pipelines(
        &self,
        request: &Parts,
        project: i64,
        query: DryRunQuery,
    ) -> Loaded<PipelinesPage>;
    async fn deliveries(&self, request: &Parts, project: i64) -> Loaded<DeliveriesPage>;
    /// The signed-in viewer's home: runs across their projects.
    async fn home(&self, request: &Parts) -> Loaded<HomePage>;
    /// Every run the viewer can see, filtered.
    async fn all_runs(&self, request: &Parts, filter: AllRunsFilter) -> Loaded<AllRunsPage>;
    /// Every workflow the viewer can see, with its newest run.
    async fn workflows_across(&self, request: &Parts) -> Loaded<WorkflowsAcrossPage>;
}

pub type SharedBackend = Arc<dyn UiBackend>;

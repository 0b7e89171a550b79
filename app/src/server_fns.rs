//! Server functions the pages load their data with. On the server they call
//! the [`UiBackend`](crate::backend::UiBackend) in context; in the browser
//! they are HTTP calls to `/ui/fn/…` (only after client-side navigation: the
//! first render's data comes with the HTML).

use leptos::prelude::*;

use crate::data::{AccountPage, Loaded, NodePage, OperationView, TreePage, UserView};
use crate::engine_data::{LogChunk, RunFilterView, RunPage, RunsPage, WorkflowPage};
use crate::home_data::{AllRunsFilter, AllRunsPage, HomePage, WorkflowAcross, WorkflowsAcrossPage};
use crate::pipeline_data::{DeliveriesPage, DryRunQuery, PipelinesPage};
use crate::schedule_data::{PreviewView, SchedulePage, SchedulesPage};

#[cfg(feature = "ssr")]
async fn backend_and_request()
-> Result<(crate::backend::SharedBackend, http::request::Parts), ServerFnError> {
    let backend = use_context::<crate::backend::SharedBackend>()
        .ok_or_else(|| ServerFnError::new("no UI backend in context"))?;
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("no request in context"))?;
    Ok((backend, parts))
}

#[server(prefix = "/ui/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<UserView>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.whoami(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "tree")]
pub async fn load_tree() -> Result<Loaded<TreePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.tree(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "node")]
pub async fn load_node(kind: String, path: String) -> Result<Loaded<NodePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.node(&parts, &kind, &path).await)
}

#[server(prefix = "/ui/fn", endpoint = "account")]
pub async fn load_account() -> Result<Loaded<AccountPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.account(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "users")]
pub async fn load_users() -> Result<Loaded<Vec<UserView>>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.users(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "operations")]
pub async fn load_operations() -> Result<Vec<OperationView>, ServerFnError> {
    let (backend, _) = backend_and_request().await?;
    Ok(backend.operations())
}

#[server(prefix = "/ui/fn", endpoint = "workflow")]
pub async fn load_workflow(
    project: i64,
    name: Option<String>,
) -> Result<Loaded<WorkflowPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.workflow(&parts, project, name).await)
}

#[server(prefix = "/ui/fn", endpoint = "workflows")]
pub async fn load_workflows(project: i64) -> Result<Loaded<Vec<WorkflowAcross>>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.workflows(&parts, project).await)
}

#[server(prefix = "/ui/fn", endpoint = "home")]
pub async fn load_home() -> Result<Loaded<HomePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.home(&parts).await)
}

// A filter of nothing but `None`s is sent as no field at all: `default`
// reads that back as the empty filter (else the call fails in the browser).
#[server(prefix = "/ui/fn", endpoint = "all-runs")]
pub async fn load_all_runs(
    #[server(default)] filter: AllRunsFilter,
) -> Result<Loaded<AllRunsPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.all_runs(&parts, filter).await)
}

#[server(prefix = "/ui/fn", endpoint = "workflows-across")]
pub async fn load_workflows_across() -> Result<Loaded<WorkflowsAcrossPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.workflows_across(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "runs")]
pub async fn load_runs(
    project: i64,
    #[server(default)] filter: RunFilterView,
) -> Result<Loaded<RunsPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.runs(&parts, project, filter).await)
}

#[server(prefix = "/ui/fn", endpoint = "run")]
pub async fn load_run(run: i64) -> Result<Loaded<RunPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.run(&parts, run).await)
}

#[server(prefix = "/ui/fn", endpoint = "log")]
pub async fn load_log(
    run: i64,
    task: String,
    attempt: Option<i32>,
    offset: u64,
) -> Result<Loaded<LogChunk>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.log(&parts, run, task, attempt, offset).await)
}

#[server(prefix = "/ui/fn", endpoint = "schedules")]
pub async fn load_schedules(project: Option<i64>) -> Result<Loaded<SchedulesPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.schedules(&parts, project).await)
}

#[server(prefix = "/ui/fn", endpoint = "schedule")]
pub async fn load_schedule(id: i64) -> Result<Loaded<SchedulePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.schedule(&parts, id).await)
}

#[server(prefix = "/ui/fn", endpoint = "cron-preview")]
pub async fn preview_cron(expr: String, tz: String) -> Result<PreviewView, ServerFnError> {
    let (backend, _) = backend_and_request().await?;
    Ok(backend.preview_cron(&expr, &tz))
}

#[server(prefix = "/ui/fn", endpoint = "pipelines")]
pub async fn load_pipelines(
    project: i64,
    query: DryRunQuery,
) -> Result<Loaded<PipelinesPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.pipelines(&parts, project, query).await)
}

#[server(prefix = "/ui/fn", endpoint = "deliveries")]
pub async fn load_deliveries(project: i64) -> Result<Loaded<DeliveriesPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.deliveries(&parts, project).await)
}

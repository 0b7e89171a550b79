//! The server functions the runs pages load their data with. On the
//! server they call the `RunsPort` of the backend in
//! context; in the browser they are HTTP calls to `/ui/fn/…` (only after
//! client-side navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::backend::backend_and_request;
use crate::home::data::WorkflowAcross;

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

//! The server functions the runs pages load their data with. On the
//! server they call the `RunsPort` in context (see `port_context`); in the
//! browser they are HTTP calls to `/ui/fn/…` (only after client-side
//! navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
#[cfg(feature = "ssr")]
use super::port::RunsPort;
use crate::accounts::data::Loaded;
use crate::home::data::WorkflowAcross;
#[cfg(feature = "ssr")]
use crate::port_context::port_and_request;

#[server(prefix = "/ui/fn", endpoint = "workflow")]
pub async fn load_workflow(
    project: i64,
    name: Option<String>,
    compare: Option<(i32, i32)>,
) -> Result<Loaded<WorkflowPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.workflow(&parts, project, name, compare).await)
}

/// The graph of a workflow's text as typed in project `project`'s editor
/// (`None` while the text does not load).
#[server(prefix = "/ui/fn", endpoint = "draft_graph")]
pub async fn draft_graph(
    project: i64,
    source: String,
) -> Result<Loaded<Option<GraphView>>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.draft_graph(&parts, project, source).await)
}

#[server(prefix = "/ui/fn", endpoint = "workflows")]
pub async fn load_workflows(project: i64) -> Result<Loaded<Vec<WorkflowAcross>>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.workflows(&parts, project).await)
}

#[server(prefix = "/ui/fn", endpoint = "runs")]
pub async fn load_runs(
    project: i64,
    #[server(default)] filter: RunFilterView,
) -> Result<Loaded<RunsPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.runs(&parts, project, filter).await)
}

/// Run `run`'s page; with `drawn_on_server` (the server's own render of a
/// page load), its graph and steps are left out of what is sent.
#[server(prefix = "/ui/fn", endpoint = "run")]
pub async fn load_run(
    run: i64,
    #[server(default)] drawn_on_server: bool,
) -> Result<Loaded<RunPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.run(&parts, run).await.map(|mut page| {
        if drawn_on_server {
            page.detail = page.detail.drawn_on_server();
        }
        page
    }))
}

#[server(prefix = "/ui/fn", endpoint = "log")]
pub async fn load_log(
    run: i64,
    task: String,
    attempt: Option<i32>,
    offset: u64,
) -> Result<Loaded<LogChunk>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn RunsPort>()?;
    Ok(port.log(&parts, run, task, attempt, offset).await)
}

//! The server functions the home pages load their data with. On the
//! server they call the `HomePort` of the backend in
//! context; in the browser they are HTTP calls to `/ui/fn/…` (only after
//! client-side navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::backend::backend_and_request;

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

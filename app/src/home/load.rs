//! The server functions the home pages load their data with. On the
//! server they call the `HomePort` in context (see `port_context`); in the
//! browser they are HTTP calls to `/ui/fn/…` (only after client-side
//! navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
#[cfg(feature = "ssr")]
use super::port::HomePort;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::port_context::port_and_request;

#[server(prefix = "/ui/fn", endpoint = "home")]
pub async fn load_home() -> Result<Loaded<HomePage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn HomePort>()?;
    Ok(port.home(&parts).await)
}

// A filter of nothing but `None`s is sent as no field at all: `default`
// reads that back as the empty filter (else the call fails in the browser).
#[server(prefix = "/ui/fn", endpoint = "all-runs")]
pub async fn load_all_runs(
    #[server(default)] filter: AllRunsFilter,
) -> Result<Loaded<AllRunsPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn HomePort>()?;
    Ok(port.all_runs(&parts, filter).await)
}

#[server(prefix = "/ui/fn", endpoint = "workflows-across")]
pub async fn load_workflows_across() -> Result<Loaded<WorkflowsAcrossPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn HomePort>()?;
    Ok(port.workflows_across(&parts).await)
}

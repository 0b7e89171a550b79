//! The server functions the pipelines pages load their data with. On the
//! server they call the `PipelinesPort` in context (see `port_context`); in the
//! browser they are HTTP calls to `/ui/fn/…` (only after client-side
//! navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
#[cfg(feature = "ssr")]
use super::port::PipelinesPort;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::port_context::port_and_request;

#[server(prefix = "/ui/fn", endpoint = "pipelines")]
pub async fn load_pipelines(
    project: i64,
    query: DryRunQuery,
) -> Result<Loaded<PipelinesPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn PipelinesPort>()?;
    Ok(port.pipelines(&parts, project, query).await)
}

#[server(prefix = "/ui/fn", endpoint = "deliveries")]
pub async fn load_deliveries(project: i64) -> Result<Loaded<DeliveriesPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn PipelinesPort>()?;
    Ok(port.deliveries(&parts, project).await)
}

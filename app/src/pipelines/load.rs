//! The server functions the pipelines pages load their data with. On the
//! server they call the `PipelinesPort` of the backend in
//! context; in the browser they are HTTP calls to `/ui/fn/…` (only after
//! client-side navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::backend::backend_and_request;

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

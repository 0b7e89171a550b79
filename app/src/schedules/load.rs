//! The server functions the schedules pages load their data with. On the
//! server they call the `SchedulesPort` of the backend in
//! context; in the browser they are HTTP calls to `/ui/fn/…` (only after
//! client-side navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::backend::backend_and_request;

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

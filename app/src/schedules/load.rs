//! The server functions the schedules pages load their data with. On the
//! server they call the `SchedulesPort` in context (see `port_context`); in the
//! browser they are HTTP calls to `/ui/fn/…` (only after client-side
//! navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
#[cfg(feature = "ssr")]
use super::port::SchedulesPort;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::port_context::port_and_request;

#[server(prefix = "/ui/fn", endpoint = "schedules")]
pub async fn load_schedules(project: Option<i64>) -> Result<Loaded<SchedulesPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn SchedulesPort>()?;
    Ok(port.schedules(&parts, project).await)
}

#[server(prefix = "/ui/fn", endpoint = "schedule")]
pub async fn load_schedule(id: i64) -> Result<Loaded<SchedulePage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn SchedulesPort>()?;
    Ok(port.schedule(&parts, id).await)
}

#[server(prefix = "/ui/fn", endpoint = "cron-preview")]
pub async fn preview_cron(expr: String, tz: String) -> Result<PreviewView, ServerFnError> {
    let (port, _) = port_and_request::<dyn SchedulesPort>()?;
    Ok(port.preview_cron(&expr, &tz))
}

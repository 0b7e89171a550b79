//! The port through which pages load data on the server, one trait per
//! feature (`accounts::port`, `runs::port`, …): the server crate implements
//! each over the same services as the REST API and puts the whole in
//! Leptos' context. The request's head identifies the viewer.

use std::sync::Arc;

use leptos::prelude::*;

pub use crate::accounts::port::AccountsPort;
pub use crate::home::port::HomePort;
pub use crate::pipelines::port::PipelinesPort;
pub use crate::runs::port::RunsPort;
pub use crate::schedules::port::SchedulesPort;

/// Every feature's port: what the server puts in context.
pub trait UiBackend: AccountsPort + RunsPort + HomePort + PipelinesPort + SchedulesPort {}

impl<T: AccountsPort + RunsPort + HomePort + PipelinesPort + SchedulesPort> UiBackend for T {}

pub type SharedBackend = Arc<dyn UiBackend>;

/// The backend and the request in context, for a server function.
pub(crate) async fn backend_and_request()
-> Result<(SharedBackend, http::request::Parts), ServerFnError> {
    let backend = use_context::<SharedBackend>()
        .ok_or_else(|| ServerFnError::new("no UI backend in context"))?;
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("no request in context"))?;
    Ok((backend, parts))
}

//! The port through which pages load data on the server, one trait per
//! feature (`accounts::port`, `runs::port`, …): the server crate implements
//! each over the same services as the REST API and puts each in Leptos'
//! context ([`provide_ports`]). The request's head identifies the viewer.

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

/// Puts each feature's port in Leptos' context, where that feature's
/// server functions find it (`port_context`).
pub fn provide_ports(backend: &SharedBackend) {
    provide_context::<Arc<dyn AccountsPort>>(backend.clone());
    provide_context::<Arc<dyn RunsPort>>(backend.clone());
    provide_context::<Arc<dyn HomePort>>(backend.clone());
    provide_context::<Arc<dyn PipelinesPort>>(backend.clone());
    provide_context::<Arc<dyn SchedulesPort>>(backend.clone());
}

//! Where a server function finds its feature's port and the request: the
//! server puts one `Arc<dyn …Port>` per feature in Leptos' context
//! (`backend::provide_ports`), so each feature's server functions reach
//! their own port only, and no feature depends on the sum of them.

use std::sync::Arc;

use leptos::prelude::*;

/// The port `P` and the request's head, from the context of this call.
pub(crate) fn port_and_request<P: ?Sized + Send + Sync + 'static>()
-> Result<(Arc<P>, http::request::Parts), ServerFnError> {
    let port =
        use_context::<Arc<P>>().ok_or_else(|| ServerFnError::new("no UI backend in context"))?;
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("no request in context"))?;
    Ok((port, parts))
}

//! What one page request works out once and its later parts reuse: who is
//! looking (the header and the page's data both ask), and which nodes they
//! were found allowed to view (a project's page, then its workflows list,
//! rendered in the same request). Both live and die with the request, so
//! nothing carries over to another request or another viewer.

use std::sync::{Arc, Mutex};

use axum::http::request::Parts;
use kiln_core::accounts::NodeKind;

use crate::accounts::Principal;

/// The request's viewer, resolved on first use.
#[derive(Clone, Default)]
pub struct ViewerOnce(pub(super) Arc<tokio::sync::OnceCell<Principal>>);

/// The nodes this request's viewer was allowed to view, by kind and id.
#[derive(Clone, Default)]
pub struct Viewable(Arc<Mutex<Vec<(NodeKind, i64)>>>);

/// Gives each page request its [`ViewerOnce`] and [`Viewable`].
pub async fn remember_viewer(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request.extensions_mut().insert(ViewerOnce::default());
    request.extensions_mut().insert(Viewable::default());
    next.run(request).await
}

/// Notes that this request's viewer may view the `kind` node `id`.
pub(super) fn allow_view(request: &Parts, kind: NodeKind, id: i64) {
    if let Some(Viewable(seen)) = request.extensions.get::<Viewable>()
        && let Ok(mut seen) = seen.lock()
    {
        seen.push((kind, id));
    }
}

/// Whether this request already found its viewer may view the node.
pub(super) fn may_view(request: &Parts, kind: NodeKind, id: i64) -> bool {
    request
        .extensions
        .get::<Viewable>()
        .and_then(|Viewable(seen)| seen.lock().ok().map(|seen| seen.contains(&(kind, id))))
        .unwrap_or(false)
}

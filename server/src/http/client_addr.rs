//! The client's address, worked out once per request: the connection's peer,
//! or, when that peer is one of `trusted_proxies`, the right-most address of
//! `X-Forwarded-For` that is not a trusted proxy
//! (`kiln_core::net::client_address`). Login throttling, the anonymous quota
//! and the request logs all read it from here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use kiln_core::net::{NetworkList, client_address};

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The address a request is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: puts the [`ClientIp`] in the request's extensions.
pub async fn resolve(trusted: Arc<NetworkList>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let forwarded = request
            .headers()
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok());
        let client = client_address(peer, forwarded, &trusted);
        request.extensions_mut().insert(ClientIp(client));
    }
    next.run(request).await
}

/// The client address of a request's head, if the connection told it.
pub fn of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ClientIp>()
        .map(|client| client.0)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip())
        })
}

//! The Host check (DNS rebinding): when `public_url` is set, a request whose
//! Host (or HTTP/2 authority) names anything else is answered 421 before
//! sessions, CSRF or handlers see it. `/healthz`, `/readyz` and `/metrics`
//! answer whatever the Host: probes and scrapers address the pod or machine
//! by IP, and these reveal nothing a rebinding page could use against a
//! user (no cookies, no state changes).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kiln_core::net::ExpectedHost;

use super::error::ApiError;

/// Paths any Host may reach.
const ANY_HOST: &[&str] = &["/healthz", "/readyz", "/metrics"];

pub async fn check(expected: Option<Arc<ExpectedHost>>, request: Request, next: Next) -> Response {
    let Some(expected) = expected else {
        return next.run(request).await;
    };
    if ANY_HOST.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let named = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match named {
        Some(host) if expected.matches(&host) => next.run(request).await,
        _ => ApiError::MisdirectedRequest(format!(
            "this server answers to {} only (its public_url)",
            expected.authority()
        ))
        .into_response(),
    }
}

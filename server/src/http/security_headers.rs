//! Security headers on every response, errors included: `nosniff`, a
//! same-origin Referrer-Policy, no framing, a Content-Security-Policy, and
//! `no-cache, no-store` on pages (they carry what one viewer may see: a hook
//! secret, a new token; `no-cache` for caches that predate `no-store`)
//! unless a response says how it may be cached.
//! Pages set their own policy (with the nonce of their inline hydration
//! script, `ui::page_security`); every other response gets one that loads
//! nothing.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use kiln_core::net::headers::{REFERRER_POLICY, RESOURCE_POLICY, X_CONTENT_TYPE_OPTIONS};

pub async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static(X_CONTENT_TYPE_OPTIONS),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(REFERRER_POLICY),
    );
    // For browsers that predate `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let is_page = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(RESOURCE_POLICY),
        );
    }
    response
}

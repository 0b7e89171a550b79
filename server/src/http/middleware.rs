//! The middleware every request passes, outermost first: request id (kept
//! from the `x-request-id` header or made up, echoed back), a tracing span
//! carrying it, metrics by route template, panic catcher, timeout and body
//! size limit. Errors these layers produce use the JSON error body.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::client_addr::ClientIp;
use super::error::ApiError;
use super::metrics::track_requests;
use crate::config::Config;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_body_bytes: config.max_body_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_seconds),
        }
    }
}

pub fn wrap<S: Clone + Send + Sync + 'static>(routes: Router<S>, limits: Limits) -> Router<S> {
    let limit = limits.max_body_bytes;
    // `Router::layer` wraps what is already there: the first layer below is
    // the innermost, the last the outermost.
    routes
        // On matched routes only: remember the route template so the metrics
        // layer outside can label by it.
        .route_layer(middleware::from_fn(remember_route))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
        .layer(middleware::from_fn(move |req, next| {
            json_errors(req, next, limit)
        }))
        .layer(middleware::from_fn(track_requests))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Outermost: an incoming id is kept only when it is short and plain,
        // so clients cannot inject text into logs.
        .layer(middleware::from_fn(drop_unsafe_request_id))
}

async fn drop_unsafe_request_id(mut request: Request, next: Next) -> Response {
    let unsafe_id = request.headers().get(&REQUEST_ID).is_some_and(|value| {
        let bytes = value.as_bytes();
        bytes.is_empty()
            || bytes.len() > 128
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if unsafe_id {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map_or_else(|| "-".to_owned(), |client| client.0.to_string());
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        client = %client,
    )
}

async fn remember_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// The limit and timeout layers answer with empty bodies; give them the JSON
/// error shape so every client sees the same kind of error.
async fn json_errors(request: Request, next: Next, limit: usize) -> Response {
    let response = next.run(request).await;
    let replacement = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Some(ApiError::PayloadTooLarge { limit }),
        StatusCode::REQUEST_TIMEOUT => Some(ApiError::Timeout),
        _ => None,
    };
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match replacement {
        Some(error) if !is_json => {
            let mut new = error.into_response();
            if let Some(route) = response.extensions().get::<MatchedPath>().cloned() {
                new.extensions_mut().insert(route);
            }
            new
        }
        _ => response,
    }
}

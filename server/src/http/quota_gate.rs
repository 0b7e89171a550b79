//! The quota's gate on every `/api/v1` request: who is calling, what the
//! route costs (see `quota`), and the rate-limit headers on the answer.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{client_addr, principal_of};
use super::error::ApiError;
use super::quota::Verdict;
use super::state::AppState;
use crate::accounts::Principal;

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn set_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: Duration) {
    headers.insert("ratelimit-limit", HeaderValue::from(limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(ceil_secs(reset)));
}

/// The gate every `/api/v1` request passes: who is calling (a failed
/// credential is charged as its client address), then the quota, then the
/// route. The rate-limit headers go on every answer, errors included.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The body is not Sync: keep only the head borrowed across awaits.
    let (mut parts, body) = request.into_parts();
    let resolved = principal_of(&state, &parts).await;
    let principal = match &resolved {
        Ok(principal) => principal.clone(),
        Err(_) => Principal::Anonymous {
            addr: client_addr(&parts),
        },
    };
    let cost = match parts.extensions.get::<MatchedPath>() {
        Some(route) => state.quotas.cost(parts.method.as_str(), route.as_str()),
        None => 1,
    };
    match state.quotas.spend(&principal, cost) {
        Verdict::Allowed {
            limit,
            remaining,
            reset,
        } => {
            let mut response = match resolved {
                Ok(principal) => {
                    parts.extensions.insert(principal);
                    next.run(Request::from_parts(parts, body)).await
                }
                Err(error) => error.into_response(),
            };
            set_headers(response.headers_mut(), limit, remaining, reset);
            response
        }
        Verdict::Refused {
            limit,
            retry_after,
            reset,
        } => {
            let kind = match &principal {
                Principal::Anonymous { .. } => "anonymous",
                Principal::User(user) if user.token.is_some() => "token",
                Principal::User(_) => "user",
            };
            metrics::counter!("kiln_quota_rejections_total", "caller" => kind).increment(1);
            let mut response = ApiError::TooManyRequests {
                message: format!(
                    "API quota exceeded: this request costs {cost} units and the budget is {limit} a minute"
                ),
                retry_after: retry_after.max(Duration::from_secs(1)),
            }
            .into_response();
            set_headers(response.headers_mut(), limit, 0, reset.max(retry_after));
            response
        }
    }
}

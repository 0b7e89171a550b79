//! The dashboard's sessions: the cookie, where sessions are kept, and the
//! answer when keeping one failed.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::error::ApiError;
use super::state::AppState;
use crate::db::session_store::{DbSessionStore, WriteFailure, watching_writes};

/// Browser sessions: stored in the database, cookie `kiln_session`
/// (HttpOnly, SameSite=Lax, Secure behind https), ended after the configured
/// idle time.
pub fn layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let idle = i64::try_from(state.config.session_idle_minutes).unwrap_or(i64::MAX / 60);
    SessionManagerLayer::new(DbSessionStore::new(state.db.conn.clone()))
        .with_name("kiln_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.serves_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(idle)))
}

/// Outside every session layer: a session written after its handler
/// answered (a sign-in, a renewal) that could not be saved is answered as
/// any failure is, a 503 with `Retry-After` while the database is away
/// and a JSON 500 otherwise, instead of the layer's bare 500.
pub async fn answer_failed_writes(request: Request, next: Next) -> Response {
    let (response, failed) = watching_writes(next.run(request)).await;
    match replacement(&response, failed) {
        Some(error) => error.into_response(),
        None => response,
    }
}

/// What answers `response` instead, given the session write that failed
/// while it was made. Only the layer's own answer is replaced (a 500 with
/// no body type): a handler's answer already says what went wrong.
fn replacement(response: &Response, failed: Option<WriteFailure>) -> Option<ApiError> {
    let bare = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE);
    failed.filter(|_| bare).map(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: StatusCode, typed: bool) -> Response {
        let mut response = status.into_response();
        if typed {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        }
        response
    }

    #[test]
    fn a_failed_save_is_answered_503_in_an_outage_and_500_with_a_body_otherwise() {
        let bare = answer(StatusCode::INTERNAL_SERVER_ERROR, false);
        let down = WriteFailure::Unreachable("connection refused".into());
        let replaced = replacement(&bare, Some(down)).unwrap().into_response();
        assert_eq!(replaced.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(replaced.headers().contains_key(header::RETRY_AFTER));

        let failed = WriteFailure::Failed("disk full".into());
        let replaced = replacement(&bare, Some(failed)).unwrap().into_response();
        assert_eq!(replaced.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(replaced.headers().contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn answers_the_session_layer_did_not_make_are_kept() {
        let down = || Some(WriteFailure::Unreachable("refused".into()));
        // A handler's own 500 or 503 already says what went wrong.
        assert!(replacement(&answer(StatusCode::INTERNAL_SERVER_ERROR, true), down()).is_none());
        assert!(replacement(&answer(StatusCode::SERVICE_UNAVAILABLE, false), down()).is_none());
        // Nothing failed: a bare 500 of another layer stays as it is.
        assert!(replacement(&answer(StatusCode::INTERNAL_SERVER_ERROR, false), None).is_none());
        assert!(replacement(&answer(StatusCode::OK, false), down()).is_none());
    }
}

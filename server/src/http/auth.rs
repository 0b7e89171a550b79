//! Who is calling, resolved once per API request: a bearer token (checked,
//! never falling back to the cookie), else the session cookie, else nobody.
//! State-changing requests authenticated by cookie must pass the CSRF rules
//! (`kiln_core::access::csrf`). The quota gate calls this and puts the
//! [`Principal`] in the request's extensions; handlers take it as an
//! extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use kiln_core::access::csrf::{self, CsrfVerdict, RequestOrigin};
use rand::Rng;
use rand::distr::Alphanumeric;
use tower_sessions::Session;

use super::error::ApiError;
use super::state::AppState;
use crate::accounts::users::User;
use crate::accounts::{Principal, UserPrincipal, tokens, users};
use crate::clock::now_ms;

/// Session keys.
const USER_ID: &str = "user_id";
const AUTH_EPOCH: &str = "auth_epoch";
const CSRF_TOKEN: &str = "csrf_token";
/// When the session's idle expiry was last pushed forward, Unix ms.
const RENEWED_AT_MS: &str = "renewed_at_ms";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller of a request (from its head), or why its credentials fail.
pub async fn principal_of(state: &AppState, request: &Parts) -> Result<Principal, ApiError> {
    let addr = client_addr(request);
    if let Some(secret) = bearer(&request.headers) {
        let (user, grant) = tokens::authenticate(&state.db.conn, secret).await?;
        return Ok(Principal::User(UserPrincipal {
            id: user.id,
            username: user.username,
            is_admin: user.is_admin,
            token: Some(grant),
        }));
    }
    let session = request.extensions.get::<Session>();
    let user = match session {
        Some(session) => session_user(state, session).await?,
        None => None,
    };
    let unsafe_method = csrf::is_unsafe_method(request.method.as_str());
    if unsafe_method {
        check_csrf(state, request, session, user.is_some()).await?;
    }
    Ok(match user {
        Some(user) => Principal::User(UserPrincipal {
            id: user.id,
            username: user.username,
            is_admin: user.is_admin,
            token: None,
        }),
        None => Principal::Anonymous { addr },
    })
}

/// The user a session belongs to, unless their password changed since.
async fn session_user(state: &AppState, session: &Session) -> Result<Option<User>, ApiError> {
    let Some(id) = session.get::<i64>(USER_ID).await? else {
        return Ok(None);
    };
    let epoch = session.get::<i64>(AUTH_EPOCH).await?;
    match users::get(&state.db.conn, id).await? {
        Some(user) if Some(user.auth_epoch) == epoch => {
            keep_alive(session, state.config.session_idle_minutes).await?;
            Ok(Some(user))
        }
        _ => {
            session.flush().await?;
            Ok(None)
        }
    }
}

async fn check_csrf(
    state: &AppState,
    request: &Parts,
    session: Option<&Session>,
    signed_in: bool,
) -> Result<(), ApiError> {
    let headers = &request.headers;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let public_origin = state.config.public_url.as_deref().and_then(origin_of);
    let verdict = csrf::judge(RequestOrigin {
        sec_fetch_site: headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        origin: text(header::ORIGIN),
        host: text(header::HOST),
        public_origin: public_origin.as_deref(),
    });
    match verdict {
        CsrfVerdict::Allow => Ok(()),
        CsrfVerdict::Reject(reason) => Err(ApiError::Forbidden(format!(
            "{reason}: state-changing requests must come from Kiln's own pages or use an API token"
        ))),
        // Without a session there is nothing a forged request could ride on.
        CsrfVerdict::NeedToken if !signed_in => Ok(()),
        CsrfVerdict::NeedToken => {
            let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let expected = match session {
                Some(session) => session.get::<String>(CSRF_TOKEN).await?,
                None => None,
            };
            match (sent, expected) {
                (Some(sent), Some(expected))
                    if subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes())
                        .into() =>
                {
                    Ok(())
                }
                _ => Err(ApiError::Forbidden(format!(
                    "missing or wrong {CSRF_HEADER} header (GET /api/v1/me gives the token)"
                ))),
            }
        }
    }
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    Some(format!("{scheme}://{authority}"))
}

/// Pushes a session in use further from its idle expiry, now and then.
/// The session layer writes a session (its row and its cookie, with a new
/// expiry) only when something in it changed, so a session whose user came
/// back every day would still have ended a fixed time after sign-in. Marking
/// it renewed at most every quarter of the idle time (an hour at most) keeps
/// it alive while it is used, at one write an hour instead of one a request:
/// a session then ends between 3/4 of the idle time and all of it after its
/// last use.
async fn keep_alive(session: &Session, idle_minutes: u64) -> Result<(), ApiError> {
    let every_ms = i64::try_from(idle_minutes.saturating_mul(60_000) / 4)
        .unwrap_or(i64::MAX)
        .min(RENEW_AT_MOST_EVERY_MS);
    let now = now_ms();
    let renewed = session.get::<i64>(RENEWED_AT_MS).await?;
    // A mark in the future (another server's clock, or this one set back)
    // is replaced rather than trusted for as long as it claims.
    if renewed.is_none_or(|at| now.saturating_sub(at) >= every_ms || at > now) {
        session.insert(RENEWED_AT_MS, now).await?;
    }
    Ok(())
}

/// The longest a session in use goes without its expiry pushed forward.
const RENEW_AT_MOST_EVERY_MS: i64 = 3_600_000;

/// Starts a signed-in session for `user`: a new session id (so a fixed or
/// stolen pre-login id is worthless) and a fresh CSRF token.
pub async fn sign_in(session: &Session, user: &User) -> Result<(), ApiError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user.id).await?;
    session.insert(AUTH_EPOCH, user.auth_epoch).await?;
    let token: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    session.insert(CSRF_TOKEN, token).await?;
    session.insert(RENEWED_AT_MS, now_ms()).await?;
    Ok(())
}

/// Keeps the current session valid after its user's password changed.
pub async fn renew_epoch(session: &Session, epoch: i64) -> Result<(), ApiError> {
    session
        .insert(AUTH_EPOCH, epoch)
        .await
        .map_err(ApiError::from)
}

pub async fn sign_out(session: &Session) -> Result<(), ApiError> {
    session.delete().await.map_err(ApiError::from)
}

pub async fn csrf_token(session: &Session) -> Result<Option<String>, ApiError> {
    session
        .get::<String>(CSRF_TOKEN)
        .await
        .map_err(ApiError::from)
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous { addr: None }))
    }
}

/// The client's address (behind trusted proxies, the one they forwarded
/// for), for per-address limits.
pub fn client_addr(parts: &Parts) -> Option<std::net::IpAddr> {
    super::client_addr::of(parts)
}

/// The address as an extractor.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(parts)))
    }
}

/// The caller of a dashboard request: the session only. The dashboard is for
/// browsers; a bearer token there is refused, so a narrow token can never
/// use the forms (which do not check token scopes) to do more.
pub async fn session_principal_of(
    state: &AppState,
    request: &Parts,
) -> Result<Principal, ApiError> {
    if request.headers.contains_key(header::AUTHORIZATION) {
        return Err(ApiError::Forbidden(
            "the dashboard takes a signed-in session, not an API token".into(),
        ));
    }
    principal_of(state, request).await
}

/// A signed-in user (session or token); 401 otherwise.
pub struct SignedIn(pub UserPrincipal);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::User(user) => Ok(SignedIn(user)),
            Principal::Anonymous { .. } => Err(ApiError::Unauthorized(
                "sign in or send an API token".into(),
            )),
        }
    }
}

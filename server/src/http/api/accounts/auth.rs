//! Sign-up, sign-in and sign-out. Registration follows the configured mode
//! (`invite` by default; the first account may sign up unless registration
//! is closed, and becomes the only instance admin however many race for
//! it); sign-in is throttled per account and per client address.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Scope;
use tower_sessions::Session;

use super::types::{Credentials, UserBody};
use crate::accounts::Principal;
use crate::accounts::users::{self, NewUser};
use crate::http::auth::{ClientAddr, sign_in, sign_out};
use crate::http::error::ApiError;
use crate::http::extract::Json;
use crate::http::state::AppState;

/// Create an account. Signs the new user in, unless an instance admin is
/// creating it for someone else.
#[utoipa::path(post, path = "/auth/register", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, body = UserBody, description = "Created"),
        (status = 403, description = "Registration is not open"),
        (status = 409, description = "Username taken"),
        (status = 422, description = "Invalid username or password"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 20, "complexity": "O(1) + one argon2id hash"}))))]
pub async fn register(
    State(state): State<AppState>,
    principal: Principal,
    session: Session,
    Json(body): Json<Credentials>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let by_admin = principal.is_admin_with(Scope::Admin);
    let user = users::register(
        &state.db.conn,
        state.config.registration,
        by_admin,
        NewUser {
            username: body.username,
            password: body.password,
            admin: false,
        },
    )
    .await?;
    tracing::info!(user = %user.username, admin = user.is_admin, "account created");
    if principal.user().is_none() {
        sign_in(&session, &user).await?;
    }
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Sign in with a username and password; sets the session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 200, body = UserBody, description = "Signed in"),
        (status = 401, description = "Invalid username or password"),
        (status = 429, description = "Too many attempts"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 20, "complexity": "O(1) + one argon2id hash"}))))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    Json(body): Json<Credentials>,
) -> Result<Json<UserBody>, ApiError> {
    state.throttle.attempt(&body.username, addr)?;
    let user = users::check_login(&state.db.conn, &body.username, &body.password).await?;
    sign_in(&session, &user).await?;
    tracing::info!(user = %user.username, "signed in");
    Ok(Json(user.into()))
}

/// Sign out: the session is deleted on the server.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

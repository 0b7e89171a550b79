//! The signed-in user's own account: who am I, password change, API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Scope;
use tower_sessions::Session;

use super::types::{
    CreatedTokenBody, MeBody, NewTokenBody, PasswordChange, PasswordChangedBody, TokenList,
};
use crate::accounts::credentials;
use crate::accounts::tokens::{self, NewToken};
use crate::accounts::{UserPrincipal, users};
use crate::http::auth::{SignedIn, csrf_token, renew_epoch};
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;

/// Token management and password changes are account administration: a
/// token needs the admin scope for them.
fn require_account_admin(user: &UserPrincipal) -> Result<(), ApiError> {
    match user.token {
        Some(token) if token.scope < Scope::Admin => Err(ApiError::Forbidden(
            "this API token's scope does not allow managing the account".into(),
        )),
        _ => Ok(()),
    }
}

/// The caller's account, and the CSRF token of their session.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, body = MeBody), (status = 401, description = "Not signed in")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn me(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    session: Session,
) -> Result<Json<MeBody>, ApiError> {
    let user = users::get(&state.db.conn, caller.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    let (csrf, by) = match caller.token {
        Some(_) => (None, "token"),
        None => (csrf_token(&session).await?, "session"),
    };
    Ok(Json(MeBody {
        user: user.into(),
        csrf_token: csrf,
        authenticated_by: by,
    }))
}

/// Change the password. Every other session of the account ends and every
/// API token of the account is revoked (the answer says how many).
#[utoipa::path(put, path = "/me/password", tag = "account",
    request_body = PasswordChange,
    responses(
        (status = 200, body = PasswordChangedBody, description = "Changed"),
        (status = 422, description = "Wrong current password or invalid new one"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 20, "complexity": "O(1) + two argon2id hashes"}))))]
pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    session: Session,
    Json(body): Json<PasswordChange>,
) -> Result<Json<PasswordChangedBody>, ApiError> {
    if caller.token.is_some() {
        return Err(ApiError::Forbidden(
            "the password can only be changed from a signed-in session".into(),
        ));
    }
    let changed = credentials::change_password(
        &state.db.conn,
        caller.id,
        &body.current_password,
        body.new_password,
    )
    .await?;
    renew_epoch(&session, changed.epoch).await?;
    tracing::info!(
        user = %caller.username,
        tokens_revoked = changed.tokens_revoked,
        "password changed"
    );
    Ok(Json(PasswordChangedBody {
        tokens_revoked: changed.tokens_revoked,
        message: credentials::describe(changed),
    }))
}

/// The caller's API tokens (never their secrets), with last use.
#[utoipa::path(get, path = "/me/tokens", tag = "account",
    responses((status = 200, body = TokenList)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(tokens)"}))))]
pub async fn list_tokens(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
) -> Result<Json<TokenList>, ApiError> {
    let items = tokens::list(&state.db.conn, caller.id).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Create an API token; its secret is in this response only.
#[utoipa::path(post, path = "/me/tokens", tag = "account",
    request_body = NewTokenBody,
    responses(
        (status = 201, body = CreatedTokenBody),
        (status = 422, description = "Invalid name, scope, expiry or quota"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(1)"}))))]
pub async fn create_token(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedTokenBody>), ApiError> {
    require_account_admin(&caller)?;
    let (token, secret) = tokens::create(
        &state.db.conn,
        caller.id,
        NewToken {
            name: body.name,
            scope: body.scope,
            expires_in_days: body.expires_in_days,
            quota_per_minute: body.quota_per_minute,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenBody {
            token: token.into(),
            secret,
        }),
    ))
}

/// Revoke one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "account",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such live token")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn revoke_token(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require_account_admin(&caller)?;
    tokens::revoke(&state.db.conn, caller.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

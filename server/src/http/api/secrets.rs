//! Secrets of groups and projects: list names, set, delete. Values go in and
//! never come out; steps get them as environment variables, and logs show
//! `***` wherever one appears.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;

use super::runs::types::{SecretBody, SecretList, SecretValue};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::engine::secret_store;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;

async fn list(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
) -> Result<SecretList, ApiError> {
    let db = &state.db.conn;
    authorize(db, principal, kind, id, Action::View).await?;
    let items = secret_store::list(db, id)
        .await?
        .into_iter()
        .map(|(name, updated)| SecretBody {
            name,
            updated_at: crate::accounts::rfc3339(updated),
        })
        .collect();
    Ok(SecretList { items })
}

async fn set(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    name: &str,
    value: &str,
) -> Result<StatusCode, ApiError> {
    let db = &state.db.conn;
    authorize(db, principal, kind, id, Action::ManageSecrets).await?;
    secret_store::set(db, &state.engine.key, id, name, value).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    name: &str,
) -> Result<StatusCode, ApiError> {
    let db = &state.db.conn;
    authorize(db, principal, kind, id, Action::ManageSecrets).await?;
    secret_store::delete(db, id, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's own secrets (names only).
#[utoipa::path(get, path = "/projects/{id}/secrets", tag = "secrets",
    params(("id" = i64, Path)),
    responses((status = 200, body = SecretList)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(secrets)"}))))]
pub async fn list_project_secrets(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<SecretList>, ApiError> {
    list(&state, &principal, NodeKind::Project, id)
        .await
        .map(Json)
}

/// Sets a project secret (creates or replaces it).
#[utoipa::path(put, path = "/projects/{id}/secrets/{name}", tag = "secrets",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body = SecretValue,
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn set_project_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
    Json(body): Json<SecretValue>,
) -> Result<StatusCode, ApiError> {
    set(
        &state,
        &principal,
        NodeKind::Project,
        id,
        &name,
        &body.value,
    )
    .await
}

/// Deletes a project secret.
#[utoipa::path(delete, path = "/projects/{id}/secrets/{name}", tag = "secrets",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn delete_project_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &principal, NodeKind::Project, id, &name).await
}

/// The group's own secrets (names only); every project below sees them.
#[utoipa::path(get, path = "/groups/{id}/secrets", tag = "secrets",
    params(("id" = i64, Path)),
    responses((status = 200, body = SecretList)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(secrets)"}))))]
pub async fn list_group_secrets(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<SecretList>, ApiError> {
    list(&state, &principal, NodeKind::Group, id)
        .await
        .map(Json)
}

/// Sets a group secret.
#[utoipa::path(put, path = "/groups/{id}/secrets/{name}", tag = "secrets",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body = SecretValue,
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn set_group_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
    Json(body): Json<SecretValue>,
) -> Result<StatusCode, ApiError> {
    set(&state, &principal, NodeKind::Group, id, &name, &body.value).await
}

/// Deletes a group secret.
#[utoipa::path(delete, path = "/groups/{id}/secrets/{name}", tag = "secrets",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn delete_group_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &principal, NodeKind::Group, id, &name).await
}

//! Deleting groups and projects: the owner's call, a group only when empty
//! unless asked `recursive`, and from the dashboard only with the full path
//! typed out.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;

use super::types::DeleteQuery;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::accounts::nodes;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::http::state::AppState;

pub(crate) async fn delete_node(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    recursive: bool,
    confirm: Option<&str>,
) -> Result<StatusCode, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, kind, id, Action::Delete).await?;
    // The dashboard's form asks for the full path typed out (one click
    // must not delete a project); checked only once the caller may delete.
    if let Some(typed) = confirm
        && typed.trim() != found.node.full_path
    {
        return Err(ApiError::invalid(
            "confirm",
            format!("type the full path, {}, to delete it", found.node.full_path),
        ));
    }
    let count = nodes::delete(db, &found.node, recursive).await?;
    tracing::info!(path = %found.node.full_path, count, "deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a group; refused while it holds anything unless `recursive=true`.
#[utoipa::path(delete, path = "/groups/{id}", tag = "groups",
    params(("id" = i64, Path), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Not empty")),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(subtree)"}))))]
pub async fn delete_group(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    delete_node(
        &state,
        &principal,
        NodeKind::Group,
        id,
        q.recursive.unwrap_or(false),
        None,
    )
    .await
}

#[utoipa::path(delete, path = "/projects/{id}", tag = "projects",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted")),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(1)"}))))]
pub async fn delete_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    delete_node(&state, &principal, NodeKind::Project, id, false, None).await
}

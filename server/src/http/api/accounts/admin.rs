//! Instance administration (instance admins only): the list of accounts,
//! and which worker labels are granted to which groups.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Scope;
use serde::Serialize;
use utoipa::ToSchema;

use super::types::{PageQuery, UserList, next_cursor, page};
use crate::accounts::{Principal, users};
use crate::engine::label_grants;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::state::AppState;

#[utoipa::path(get, path = "/users", tag = "admin",
    params(PageQuery),
    responses((status = 200, body = UserList), (status = 403, description = "Not an instance admin")),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(limit)"}))))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Json<UserList>, ApiError> {
    if principal.user().is_none() {
        return Err(ApiError::Unauthorized(
            "sign in or send an API token".into(),
        ));
    }
    if !principal.is_admin_with(Scope::Read) {
        return Err(ApiError::Forbidden(
            "only instance admins may list accounts".into(),
        ));
    }
    let page = page(q.limit, q.cursor.as_deref())?;
    let found = users::list(&state.db.conn, page).await?;
    let next = next_cursor(&found, page, |u| u.id);
    Ok(Json(UserList {
        items: found.into_iter().map(Into::into).collect(),
        next_cursor: next,
    }))
}

/// One worker label granted to one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelGrantBody {
    pub label: String,
    pub group_id: i64,
    pub group_path: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelGrantList {
    pub items: Vec<LabelGrantBody>,
}

fn require_admin(principal: &Principal, scope: Scope, what: &str) -> Result<(), ApiError> {
    if principal.user().is_none() {
        return Err(ApiError::Unauthorized(
            "sign in or send an API token".into(),
        ));
    }
    if !principal.is_admin_with(scope) {
        return Err(ApiError::Forbidden(format!(
            "only instance admins may {what}"
        )));
    }
    Ok(())
}

/// Which worker labels are granted to which groups.
#[utoipa::path(get, path = "/worker-labels", tag = "admin",
    responses((status = 200, body = LabelGrantList), (status = 403, description = "Not an instance admin")),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(grants)"}))))]
pub async fn list_label_grants(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<LabelGrantList>, ApiError> {
    require_admin(&principal, Scope::Read, "list worker label grants")?;
    let grants = label_grants::list(&state.db.conn).await?;
    Ok(Json(LabelGrantList {
        items: grants
            .into_iter()
            .map(|g| LabelGrantBody {
                label: g.label,
                group_id: g.group_id,
                group_path: g.group_path,
            })
            .collect(),
    }))
}

/// Grants a worker label to a group: projects inside it may send tasks
/// to workers with that label (`runs_on:`).
#[utoipa::path(put, path = "/worker-labels/{label}/groups/{id}", tag = "admin",
    params(("label" = String, Path), ("id" = i64, Path, description = "The group")),
    responses((status = 204, description = "Granted"), (status = 403, description = "Not an instance admin"), (status = 404, description = "No such group"), (status = 422, description = "Not a valid label")),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn grant_label(
    State(state): State<AppState>,
    principal: Principal,
    Path((label, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    require_admin(&principal, Scope::Write, "grant worker labels")?;
    label_grants::grant(&state.db.conn, &label, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a worker label back from a group; runs already queued keep it.
#[utoipa::path(delete, path = "/worker-labels/{label}/groups/{id}", tag = "admin",
    params(("label" = String, Path), ("id" = i64, Path, description = "The group")),
    responses((status = 204, description = "Revoked"), (status = 403, description = "Not an instance admin"), (status = 404, description = "No such grant")),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn revoke_label(
    State(state): State<AppState>,
    principal: Principal,
    Path((label, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    require_admin(&principal, Scope::Write, "revoke worker labels")?;
    label_grants::revoke(&state.db.conn, &label, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Instance administration: the list of accounts (instance admins only).

use axum::extract::State;
use kiln_core::access::Scope;

use super::types::{PageQuery, UserList, next_cursor, page};
use crate::accounts::{Principal, users};
use crate::http::extract::{Json, Query};
use crate::http::{ApiError, AppState};

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

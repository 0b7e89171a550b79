//! Members of groups and projects: list (with inherited roles), add, change
//! role, remove. Maintainers manage roles below owner; only owners grant or
//! take away the owner role; a top-level group always keeps an owner.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::{Action, Role};
use kiln_core::accounts::NodeKind;

use super::types::{MemberBody, MemberList, NewMemberBody, RoleBody};
use crate::ServiceError;
use crate::accounts::authorize::{Authorized, authorize};
use crate::accounts::{Principal, members, users};
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;

pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
) -> Result<MemberList, ApiError> {
    let found = authorize(&state.db.conn, principal, kind, id, Action::View).await?;
    list_of(state, &found).await
}

/// The members of a node the caller was authorized to view.
pub(crate) async fn list_of(state: &AppState, found: &Authorized) -> Result<MemberList, ApiError> {
    let here = &found.node.full_path;
    let items = members::list(&state.db.conn, &found.node)
        .await?
        .into_iter()
        .map(|m| MemberBody::new(m, here))
        .collect();
    Ok(MemberList { items })
}

/// Checks that the caller may set `user_id`'s direct role on the node from
/// what it is to `new_role` (`None` = remove).
async fn authorize_change(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    user_id: Option<i64>,
    new_role: Option<Role>,
) -> Result<(Authorized, Option<Role>), ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, kind, id, Action::ManageMembers).await?;
    let current = match user_id {
        Some(user_id) => members::direct(db, found.node.id, user_id).await?,
        None => None,
    };
    let touches_owner = new_role == Some(Role::Owner) || current == Some(Role::Owner);
    if touches_owner {
        authorize(db, principal, kind, id, Action::ManageOwners).await?;
    }
    // A top-level group must keep at least one owner of its own.
    let loses_owner = current == Some(Role::Owner) && new_role != Some(Role::Owner);
    if loses_owner
        && found.node.parent_id.is_none()
        && members::direct_owners(db, found.node.id).await? <= 1
    {
        return Err(ApiError::Conflict {
            field: "role".into(),
            message: "a top-level group must keep at least one owner".into(),
        });
    }
    Ok((found, current))
}

pub(crate) async fn add(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    body: NewMemberBody,
) -> Result<(StatusCode, MemberBody), ApiError> {
    let role = members::parse_requested_role(&body.role)?;
    let target = users::find_by_username(&state.db.conn, &body.username).await?;
    let (found, _) = authorize_change(
        state,
        principal,
        kind,
        id,
        target.as_ref().map(|u| u.id),
        Some(role),
    )
    .await?;
    let (user, created) = members::grant(&state.db.conn, &found.node, &body.username, role).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        MemberBody {
            user_id: user.id,
            username: user.username,
            role: role.as_str(),
            granted_on: found.node.full_path,
            inherited: false,
        },
    ))
}

async fn change(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    user_id: i64,
    body: RoleBody,
) -> Result<MemberBody, ApiError> {
    let role = members::parse_requested_role(&body.role)?;
    let (found, current) =
        authorize_change(state, principal, kind, id, Some(user_id), Some(role)).await?;
    if current.is_none() {
        return Err(ServiceError::NotFound("member").into());
    }
    let user = users::get(&state.db.conn, user_id)
        .await?
        .ok_or(ServiceError::NotFound("member"))?;
    members::grant(&state.db.conn, &found.node, &user.username, role).await?;
    Ok(MemberBody {
        user_id,
        username: user.username,
        role: role.as_str(),
        granted_on: found.node.full_path,
        inherited: false,
    })
}

pub(crate) async fn remove(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    user_id: i64,
) -> Result<StatusCode, ApiError> {
    let (found, _) = authorize_change(state, principal, kind, id, Some(user_id), None).await?;
    members::revoke(&state.db.conn, &found.node, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everyone with a role on the group, including roles inherited from parents.
#[utoipa::path(get, path = "/groups/{id}/members", tag = "members",
    params(("id" = i64, Path)),
    responses((status = 200, body = MemberList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(members)"}))))]
pub async fn list_group_members(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<MemberList>, ApiError> {
    list(&state, &principal, NodeKind::Group, id)
        .await
        .map(Json)
}

#[utoipa::path(get, path = "/projects/{id}/members", tag = "members",
    params(("id" = i64, Path)),
    responses((status = 200, body = MemberList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(members)"}))))]
pub async fn list_project_members(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<MemberList>, ApiError> {
    list(&state, &principal, NodeKind::Project, id)
        .await
        .map(Json)
}

/// Grant a role on the group (or change an existing grant).
#[utoipa::path(post, path = "/groups/{id}/members", tag = "members",
    params(("id" = i64, Path)), request_body = NewMemberBody,
    responses((status = 201, body = MemberBody), (status = 200, body = MemberBody, description = "Role changed"), (status = 422, description = "No such user or role")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn add_group_member(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<NewMemberBody>,
) -> Result<(StatusCode, Json<MemberBody>), ApiError> {
    let (status, member) = add(&state, &principal, NodeKind::Group, id, body).await?;
    Ok((status, Json(member)))
}

#[utoipa::path(post, path = "/projects/{id}/members", tag = "members",
    params(("id" = i64, Path)), request_body = NewMemberBody,
    responses((status = 201, body = MemberBody), (status = 200, body = MemberBody, description = "Role changed"), (status = 422, description = "No such user or role")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn add_project_member(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<NewMemberBody>,
) -> Result<(StatusCode, Json<MemberBody>), ApiError> {
    let (status, member) = add(&state, &principal, NodeKind::Project, id, body).await?;
    Ok((status, Json(member)))
}

#[utoipa::path(patch, path = "/groups/{id}/members/{user_id}", tag = "members",
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = RoleBody,
    responses((status = 200, body = MemberBody), (status = 404, description = "Not a direct member")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn change_group_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(i64, i64)>,
    Json(body): Json<RoleBody>,
) -> Result<Json<MemberBody>, ApiError> {
    change(&state, &principal, NodeKind::Group, id, user_id, body)
        .await
        .map(Json)
}

#[utoipa::path(patch, path = "/projects/{id}/members/{user_id}", tag = "members",
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = RoleBody,
    responses((status = 200, body = MemberBody), (status = 404, description = "Not a direct member")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn change_project_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(i64, i64)>,
    Json(body): Json<RoleBody>,
) -> Result<Json<MemberBody>, ApiError> {
    change(&state, &principal, NodeKind::Project, id, user_id, body)
        .await
        .map(Json)
}

#[utoipa::path(delete, path = "/groups/{id}/members/{user_id}", tag = "members",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 409, description = "Last owner")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn remove_group_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &principal, NodeKind::Group, id, user_id).await
}

#[utoipa::path(delete, path = "/projects/{id}/members/{user_id}", tag = "members",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204, description = "Removed")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(1)"}))))]
pub async fn remove_project_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &principal, NodeKind::Project, id, user_id).await
}

//! Groups and projects: list, create, read, change, move, delete, and resolve
//! a full path. Every handler authorizes through `accounts::authorize`.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Role;
use kiln_core::access::{Action, Scope};
use kiln_core::accounts::NodeKind;

use super::types::{
    GroupListQuery, GroupMoveBody, NewGroupBody, NewProjectBody, NodeBody, NodeList,
    NodeUpdateBody, ProjectListQuery, ProjectMoveBody, ResolveQuery, next_cursor, page,
};
use crate::ServiceError;
use crate::accounts::authorize::{authorize, authorize_node, authorize_top_level};
use crate::accounts::nodes::{self, Listing, NewNode, NodeChanges};
use crate::accounts::{Page, Principal, members};
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::state::AppState;

pub(crate) async fn list_nodes(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    parent: Option<i64>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<NodeList, ApiError> {
    let db = &state.db.conn;
    let page = page(limit, cursor)?;
    let user_id = signed_in(principal)?;
    // Inside a node the caller holds a role on, everything is visible.
    let mut sees_all = principal.is_admin_with(Scope::Read);
    if let Some(parent) = parent {
        let parent = authorize(db, principal, NodeKind::Group, parent, Action::View).await?;
        sees_all |= parent.role.is_some();
    }
    let held = members::held_by(db, user_id).await?;
    list_visible(state, &held, sees_all, kind, parent, page).await
}

/// The caller's id; listings are for signed-in callers.
pub(crate) fn signed_in(principal: &Principal) -> Result<i64, ApiError> {
    principal
        .user()
        .map(|user| user.id)
        .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))
}

/// One page of `kind` nodes under `parent`, for a caller who holds `held`
/// (from `members::held_by`, read once per request) and `sees_all` there
/// (an admin, or a role on `parent`, already authorized): which nodes they
/// see and their role on each listed one.
pub(crate) async fn list_visible(
    state: &AppState,
    held: &[(String, Role)],
    sees_all: bool,
    kind: NodeKind,
    parent: Option<i64>,
    page: Page,
) -> Result<NodeList, ApiError> {
    let paths: Vec<String> = if sees_all {
        Vec::new()
    } else {
        held.iter().map(|(path, _)| path.clone()).collect()
    };
    let listing = if sees_all {
        Listing::All
    } else {
        Listing::VisibleFrom(&paths)
    };
    let found = nodes::list(&state.db.conn, Some(kind), parent, listing, page).await?;
    let next = next_cursor(&found, page, |n| n.id);
    let items = found
        .into_iter()
        .map(|node| {
            let role = members::role_on(held, &node.full_path);
            NodeBody::new(node, role)
        })
        .collect();
    Ok(NodeList {
        items,
        next_cursor: next,
    })
}

/// Groups the caller can see: all of them for instance admins; otherwise the
/// internal ones and those at or below the caller's memberships.
#[utoipa::path(get, path = "/groups", tag = "groups",
    params(GroupListQuery),
    responses((status = 200, body = NodeList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(limit)"}))))]
pub async fn list_groups(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<GroupListQuery>,
) -> Result<Json<NodeList>, ApiError> {
    list_nodes(
        &state,
        &principal,
        NodeKind::Group,
        q.parent_id,
        q.limit,
        q.cursor.as_deref(),
    )
    .await
    .map(Json)
}

/// Projects the caller can see.
#[utoipa::path(get, path = "/projects", tag = "projects",
    params(ProjectListQuery),
    responses((status = 200, body = NodeList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(limit)"}))))]
pub async fn list_projects(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ProjectListQuery>,
) -> Result<Json<NodeList>, ApiError> {
    list_nodes(
        &state,
        &principal,
        NodeKind::Project,
        q.group_id,
        q.limit,
        q.cursor.as_deref(),
    )
    .await
    .map(Json)
}

fn may_start_top_level(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    Ok(authorize_top_level(
        principal,
        state.config.allow_user_top_level_groups,
    )?)
}

pub(crate) async fn create_node(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    parent_id: Option<i64>,
    new: NewNode,
) -> Result<NodeBody, ApiError> {
    let db = &state.db.conn;
    let Some(user) = principal.user() else {
        return Err(ApiError::Unauthorized(
            "sign in or send an API token".into(),
        ));
    };
    let parent = match parent_id {
        Some(id) => Some(
            authorize(db, principal, NodeKind::Group, id, Action::CreateChildren)
                .await
                .map_err(|e| match e {
                    // The parent is named by a field, so say which.
                    ServiceError::NotFound(_) => ApiError::invalid(
                        match kind {
                            NodeKind::Group => "parent_id",
                            NodeKind::Project => "group_id",
                        },
                        "no such group",
                    ),
                    other => other.into(),
                })?
                .node,
        ),
        None => {
            may_start_top_level(state, principal)?;
            None
        }
    };
    let txn = crate::db::write_txn::begin(db)
        .await
        .map_err(ApiError::database)?;
    let node = nodes::create(&txn, NewNode { parent, ..new }).await?;
    // Whoever makes a top-level group owns it; below, roles are inherited.
    let role = if node.parent_id.is_none() {
        members::grant(&txn, &node, &user.username, Role::Owner).await?;
        Some(Role::Owner)
    } else {
        members::effective(&txn, user.id, &node.full_path).await?
    };
    txn.commit().await.map_err(ApiError::database)?;
    tracing::info!(path = %node.full_path, kind = kind.as_str(), "created");
    Ok(NodeBody::new(node, role))
}

/// Create a group: top level (instance admins, or every signed-in user when
/// `allow_user_top_level_groups` is set; they become its owner) or inside a
/// group where the caller is maintainer or owner.
#[utoipa::path(post, path = "/groups", tag = "groups",
    request_body = NewGroupBody,
    responses(
        (status = 201, body = NodeBody),
        (status = 403, description = "Not allowed to create a group here (top level: instance admins only unless allowed)"),
        (status = 409, description = "The path is taken"),
        (status = 422, description = "Invalid slug, name, visibility or parent"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(depth)"}))))]
pub async fn create_group(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewGroupBody>,
) -> Result<(StatusCode, Json<NodeBody>), ApiError> {
    let new = NewNode {
        kind: NodeKind::Group,
        parent: None,
        slug: body.slug,
        name: body.name,
        description: body.description,
        visibility: body.visibility,
    };
    let node = create_node(&state, &principal, NodeKind::Group, body.parent_id, new).await?;
    Ok((StatusCode::CREATED, Json(node)))
}

/// Create a project in a group where the caller is maintainer or owner.
#[utoipa::path(post, path = "/projects", tag = "projects",
    request_body = NewProjectBody,
    responses(
        (status = 201, body = NodeBody),
        (status = 409, description = "The path is taken"),
        (status = 422, description = "Invalid slug, name, visibility or group"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(depth)"}))))]
pub async fn create_project(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewProjectBody>,
) -> Result<(StatusCode, Json<NodeBody>), ApiError> {
    let new = NewNode {
        kind: NodeKind::Project,
        parent: None,
        slug: body.slug,
        name: body.name,
        description: body.description,
        visibility: body.visibility,
    };
    let node = create_node(
        &state,
        &principal,
        NodeKind::Project,
        Some(body.group_id),
        new,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(node)))
}

async fn get_node(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
) -> Result<NodeBody, ApiError> {
    let found = authorize(&state.db.conn, principal, kind, id, Action::View).await?;
    Ok(NodeBody::new(found.node, found.role))
}

#[utoipa::path(get, path = "/groups/{id}", tag = "groups",
    params(("id" = i64, Path)),
    responses((status = 200, body = NodeBody), (status = 404, description = "No such group, or hidden")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(depth)"}))))]
pub async fn get_group(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<NodeBody>, ApiError> {
    get_node(&state, &principal, NodeKind::Group, id)
        .await
        .map(Json)
}

#[utoipa::path(get, path = "/projects/{id}", tag = "projects",
    params(("id" = i64, Path)),
    responses((status = 200, body = NodeBody), (status = 404, description = "No such project, or hidden")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(depth)"}))))]
pub async fn get_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<NodeBody>, ApiError> {
    get_node(&state, &principal, NodeKind::Project, id)
        .await
        .map(Json)
}

/// The group or project at a full path, in one lookup.
#[utoipa::path(get, path = "/resolve", tag = "groups",
    params(ResolveQuery),
    responses((status = 200, body = NodeBody), (status = 404, description = "Nothing visible there")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(depth)"}))))]
pub async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ResolveQuery>,
) -> Result<Json<NodeBody>, ApiError> {
    let db = &state.db.conn;
    let node = nodes::find_by_path(db, &q.path).await?;
    let kind = node.as_ref().map_or(NodeKind::Group, |n| n.kind);
    let found = authorize_node(db, &principal, kind, node, Action::View)
        .await
        .map_err(|e| match e {
            ServiceError::NotFound(_) => {
                ApiError::NotFound(format!("nothing at {}", q.path.trim_matches('/')))
            }
            other => other.into(),
        })?;
    Ok(Json(NodeBody::new(found.node, found.role)))
}

pub(crate) async fn update_node(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    body: NodeUpdateBody,
) -> Result<NodeBody, ApiError> {
    let db = &state.db.conn;
    // A new slug changes every path below: that is a move.
    let action = if body.slug.is_some() {
        Action::Move
    } else {
        Action::EditSettings
    };
    let found = authorize(db, principal, kind, id, action).await?;
    let node = nodes::update(
        db,
        &found.node,
        NodeChanges {
            slug: body.slug,
            name: body.name,
            description: body.description,
            visibility: body.visibility,
        },
    )
    .await?;
    Ok(NodeBody::new(node, found.role))
}

/// Rename, re-describe, change visibility (maintainer), or change the slug
/// (owner: it moves every path inside).
#[utoipa::path(patch, path = "/groups/{id}", tag = "groups",
    params(("id" = i64, Path)), request_body = NodeUpdateBody,
    responses((status = 200, body = NodeBody), (status = 409, description = "Path taken or visibility conflict"), (status = 422, description = "Invalid field")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(subtree) when the slug changes, else O(1)"}))))]
pub async fn update_group(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<NodeUpdateBody>,
) -> Result<Json<NodeBody>, ApiError> {
    update_node(&state, &principal, NodeKind::Group, id, body)
        .await
        .map(Json)
}

#[utoipa::path(patch, path = "/projects/{id}", tag = "projects",
    params(("id" = i64, Path)), request_body = NodeUpdateBody,
    responses((status = 200, body = NodeBody), (status = 409, description = "Path taken"), (status = 422, description = "Invalid field")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(1)"}))))]
pub async fn update_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<NodeUpdateBody>,
) -> Result<Json<NodeBody>, ApiError> {
    update_node(&state, &principal, NodeKind::Project, id, body)
        .await
        .map(Json)
}

async fn move_node(
    state: &AppState,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    to: Option<i64>,
) -> Result<NodeBody, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, kind, id, Action::Move).await?;
    let field = match kind {
        NodeKind::Group => "parent_id",
        NodeKind::Project => "group_id",
    };
    let target = match to {
        Some(parent) => Some(
            authorize(
                db,
                principal,
                NodeKind::Group,
                parent,
                Action::CreateChildren,
            )
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => ApiError::invalid(field, "no such group"),
                other => other.into(),
            })?
            .node,
        ),
        None => {
            // Already at the top is no new top-level group.
            if found.node.parent_id.is_some() {
                may_start_top_level(state, principal)?;
            }
            None
        }
    };
    let internal = ApiError::database;
    let txn = crate::db::write_txn::begin(db).await.map_err(internal)?;
    let moved = nodes::move_to(&*txn, &found.node, target.as_ref()).await?;
    let user = principal.user().map(|u| (u.id, u.username.clone()));
    let (user_id, username) = user.unwrap_or_default();
    // A group leaving its parent loses the roles inherited from it: whoever
    // moved it owns it, so a top-level group always has an owner.
    if moved.parent_id.is_none() && found.node.parent_id.is_some() {
        members::grant(&txn, &moved, &username, Role::Owner).await?;
    }
    txn.commit().await.map_err(internal)?;
    let role = members::effective(db, user_id, &moved.full_path).await?;
    tracing::info!(from = %found.node.full_path, to = %moved.full_path, "moved");
    Ok(NodeBody::new(moved, role))
}

/// Move a group under another group (or to the top level). Needs owner on
/// the group and maintainer on the destination; never under itself.
#[utoipa::path(post, path = "/groups/{id}/move", tag = "groups",
    params(("id" = i64, Path)), request_body = GroupMoveBody,
    responses((status = 200, body = NodeBody), (status = 409, description = "Path taken at the destination"), (status = 422, description = "Destination is inside the group")),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(subtree)"}))))]
pub async fn move_group(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<GroupMoveBody>,
) -> Result<Json<NodeBody>, ApiError> {
    move_node(&state, &principal, NodeKind::Group, id, body.parent_id)
        .await
        .map(Json)
}

/// Move a project to another group.
#[utoipa::path(post, path = "/projects/{id}/move", tag = "projects",
    params(("id" = i64, Path)), request_body = ProjectMoveBody,
    responses((status = 200, body = NodeBody), (status = 409, description = "Path taken at the destination")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(1)"}))))]
pub async fn move_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<ProjectMoveBody>,
) -> Result<Json<NodeBody>, ApiError> {
    move_node(
        &state,
        &principal,
        NodeKind::Project,
        id,
        Some(body.group_id),
    )
    .await
    .map(Json)
}

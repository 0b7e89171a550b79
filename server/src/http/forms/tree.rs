//! Forms about the tree: groups, projects, their members, settings and
//! deletion, each through the same functions as the REST API.

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use kiln_core::accounts::NodeKind;

use super::{Posted, field, handle, optional, origin_page};
use crate::ServiceError;
use crate::accounts::nodes::{self, NewNode};
use crate::http::api::accounts::types::{NewMemberBody, NodeUpdateBody};
use crate::http::api::{
    accounts::members as api_members, accounts::tree as api_tree,
    accounts::tree_delete as api_tree_delete,
};
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub(super) fn new_node(kind: NodeKind, fields: &HashMap<String, String>) -> NewNode {
    NewNode {
        kind,
        parent: None,
        slug: field(fields, "slug"),
        name: optional(fields, "name"),
        description: optional(fields, "description"),
        visibility: optional(fields, "visibility"),
    }
}

pub(super) async fn create_top_group(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "group",
        "/projects",
        |principal, state| async move {
            let new = new_node(NodeKind::Group, &fields);
            let node =
                api_tree::create_node(&state, &principal, NodeKind::Group, None, new).await?;
            Ok(format!("/g/{}", node.full_path))
        },
    )
    .await
}

pub(super) async fn create_child(
    state: AppState,
    id: i64,
    posted: Posted,
    kind: NodeKind,
    form: &'static str,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        form,
        "/projects",
        |principal, state| async move {
            let new = new_node(kind, &fields);
            let node = api_tree::create_node(&state, &principal, kind, Some(id), new).await?;
            Ok(kiln_app::accounts::data::node_href(
                node.kind,
                &node.full_path,
            ))
        },
    )
    .await
}

pub(super) async fn create_subgroup(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    create_child(state, id, posted, NodeKind::Group, "subgroup").await
}

pub(super) async fn create_project(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    create_child(state, id, posted, NodeKind::Project, "project").await
}

/// The kind of node `id` is (any kind: authorization comes after).
pub(super) async fn kind_of(state: &AppState, id: i64) -> Result<NodeKind, ApiError> {
    Ok(nodes::get(&state.db.conn, id)
        .await?
        .map(|n| n.kind)
        .ok_or(ServiceError::NotFound("group or project"))?)
}

pub(super) async fn add_member(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let page = origin_page(&parts.headers, "/projects");
    handle(
        &state,
        &parts,
        "member",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            let body = NewMemberBody {
                username: field(&fields, "username"),
                role: field(&fields, "role"),
            };
            api_members::add(&state, &principal, kind, id, body).await?;
            Ok(page)
        },
    )
    .await
}

pub(super) async fn remove_member(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let page = origin_page(&parts.headers, "/projects");
    handle(
        &state,
        &parts,
        "member",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            api_members::remove(&state, &principal, kind, id, user_id).await?;
            Ok(page)
        },
    )
    .await
}

pub(super) async fn update_settings(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "settings",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            let body = NodeUpdateBody {
                name: fields.get("name").cloned(),
                description: fields.get("description").cloned(),
                ..NodeUpdateBody::default()
            };
            let node = api_tree::update_node(&state, &principal, kind, id, body).await?;
            // Back to the tab the form is on.
            Ok(format!(
                "{}/-/settings",
                kiln_app::accounts::data::node_href(node.kind, &node.full_path)
            ))
        },
    )
    .await
}

pub(super) async fn delete_node(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "delete",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            let typed = fields.get("confirm").map_or("", String::as_str);
            api_tree_delete::delete_node(&state, &principal, kind, id, false, Some(typed)).await?;
            Ok("/projects".to_owned())
        },
    )
    .await
}

//! Turning the services' answers into what pages show: users, groups and
//! projects, members, breadcrumbs, whether a button is offered, a graph's
//! drawing, and how a refusal looks.

use kiln_app::accounts::data::{Crumb, Denied, MemberView, NodeView, UserView, node_href};
use kiln_app::runs::data::{GraphNode, GraphView};
use kiln_app::screen::graph_layout::layout;
use kiln_core::access::{Action, Decision, decide};

use crate::accounts::authorize::Authorized;
use crate::accounts::users::User;
use crate::accounts::{Principal, rfc3339};
use crate::http::api::accounts::types::{MemberBody, NodeBody};
use crate::http::error::ApiError;

pub(super) fn user_view(u: User) -> UserView {
    UserView {
        id: u.id,
        username: u.username,
        is_admin: u.is_admin,
        created_at: rfc3339(u.created_at),
    }
}

pub(super) fn node_view(n: NodeBody) -> NodeView {
    NodeView {
        id: n.id,
        kind: n.kind.to_owned(),
        slug: n.slug,
        name: n.name,
        description: n.description,
        visibility: n.visibility.to_owned(),
        full_path: n.full_path,
        role: n.role.map(str::to_owned),
    }
}

pub(super) fn member_view(m: MemberBody) -> MemberView {
    MemberView {
        user_id: m.user_id,
        username: m.username,
        role: m.role.to_owned(),
        granted_on: m.granted_on,
        inherited: m.inherited,
    }
}

/// The drawing of tasks given as (id, needs), in file order.
pub(super) fn graph_view(tasks: &[(String, Vec<String>)]) -> GraphView {
    let drawn = layout(tasks);
    GraphView {
        nodes: drawn
            .nodes
            .into_iter()
            .map(|n| GraphNode {
                task: n.id,
                x: n.x,
                y: n.y,
            })
            .collect(),
        edges: drawn.edges,
        width: drawn.width,
        height: drawn.height,
    }
}

/// How a failure looks to a page.
pub(super) fn denied(error: ApiError) -> Denied {
    match error {
        ApiError::Unauthorized(_) => Denied::SignIn,
        ApiError::NotFound(_) => Denied::NotFound,
        ApiError::Forbidden(message) => Denied::Forbidden(message),
        other => {
            tracing::error!(error = %other, "page data failed");
            Denied::Forbidden("something went wrong; see the server log".into())
        }
    }
}

/// The breadcrumbs down to the authorized node: its groups and itself.
pub(super) fn crumbs_of(found: &Authorized) -> Vec<Crumb> {
    found
        .lineage
        .iter()
        .map(|a| Crumb {
            href: node_href(&a.kind, &a.full_path),
            label: a.name.clone(),
        })
        .collect()
}

/// Whether `principal` may do `action` where `found` was authorized (a
/// page offers the button only then).
pub(super) fn allowed(principal: &Principal, found: &Authorized, action: Action) -> bool {
    decide(
        principal.caller(),
        found.role,
        found.node.visibility,
        action,
    ) == Decision::Allow
}

//! The one place a request is checked against the project tree: load the
//! node, the caller's effective role on it, and ask the permission table.
//! Hidden nodes answer exactly like missing ones, so existence never leaks.
//! A new top-level group has no node to check against: its own rule is here
//! too.

use kiln_core::access::{Action, Decision, Role, TopLevelRefusal, check_top_level_group, decide};
use kiln_core::accounts::NodeKind;
use sea_orm::ConnectionTrait;

use super::Principal;
use super::members::{self, Ancestor};
use super::nodes::{self, Node, noun};
use crate::ServiceError;

/// A node the caller may act on, with their role there.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub node: Node,
    pub role: Option<Role>,
    /// The groups above the node and the node itself, top first, read with
    /// the role: a page's breadcrumbs need no query of their own.
    pub lineage: Vec<Ancestor>,
}

/// Whether `principal` may make a group with no parent (create one, or move
/// one to the top): instance admins, or everyone when `allow_users` (the
/// `allow_user_top_level_groups` setting).
pub fn authorize_top_level(principal: &Principal, allow_users: bool) -> Result<(), ServiceError> {
    check_top_level_group(principal.caller(), allow_users).map_err(|refusal| match refusal {
        TopLevelRefusal::NotSignedIn => {
            ServiceError::Unauthenticated("sign in or send an API token")
        }
        TopLevelRefusal::TokenScope | TopLevelRefusal::AdminsOnly => {
            ServiceError::Forbidden(refusal.to_string())
        }
    })
}

/// Checks `action` on the `kind` node `id` for `principal`.
pub async fn authorize(
    db: &impl ConnectionTrait,
    principal: &Principal,
    kind: NodeKind,
    id: i64,
    action: Action,
) -> Result<Authorized, ServiceError> {
    let node = nodes::get(db, id).await?;
    authorize_node(db, principal, kind, node, action).await
}

/// The same check for a node already loaded (or looked up by path).
pub async fn authorize_node(
    db: &impl ConnectionTrait,
    principal: &Principal,
    kind: NodeKind,
    node: Option<Node>,
    action: Action,
) -> Result<Authorized, ServiceError> {
    let Some(user) = principal.user() else {
        return Err(ServiceError::Unauthenticated(
            "sign in or send an API token",
        ));
    };
    let node = node
        .filter(|n| n.kind == kind)
        .ok_or(ServiceError::NotFound(noun(kind)))?;
    let lineage = members::lineage_with_roles(db, user.id, &node.full_path).await?;
    let role = members::effective_on(&lineage);
    match decide(principal.caller(), role, node.visibility, action) {
        Decision::Allow => Ok(Authorized {
            node,
            role,
            lineage,
        }),
        Decision::Hidden => Err(ServiceError::NotFound(noun(kind))),
        Decision::Deny => Err(ServiceError::Forbidden(denial(principal, role, action))),
    }
}

fn denial(principal: &Principal, role: Option<Role>, action: Action) -> String {
    let by_scope = principal
        .user()
        .and_then(|u| u.token)
        .is_some_and(|token| !token.scope.permits(action));
    if by_scope {
        return format!(
            "this API token's scope does not allow {}",
            action.describe()
        );
    }
    match role {
        Some(role) => format!("a {role} may not {}", action.describe()),
        None => format!("only members may {}", action.describe()),
    }
}

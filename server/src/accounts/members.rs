//! Role grants on groups and projects, and the effective role: the highest
//! role granted on a node or any ancestor, found in one query over the
//! node's lineage of paths.

use std::collections::BTreeMap;

use kiln_core::access::{Role, effective_role};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationDef, Set,
};

use super::nodes::{Node, lineage_of};
use super::now;
use super::users::{self, User};
use crate::ServiceError;
use crate::db::entities::{membership, node, user};

fn to_node() -> RelationDef {
    membership::Entity::belongs_to(node::Entity)
        .from(membership::Column::NodeId)
        .to(node::Column::Id)
        .into()
}

fn parse_role(raw: &str) -> Result<Role, ServiceError> {
    raw.parse::<Role>()
        .map_err(|e| ServiceError::Database(sea_orm::DbErr::Custom(e.to_string())))
}

/// The user's role on the node at `full_path`, inherited from ancestors.
pub async fn effective(
    db: &impl ConnectionTrait,
    user_id: i64,
    full_path: &str,
) -> Result<Option<Role>, ServiceError> {
    Ok(effective_on(
        &lineage_with_roles(db, user_id, full_path).await?,
    ))
}

/// The effective role on the last node of `lineage` (from
/// [`lineage_with_roles`]): the highest role held on it or a group above.
pub fn effective_on(lineage: &[Ancestor]) -> Option<Role> {
    effective_role(lineage.iter().filter_map(|a| a.role))
}

/// One node of a lineage: a group above a node, or the node itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub kind: String,
    pub full_path: String,
    pub name: String,
    /// The role the user holds directly here, if any.
    pub role: Option<Role>,
}

/// The node at `full_path` and the groups above it, top first, each with
/// the role `user_id` holds directly there: in one query, the effective
/// role (the highest of them) and what a page's breadcrumbs show.
pub async fn lineage_with_roles(
    db: &impl ConnectionTrait,
    user_id: i64,
    full_path: &str,
) -> Result<Vec<Ancestor>, ServiceError> {
    // The user's condition belongs to the join: in the WHERE clause it
    // would drop the nodes where only others hold a role.
    let theirs = to_node().rev().on_condition(move |_, memberships| {
        Expr::col((memberships, membership::Column::UserId))
            .eq(user_id)
            .into_condition()
    });
    let rows: Vec<(String, String, String, Option<String>)> = node::Entity::find()
        .select_only()
        .column(node::Column::Kind)
        .column(node::Column::FullPath)
        .column(node::Column::Name)
        .column(membership::Column::Role)
        .join(JoinType::LeftJoin, theirs)
        .filter(node::Column::FullPath.is_in(lineage_of(full_path)))
        .into_tuple()
        .all(db)
        .await?;
    let mut lineage = rows
        .into_iter()
        .map(|(kind, full_path, name, role)| {
            Ok(Ancestor {
                kind,
                full_path,
                name,
                role: role.as_deref().map(parse_role).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    lineage.sort_by_key(|a| a.full_path.len());
    Ok(lineage)
}

/// The paths of every node the user holds a role on directly.
pub async fn paths_of(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<String>, ServiceError> {
    Ok(membership::Entity::find()
        .select_only()
        .column(node::Column::FullPath)
        .join(JoinType::InnerJoin, to_node())
        .filter(membership::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Every role the user holds directly, with the path of its node: one
/// query, from which [`role_on`] gives the effective role on any number of
/// nodes (a listing of 100 projects made 100 queries before).
pub async fn held_by(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<(String, Role)>, ServiceError> {
    let rows: Vec<(String, String)> = membership::Entity::find()
        .select_only()
        .column(node::Column::FullPath)
        .column(membership::Column::Role)
        .join(JoinType::InnerJoin, to_node())
        .filter(membership::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(path, role)| Ok((path, parse_role(&role)?)))
        .collect()
}

/// The effective role on the node at `full_path` among `held` (from
/// [`held_by`]): the highest role held on it or on a group above it.
pub fn role_on(held: &[(String, Role)], full_path: &str) -> Option<Role> {
    let covers = |path: &str| {
        full_path == path
            || full_path
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    effective_role(
        held.iter()
            .filter(|(path, _)| covers(path))
            .map(|(_, role)| *role),
    )
}

/// A member of a node, with where the role comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The path the role is granted on: this node's, or an ancestor's.
    pub granted_on: String,
}

/// Everyone with a role on the node, directly or inherited: each user once,
/// with their highest role.
pub async fn list(db: &impl ConnectionTrait, node: &Node) -> Result<Vec<Member>, ServiceError> {
    let rows: Vec<(i64, String, String, String)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .column(user::Column::Username)
        .column(membership::Column::Role)
        .column(node::Column::FullPath)
        .join(JoinType::InnerJoin, to_node())
        .join(
            JoinType::InnerJoin,
            membership::Entity::belongs_to(user::Entity)
                .from(membership::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .filter(node::Column::FullPath.is_in(node.lineage()))
        .into_tuple()
        .all(db)
        .await?;
    let mut best: BTreeMap<i64, Member> = BTreeMap::new();
    for (user_id, username, role, granted_on) in rows {
        let role = parse_role(&role)?;
        let better = best.get(&user_id).is_none_or(|m| {
            role > m.role || (role == m.role && granted_on.len() > m.granted_on.len())
        });
        if better {
            best.insert(
                user_id,
                Member {
                    user_id,
                    username,
                    role,
                    granted_on,
                },
            );
        }
    }
    let mut members: Vec<Member> = best.into_values().collect();
    members.sort_by(|a, b| b.role.cmp(&a.role).then(a.username.cmp(&b.username)));
    Ok(members)
}

/// The role granted on this node itself (not inherited).
pub async fn direct(
    db: &impl ConnectionTrait,
    node_id: i64,
    user_id: i64,
) -> Result<Option<Role>, ServiceError> {
    membership::Entity::find()
        .filter(membership::Column::NodeId.eq(node_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|m| parse_role(&m.role))
        .transpose()
}

pub fn parse_requested_role(raw: &str) -> Result<Role, ServiceError> {
    raw.parse::<Role>()
        .map_err(|e| ServiceError::invalid("role", e))
}

/// Grants `role` on the node to the named user (or changes their grant).
pub async fn grant(
    db: &impl ConnectionTrait,
    node: &Node,
    username: &str,
    role: Role,
) -> Result<(User, bool), ServiceError> {
    let user = users::find_by_username(db, username)
        .await?
        .ok_or_else(|| ServiceError::invalid("username", "no such user"))?;
    let existing = membership::Entity::find()
        .filter(membership::Column::NodeId.eq(node.id))
        .filter(membership::Column::UserId.eq(user.id))
        .one(db)
        .await?;
    let created = match existing {
        Some(m) => {
            let mut active: membership::ActiveModel = m.into();
            active.role = Set(role.as_str().to_owned());
            active.update(db).await?;
            false
        }
        None => {
            membership::ActiveModel {
                node_id: Set(node.id),
                user_id: Set(user.id),
                role: Set(role.as_str().to_owned()),
                created_at: Set(now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(|e| ServiceError::from_unique(e, "username", "already a member"))?;
            true
        }
    };
    Ok((user, created))
}

/// Removes the user's grant on this node.
pub async fn revoke(
    db: &impl ConnectionTrait,
    node: &Node,
    user_id: i64,
) -> Result<(), ServiceError> {
    let deleted = membership::Entity::delete_many()
        .filter(membership::Column::NodeId.eq(node.id))
        .filter(membership::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ServiceError::NotFound("member"));
    }
    Ok(())
}

/// How many owners are granted directly on the node.
pub async fn direct_owners(db: &impl ConnectionTrait, node_id: i64) -> Result<u64, ServiceError> {
    use sea_orm::PaginatorTrait;
    Ok(membership::Entity::find()
        .filter(membership::Column::NodeId.eq(node_id))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_covers_its_node_and_what_is_below_it_only() {
        let held = vec![
            ("acme".to_owned(), Role::Viewer),
            ("acme/web".to_owned(), Role::Maintainer),
            ("acme/we".to_owned(), Role::Owner),
        ];
        assert_eq!(role_on(&held, "acme"), Some(Role::Viewer));
        assert_eq!(role_on(&held, "acme/web"), Some(Role::Maintainer));
        assert_eq!(role_on(&held, "acme/web/app"), Some(Role::Maintainer));
        // `acme/we` is a sibling of `acme/web`, not its ancestor.
        assert_eq!(role_on(&held, "acme/webs"), Some(Role::Viewer));
        assert_eq!(role_on(&held, "acme/we/x"), Some(Role::Owner));
        assert_eq!(role_on(&held, "acmeco"), None);
        assert_eq!(role_on(&held, "other/acme"), None);
        assert_eq!(role_on(&[], "acme"), None);
    }
}

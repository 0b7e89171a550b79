//! The projects someone can see, for lists that span projects (the home
//! page, every run): all of them for an admin, else the internal ones and
//! those under the paths they hold a role on. As a query to filter runs by
//! (no limit on how many), as a list of (id, full path) for a form's
//! choices, and the paths of a page's projects.

use std::collections::HashMap;

use kiln_core::access::Scope;
use kiln_core::accounts::NodeKind;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::nodes::{self, Listing, visible_from};
use super::{Page, Principal, members};
use crate::ServiceError;
use crate::db::entities::node;

/// Most projects offered as choices (the first by id).
pub const MAX_CHOICES: usize = 1000;

/// Which projects a list across projects reads.
#[derive(Clone)]
pub enum Seen {
    /// Every project (an instance admin).
    All,
    /// The ids this query selects.
    Some(Box<SelectStatement>),
}

/// The projects `principal` may view; `None` for anonymous callers.
pub async fn seen_by(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Option<Seen>, ServiceError> {
    let Some(user) = principal.user() else {
        return Ok(None);
    };
    if principal.is_admin_with(Scope::Read) {
        return Ok(Some(Seen::All));
    }
    let paths = members::paths_of(db, user.id).await?;
    Ok(Some(Seen::Some(Box::new(
        node::Entity::find()
            .select_only()
            .column(node::Column::Id)
            .filter(node::Column::Kind.eq(NodeKind::Project.as_str()))
            .filter(visible_from(&paths))
            .into_query(),
    ))))
}

/// The projects `principal` may view as (id, full path), at most
/// [`MAX_CHOICES`]; none for anonymous callers.
pub async fn visible_projects(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Vec<(i64, String)>, ServiceError> {
    let Some(user) = principal.user() else {
        return Ok(Vec::new());
    };
    let paths = if principal.is_admin_with(Scope::Read) {
        None
    } else {
        Some(members::paths_of(db, user.id).await?)
    };
    let mut found = Vec::new();
    let mut after = None;
    while found.len() < MAX_CHOICES {
        let listing = match &paths {
            None => Listing::All,
            Some(paths) => Listing::VisibleFrom(paths),
        };
        let page = Page {
            limit: Page::MAX_LIMIT,
            after,
        };
        let nodes = nodes::list(db, Some(NodeKind::Project), None, listing, page).await?;
        let full = nodes.len() as u64 == Page::MAX_LIMIT;
        after = nodes.last().map(|n| n.id);
        found.extend(nodes.into_iter().map(|n| (n.id, n.full_path)));
        if !full {
            break;
        }
    }
    found.truncate(MAX_CHOICES);
    Ok(found)
}

/// The full paths of nodes `ids` (those that exist).
pub async fn paths_of_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, String>, ServiceError> {
    Ok(
        crate::db::names::by_id::<node::Entity>(db, node::Column::Id, node::Column::FullPath, ids)
            .await?,
    )
}

//! The projects someone can see, for lists that span projects (the home
//! page, every run): all of them for an admin, else those under the paths
//! they hold a role on and the internal ones, as (id, full path).

use kiln_core::access::Scope;
use kiln_core::accounts::NodeKind;
use sea_orm::ConnectionTrait;

use super::nodes::{self, Listing};
use super::{AccountsError, Page, Principal, members};

/// Most projects a list across projects spans (the first by id).
pub const MAX_PROJECTS: usize = 1000;

/// The projects `principal` may view, by id; none for anonymous callers.
pub async fn visible_projects(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Vec<(i64, String)>, AccountsError> {
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
    while found.len() < MAX_PROJECTS {
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
    found.truncate(MAX_PROJECTS);
    Ok(found)
}

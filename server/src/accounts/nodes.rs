//! Groups and projects: one tree in `kiln_nodes`. Creating, resolving a full
//! path, listing, renaming, moving (the subtree's paths are rewritten in one
//! transaction) and deleting (refused while not empty unless recursive).

use kiln_core::access::Visibility;
use kiln_core::accounts::{
    FullPath, NodeKind, Slug, check_description, check_group_move, check_name, rebase,
};
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::{Page, now};
use crate::ServiceError;
use crate::db::entities::node;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: i64,
    pub kind: NodeKind,
    pub parent_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub full_path: String,
    pub created_at: i64,
}

impl Node {
    /// This node's path and its ancestors', root first.
    pub fn lineage(&self) -> Vec<String> {
        lineage_of(&self.full_path)
    }

    pub fn noun(&self) -> &'static str {
        noun(self.kind)
    }
}

pub fn noun(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Group => "group",
        NodeKind::Project => "project",
    }
}

pub fn lineage_of(full_path: &str) -> Vec<String> {
    full_path
        .match_indices('/')
        .map(|(i, _)| full_path[..i].to_owned())
        .chain(std::iter::once(full_path.to_owned()))
        .collect()
}

/// The rows of the node at `full_path` and of every group above it.
pub async fn lineage_rows(
    db: &impl ConnectionTrait,
    full_path: &str,
) -> Result<Vec<node::Model>, sea_orm::DbErr> {
    node::Entity::find()
        .filter(node::Column::FullPath.is_in(lineage_of(full_path)))
        .all(db)
        .await
}

fn corrupt(what: &str) -> ServiceError {
    ServiceError::Database(sea_orm::DbErr::Custom(format!("corrupt node row: {what}")))
}

impl TryFrom<node::Model> for Node {
    type Error = ServiceError;

    fn try_from(m: node::Model) -> Result<Self, ServiceError> {
        Ok(Node {
            id: m.id,
            kind: NodeKind::parse(&m.kind).ok_or_else(|| corrupt("kind"))?,
            parent_id: m.parent_id,
            slug: m.slug,
            name: m.name,
            description: m.description,
            visibility: m.visibility.parse().map_err(|_| corrupt("visibility"))?,
            full_path: m.full_path,
            created_at: m.created_at,
        })
    }
}

fn convert(models: Vec<node::Model>) -> Result<Vec<Node>, ServiceError> {
    models.into_iter().map(Node::try_from).collect()
}

/// What a client sends to create a node.
pub struct NewNode {
    pub kind: NodeKind,
    pub parent: Option<Node>,
    pub slug: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
}

/// Changes to a node's own fields; `None` leaves a field alone.
#[derive(Default)]
pub struct NodeChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
}

fn parse_slug(raw: &str) -> Result<Slug, ServiceError> {
    Slug::parse(raw).map_err(|e| ServiceError::invalid("slug", e))
}

fn parse_visibility(raw: &str) -> Result<Visibility, ServiceError> {
    raw.parse::<Visibility>()
        .map_err(|e| ServiceError::invalid("visibility", e))
}

fn path_under(parent: Option<&Node>, slug: Slug) -> Result<FullPath, ServiceError> {
    let path = match parent {
        None => Ok(FullPath::root(slug)),
        Some(parent) => FullPath::parse(&parent.full_path)
            .map_err(|_| corrupt("full_path"))?
            .child(slug),
    };
    path.map_err(|e| ServiceError::invalid("slug", e))
}

fn check_visibility_under(child: Visibility, parent: Option<&Node>) -> Result<(), ServiceError> {
    match parent {
        Some(parent) if !child.allowed_under(parent.visibility) => Err(ServiceError::invalid(
            "visibility",
            format!(
                "cannot be {} inside the {} {} {}",
                child.as_str(),
                parent.visibility.as_str(),
                parent.noun(),
                parent.full_path
            ),
        )),
        _ => Ok(()),
    }
}

fn path_taken(path: &str) -> ServiceError {
    ServiceError::conflict("slug", format!("the path {path} is already taken"))
}

pub async fn create(db: &impl ConnectionTrait, new: NewNode) -> Result<Node, ServiceError> {
    if new.kind == NodeKind::Project && new.parent.is_none() {
        return Err(ServiceError::invalid(
            "group_id",
            "a project must be in a group",
        ));
    }
    if let Some(parent) = &new.parent
        && parent.kind != NodeKind::Group
    {
        return Err(ServiceError::invalid(
            "parent_id",
            "only groups can hold groups and projects",
        ));
    }
    let slug = parse_slug(&new.slug)?;
    let name = match new.name.as_deref() {
        Some(name) => check_name(name).map_err(|e| ServiceError::invalid("name", e))?,
        None => slug.as_str().to_owned(),
    };
    let description = check_description(new.description.as_deref().unwrap_or(""))
        .map_err(|e| ServiceError::invalid("description", e))?;
    let visibility = match new.visibility.as_deref() {
        Some(raw) => parse_visibility(raw)?,
        None => Visibility::Private,
    };
    check_visibility_under(visibility, new.parent.as_ref())?;
    let path = path_under(new.parent.as_ref(), slug.clone())?.to_string();
    if find_by_path(db, &path).await?.is_some() {
        return Err(path_taken(&path));
    }
    let model = node::ActiveModel {
        kind: Set(new.kind.as_str().to_owned()),
        parent_id: Set(new.parent.as_ref().map(|p| p.id)),
        slug: Set(slug.as_str().to_owned()),
        name: Set(name),
        description: Set(description),
        visibility: Set(visibility.as_str().to_owned()),
        full_path: Set(path.clone()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        ServiceError::from_unique(e, "slug", &format!("the path {path} is already taken"))
    })?;
    model.try_into()
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<Node>, ServiceError> {
    node::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Node::try_from)
        .transpose()
}

/// The node at a full path like `platform/backend/api`: one indexed query.
pub async fn find_by_path(
    db: &impl ConnectionTrait,
    path: &str,
) -> Result<Option<Node>, ServiceError> {
    node::Entity::find()
        .filter(node::Column::FullPath.eq(path.trim_matches('/')))
        .one(db)
        .await?
        .map(Node::try_from)
        .transpose()
}

/// Which nodes a list shows.
pub enum Listing<'a> {
    /// Every node of the kind (instance admins).
    All,
    /// Nodes of the kind that are internal, or at or below one of `paths`
    /// (the caller's memberships).
    VisibleFrom(&'a [String]),
}

fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn subtree_of(path: &str) -> Condition {
    Condition::any().add(node::Column::FullPath.eq(path)).add(
        node::Column::FullPath.like(LikeExpr::new(format!("{}/%", escape_like(path))).escape('\\')),
    )
}

/// Nodes that are internal, or at or below one of `paths`.
pub(super) fn visible_from(paths: &[String]) -> Condition {
    let mut visible =
        Condition::any().add(node::Column::Visibility.eq(Visibility::Internal.as_str()));
    for path in paths {
        visible = visible.add(subtree_of(path));
    }
    visible
}

/// Lists nodes of `kind`, optionally only the children of `parent`.
pub async fn list(
    db: &impl ConnectionTrait,
    kind: Option<NodeKind>,
    parent: Option<i64>,
    listing: Listing<'_>,
    page: Page,
) -> Result<Vec<Node>, ServiceError> {
    let mut query = node::Entity::find().order_by_asc(node::Column::Id);
    if let Some(kind) = kind {
        query = query.filter(node::Column::Kind.eq(kind.as_str()));
    }
    if let Some(parent) = parent {
        query = query.filter(node::Column::ParentId.eq(parent));
    }
    if let Listing::VisibleFrom(paths) = listing {
        query = query.filter(visible_from(paths));
    }
    if let Some(after) = page.after {
        query = query.filter(node::Column::Id.gt(after));
    }
    convert(query.limit(page.limit).all(db).await?)
}

pub async fn has_children(db: &impl ConnectionTrait, id: i64) -> Result<bool, ServiceError> {
    Ok(node::Entity::find()
        .filter(node::Column::ParentId.eq(id))
        .one(db)
        .await?
        .is_some())
}

/// The node and everything below it.
async fn subtree(db: &impl ConnectionTrait, node: &Node) -> Result<Vec<Node>, ServiceError> {
    let models = node::Entity::find()
        .filter(subtree_of(&node.full_path))
        .all(db)
        .await?;
    // LIKE is only a pre-filter; `rebase` is the exact test.
    Ok(convert(models)?
        .into_iter()
        .filter(|n| rebase(&n.full_path, &node.full_path, &node.full_path).is_some())
        .collect())
}

/// Applies changes to a node's own fields; a new slug renames the subtree.
pub async fn update<C: ConnectionTrait + crate::db::write_txn::Writer>(
    db: &C,
    node: &Node,
    changes: NodeChanges,
) -> Result<Node, ServiceError> {
    let mut model: node::ActiveModel = node::ActiveModel {
        id: Set(node.id),
        ..Default::default()
    };
    if let Some(name) = changes.name {
        model.name = Set(check_name(&name).map_err(|e| ServiceError::invalid("name", e))?);
    }
    if let Some(description) = changes.description {
        model.description =
            Set(check_description(&description)
                .map_err(|e| ServiceError::invalid("description", e))?);
    }
    if let Some(raw) = changes.visibility {
        let visibility = parse_visibility(&raw)?;
        let parent = match node.parent_id {
            Some(id) => get(db, id).await?,
            None => None,
        };
        check_visibility_under(visibility, parent.as_ref())?;
        if visibility < node.visibility {
            let more_open_below = subtree(db, node)
                .await?
                .iter()
                .any(|n| n.id != node.id && !n.visibility.allowed_under(visibility));
            if more_open_below {
                return Err(ServiceError::conflict(
                    "visibility",
                    "subgroups or projects inside are internal; make them private first",
                ));
            }
        }
        model.visibility = Set(visibility.as_str().to_owned());
    }
    let txn = crate::db::write_txn::begin(db).await?;
    model.update(&txn).await?;
    if let Some(raw) = changes.slug {
        let slug = parse_slug(&raw)?;
        if slug.as_str() != node.slug {
            let parent = match node.parent_id {
                Some(id) => get(&txn, id).await?,
                None => None,
            };
            let new_path = path_under(parent.as_ref(), slug.clone())?.to_string();
            relocate(&txn, node, &new_path, node.parent_id, slug.as_str()).await?;
        }
    }
    txn.commit().await?;
    get(db, node.id)
        .await?
        .ok_or(ServiceError::NotFound("node"))
}

/// Moves `node` under `new_parent` (a group; `None` = top level, groups only).
pub async fn move_to<C: ConnectionTrait + crate::db::write_txn::Writer>(
    db: &C,
    node: &Node,
    new_parent: Option<&Node>,
) -> Result<Node, ServiceError> {
    let field = match node.kind {
        NodeKind::Group => "parent_id",
        NodeKind::Project => "group_id",
    };
    match new_parent {
        None if node.kind == NodeKind::Project => {
            return Err(ServiceError::invalid(field, "a project must be in a group"));
        }
        Some(parent) if parent.kind != NodeKind::Group => {
            return Err(ServiceError::invalid(
                field,
                "only groups can hold groups and projects",
            ));
        }
        _ => {}
    }
    if let Some(parent) = new_parent {
        // The new parent's ancestry, by path: the ids of its lineage.
        let lineage = parent.lineage();
        let ancestry: Vec<i64> = node::Entity::find()
            .filter(node::Column::FullPath.is_in(lineage))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect();
        check_group_move(&node.id, &ancestry).map_err(|e| ServiceError::invalid(field, e))?;
    }
    check_visibility_under(node.visibility, new_parent)?;
    let slug = parse_slug(&node.slug).map_err(|_| corrupt("slug"))?;
    let new_path = path_under(new_parent, slug)?.to_string();
    if new_path == node.full_path {
        return Ok(node.clone());
    }
    let txn = crate::db::write_txn::begin(db).await?;
    relocate(&txn, node, &new_path, new_parent.map(|p| p.id), &node.slug).await?;
    txn.commit().await?;
    get(db, node.id)
        .await?
        .ok_or(ServiceError::NotFound("node"))
}

/// Gives `node` a new path (and parent and slug), rewriting its subtree.
async fn relocate(
    txn: &impl ConnectionTrait,
    node: &Node,
    new_path: &str,
    parent_id: Option<i64>,
    slug: &str,
) -> Result<(), ServiceError> {
    if find_by_path(txn, new_path).await?.is_some() {
        return Err(path_taken(new_path));
    }
    let below = subtree(txn, node).await?;
    if below
        .iter()
        .filter_map(|n| rebase(&n.full_path, &node.full_path, new_path))
        .any(|p| p.len() > kiln_core::accounts::MAX_FULL_PATH_LEN)
    {
        return Err(ServiceError::invalid(
            "slug",
            "paths inside would become longer than the limit",
        ));
    }
    for n in &below {
        let Some(path) = rebase(&n.full_path, &node.full_path, new_path) else {
            continue;
        };
        let mut update = node::Entity::update_many()
            .col_expr(node::Column::FullPath, Expr::value(path))
            .filter(node::Column::Id.eq(n.id));
        if n.id == node.id {
            update = update
                .col_expr(node::Column::ParentId, Expr::value(parent_id))
                .col_expr(node::Column::Slug, Expr::value(slug));
        }
        update.exec(txn).await.map_err(|e| {
            ServiceError::from_unique(e, "slug", &format!("the path {new_path} is already taken"))
        })?;
    }
    Ok(())
}

/// Deletes a node; one with children only when `recursive`, deepest first
/// (the parent key restricts deletes).
pub async fn delete<C: ConnectionTrait + crate::db::write_txn::Writer>(
    db: &C,
    node: &Node,
    recursive: bool,
) -> Result<usize, ServiceError> {
    let txn = crate::db::write_txn::begin(db).await?;
    let mut below = subtree(&txn, node).await?;
    if below.len() > 1 && !recursive {
        return Err(ServiceError::conflict(
            "recursive",
            format!(
                "{} {} is not empty ({} groups and projects inside); pass recursive=true to delete them too",
                node.noun(),
                node.full_path,
                below.len() - 1
            ),
        ));
    }
    below.sort_by_key(|n| std::cmp::Reverse(n.full_path.matches('/').count()));
    for n in &below {
        node::Entity::delete_by_id(n.id).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(below.len())
}

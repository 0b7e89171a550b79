//! Worker labels granted to groups: listed, granted and revoked by instance
//! admins, and resolved for a project (the labels granted to any group
//! above it), which workflow saves and run starts check `runs_on:` against.

use std::collections::BTreeSet;

use kiln_core::workflow::labels::check_label;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::ServiceError;
use crate::accounts::nodes::lineage_rows;
use crate::db::entities::{node, worker_label_grant as grant};

/// A grant with the group's path, for listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub label: String,
    pub group_id: i64,
    pub group_path: String,
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Grant>, ServiceError> {
    let grants = grant::Entity::find()
        .order_by_asc(grant::Column::Label)
        .order_by_asc(grant::Column::NodeId)
        .all(db)
        .await?;
    let nodes = node::Entity::find()
        .filter(node::Column::Id.is_in(grants.iter().map(|g| g.node_id)))
        .all(db)
        .await?;
    Ok(grants
        .into_iter()
        .map(|g| Grant {
            group_path: nodes
                .iter()
                .find(|n| n.id == g.node_id)
                .map(|n| n.full_path.clone())
                .unwrap_or_default(),
            label: g.label,
            group_id: g.node_id,
        })
        .collect())
}

/// Grants `label` to the group `group_id` (again: no change).
pub async fn grant(
    db: &impl ConnectionTrait,
    label: &str,
    group_id: i64,
) -> Result<(), ServiceError> {
    check_label(label).map_err(|m| ServiceError::invalid("label", m))?;
    let group = node::Entity::find_by_id(group_id)
        .one(db)
        .await?
        .filter(|n| n.kind == "group")
        .ok_or(ServiceError::NotFound("group"))?;
    grant::Entity::insert(grant::ActiveModel {
        label: Set(label.to_owned()),
        node_id: Set(group.id),
        created_at: Set(crate::clock::now_s()),
        ..Default::default()
    })
    .on_conflict(
        // Granting again changes nothing (an update of the label to itself:
        // `DO NOTHING` has no portable form on MariaDB).
        OnConflict::columns([grant::Column::Label, grant::Column::NodeId])
            .update_column(grant::Column::Label)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    label: &str,
    group_id: i64,
) -> Result<(), ServiceError> {
    let gone = grant::Entity::delete_many()
        .filter(grant::Column::Label.eq(label))
        .filter(grant::Column::NodeId.eq(group_id))
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(ServiceError::NotFound("grant"));
    }
    Ok(())
}

/// The labels a project may use: those granted to any group above it.
pub async fn granted_to(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<BTreeSet<String>, ServiceError> {
    let project = node::Entity::find_by_id(project_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("project"))?;
    let lineage: Vec<i64> = lineage_rows(db, &project.full_path)
        .await?
        .into_iter()
        .map(|n| n.id)
        .collect();
    Ok(grant::Entity::find()
        .filter(grant::Column::NodeId.is_in(lineage))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.label)
        .collect())
}

/// Refuses `workflow` in `project` when a task asks for a label not
/// granted there; a workflow without `runs_on:` costs no query.
pub async fn check(
    db: &impl ConnectionTrait,
    project_id: i64,
    workflow: &kiln_core::workflow::Workflow,
) -> Result<(), ServiceError> {
    if workflow.tasks.iter().all(|t| t.runs_on.is_empty()) {
        return Ok(());
    }
    let granted = granted_to(db, project_id).await?;
    let errors = kiln_core::workflow::labels::ungranted(workflow, &granted);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Definition(errors))
    }
}

//! A project's workflows: saved by name, each save a new immutable version
//! (checked first: a file that does not load is refused with every problem
//! and its place, and nothing is written), read back, listed, deleted.

use kiln_core::accounts::slug::Slug;
use kiln_core::workflow;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{workflow as wf, workflow_version as version};

/// A workflow with the text of its latest version.
#[derive(Debug, Clone)]
pub struct Saved {
    pub workflow: wf::Model,
    pub version: version::Model,
}

/// Checks and stores `source` as the next version of `name` in `project`.
pub async fn save(
    db: &DatabaseConnection,
    project: i64,
    name: &str,
    source: &str,
    user: Option<i64>,
    limits: &workflow::Limits,
) -> Result<Saved, ServiceError> {
    Slug::parse(name).map_err(|e| ServiceError::invalid("name", e))?;
    if source.len() > limits.max_source_bytes {
        return Err(ServiceError::invalid(
            "source",
            format!(
                "a workflow file may be at most {} bytes",
                limits.max_source_bytes
            ),
        ));
    }
    let loaded = workflow::load_with(source, limits).map_err(ServiceError::Definition)?;
    super::label_grants::check(db, project, &loaded).await?;
    let now = now_ms();
    let txn = crate::db::write_txn::begin(db).await?;
    let existing = find(&txn, project, name).await?;
    let record = match existing {
        Some(found) => {
            // The row update is also the lock that numbers versions.
            wf::Entity::update_many()
                .col_expr(
                    wf::Column::LatestVersion,
                    Expr::col(wf::Column::LatestVersion).add(1),
                )
                .col_expr(wf::Column::UpdatedAtMs, Expr::value(now))
                .filter(wf::Column::Id.eq(found.id))
                .exec(&txn)
                .await?;
            wf::Entity::find_by_id(found.id)
                .one(&txn)
                .await?
                .ok_or(ServiceError::NotFound("workflow"))?
        }
        None => wf::ActiveModel {
            project_id: Set(project),
            name: Set(name.to_owned()),
            latest_version: Set(1),
            created_at_ms: Set(now),
            updated_at_ms: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ServiceError::conflict(
                "name",
                "saved by someone else at the same moment; try again",
            ),
            _ => ServiceError::Database(e),
        })?,
    };
    let stored = version::ActiveModel {
        workflow_id: Set(record.id),
        version: Set(record.latest_version),
        source: Set(source.to_owned()),
        created_by: Set(user),
        created_at_ms: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Saved {
        workflow: record,
        version: stored,
    })
}

pub async fn find(
    db: &impl ConnectionTrait,
    project: i64,
    name: &str,
) -> Result<Option<wf::Model>, ServiceError> {
    Ok(wf::Entity::find()
        .filter(wf::Column::ProjectId.eq(project))
        .filter(wf::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// The workflow and its latest version.
pub async fn get(
    db: &impl ConnectionTrait,
    project: i64,
    name: &str,
) -> Result<Saved, ServiceError> {
    let workflow = find(db, project, name)
        .await?
        .ok_or(ServiceError::NotFound("workflow"))?;
    let version = version_of(db, workflow.id, workflow.latest_version).await?;
    Ok(Saved { workflow, version })
}

pub async fn version_of(
    db: &impl ConnectionTrait,
    workflow: i64,
    number: i32,
) -> Result<version::Model, ServiceError> {
    version::Entity::find()
        .filter(version::Column::WorkflowId.eq(workflow))
        .filter(version::Column::Version.eq(number))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("workflow version"))
}

/// A version's number, author and time, without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: i32,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
}

/// The newest `limit` versions of `workflow`, newest first (the texts,
/// up to a megabyte each, stay in the database).
pub async fn versions(
    db: &impl ConnectionTrait,
    workflow: i64,
    limit: u64,
) -> Result<Vec<VersionInfo>, ServiceError> {
    let rows: Vec<(i32, Option<i64>, i64)> = version::Entity::find()
        .select_only()
        .columns([
            version::Column::Version,
            version::Column::CreatedBy,
            version::Column::CreatedAtMs,
        ])
        .filter(version::Column::WorkflowId.eq(workflow))
        .order_by_desc(version::Column::Version)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(version, created_by, created_at_ms)| VersionInfo {
            version,
            created_by,
            created_at_ms,
        })
        .collect())
}

pub async fn list(db: &impl ConnectionTrait, project: i64) -> Result<Vec<wf::Model>, ServiceError> {
    Ok(wf::Entity::find()
        .filter(wf::Column::ProjectId.eq(project))
        .order_by_asc(wf::Column::Name)
        .all(db)
        .await?)
}

/// Workflows of `projects` (all of them with `None`), by project then
/// name, at most `limit`.
pub async fn of_projects(
    db: &impl ConnectionTrait,
    projects: Option<sea_orm::sea_query::SelectStatement>,
    limit: u64,
) -> Result<Vec<wf::Model>, ServiceError> {
    let mut query = wf::Entity::find();
    if let Some(ids) = projects {
        query = query.filter(wf::Column::ProjectId.in_subquery(ids));
    }
    Ok(query
        .order_by_asc(wf::Column::ProjectId)
        .order_by_asc(wf::Column::Name)
        .limit(limit)
        .all(db)
        .await?)
}

/// Deletes the workflow and its versions; its runs stay, running ones
/// included (they keep their steps, logs and stored definition, and can be
/// re-run).
pub async fn delete(
    db: &impl ConnectionTrait,
    project: i64,
    name: &str,
) -> Result<(), ServiceError> {
    let workflow = find(db, project, name)
        .await?
        .ok_or(ServiceError::NotFound("workflow"))?;
    wf::Entity::delete_by_id(workflow.id).exec(db).await?;
    Ok(())
}

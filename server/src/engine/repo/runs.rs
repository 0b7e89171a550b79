//! Reading runs: the runs of some projects newest first (filtered by state,
//! workflow, kind, trigger and who started them), which of some runs belong
//! to some projects, one run with its steps, and a step's row by task id.

use kiln_core::engine::{RunKind, RunState, RunTrigger};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::steps_of;
use crate::ServiceError;
use crate::db::entities::{run, step, workflow as wf};

/// Filters of the runs list; `None` = any.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub state: Option<RunState>,
    pub workflow_id: Option<i64>,
    pub trigger: Option<RunTrigger>,
    /// `workflow` or `pipeline`.
    pub kind: Option<RunKind>,
    pub created_by: Option<i64>,
    /// Only runs older than this id (the cursor).
    pub before: Option<i64>,
    pub limit: u64,
}

/// Whose runs a list reads.
pub enum Projects<'a> {
    /// These projects'.
    Ids(&'a [i64]),
    /// The projects this query selects the ids of.
    Selected(Box<SelectStatement>),
    /// Every project's.
    All,
}

/// Which of `ids` are runs of `projects` (ascending).
pub async fn among(
    db: &impl ConnectionTrait,
    projects: Projects<'_>,
    ids: &[i64],
) -> Result<Vec<i64>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = run::Entity::find()
        .select_only()
        .column(run::Column::Id)
        .filter(run::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(run::Column::Id);
    let query = match projects {
        Projects::Ids(some) => query.filter(run::Column::ProjectId.is_in(some.iter().copied())),
        Projects::Selected(ids) => query.filter(run::Column::ProjectId.in_subquery(*ids)),
        Projects::All => query,
    };
    Ok(query.into_tuple::<i64>().all(db).await?)
}

/// The runs of `projects` that pass `filter`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    projects: Projects<'_>,
    filter: &RunFilter,
) -> Result<Vec<run::Model>, ServiceError> {
    let mut query = run::Entity::find();
    match projects {
        Projects::Ids([]) => return Ok(Vec::new()),
        Projects::Ids([one]) => query = query.filter(run::Column::ProjectId.eq(*one)),
        Projects::Ids(many) => {
            query = query.filter(run::Column::ProjectId.is_in(many.iter().copied()));
        }
        Projects::Selected(ids) => query = query.filter(run::Column::ProjectId.in_subquery(*ids)),
        Projects::All => {}
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(run::Column::Kind.eq(*kind));
    }
    if let Some(user) = filter.created_by {
        query = query.filter(run::Column::CreatedBy.eq(user));
    }
    if let Some(state) = filter.state {
        query = query.filter(run::Column::State.eq(state));
    }
    if let Some(workflow) = filter.workflow_id {
        query = query.filter(run::Column::WorkflowId.eq(workflow));
    }
    if let Some(trigger) = filter.trigger {
        query = query.filter(run::Column::Trigger.eq(trigger));
    }
    if let Some(before) = filter.before {
        query = query.filter(run::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(run::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await?)
}

/// The names of workflows `ids` (those that still exist).
pub async fn workflow_names(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, ServiceError> {
    Ok(crate::db::names::by_id::<wf::Entity>(db, wf::Column::Id, wf::Column::Name, ids).await?)
}

/// The newest run of each of `workflows` that has one.
pub async fn last_of_workflows(
    db: &impl ConnectionTrait,
    workflows: &[i64],
) -> Result<Vec<run::Model>, ServiceError> {
    if workflows.is_empty() {
        return Ok(Vec::new());
    }
    let newest: Vec<i64> = run::Entity::find()
        .select_only()
        .column_as(run::Column::Id.max(), "id")
        .filter(run::Column::WorkflowId.is_in(workflows.iter().copied()))
        .group_by(run::Column::WorkflowId)
        .into_tuple::<Option<i64>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(run::Entity::find()
        .filter(run::Column::Id.is_in(newest))
        .all(db)
        .await?)
}

/// A project's newest pipeline runs (for each pipeline's last run per
/// branch).
pub async fn recent_pipeline_runs(
    db: &impl ConnectionTrait,
    project: i64,
    limit: u64,
) -> Result<Vec<run::Model>, ServiceError> {
    Ok(run::Entity::find()
        .filter(run::Column::ProjectId.eq(project))
        .filter(run::Column::Pipeline.is_not_null())
        .order_by_desc(run::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A run, its steps, its workflow's name (absent once deleted), and for a
/// pipeline run the commit status it owes its git host (and, for the
/// failed run of a file that did not load, its errors).
#[derive(Debug, Clone)]
pub struct RunView {
    pub run: run::Model,
    pub steps: Vec<step::Model>,
    pub workflow: Option<String>,
    pub version: Option<i32>,
    pub commit_status: Option<crate::db::entities::commit_status::Model>,
    /// A pipeline file that did not load: its errors (the run has no steps).
    pub errors: Vec<String>,
    /// A pipeline run's steps its event's `when:` left out, with why.
    pub left_out: Vec<(String, String)>,
}

/// Whether run `run_id` exists and still runs.
pub async fn is_running(db: &impl ConnectionTrait, run_id: i64) -> Result<bool, ServiceError> {
    Ok(run::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .is_some_and(|r| r.state == kiln_core::engine::RunState::Running))
}

pub async fn get(db: &impl ConnectionTrait, run_id: i64) -> Result<run::Model, ServiceError> {
    run::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("run"))
}

/// The name of the workflow `run` ran, while the workflow exists.
pub async fn workflow_name(
    db: &impl ConnectionTrait,
    run: &run::Model,
) -> Result<Option<String>, ServiceError> {
    Ok(match run.workflow_id {
        Some(id) => wf::Entity::find_by_id(id).one(db).await?.map(|w| w.name),
        None => None,
    })
}

pub async fn view(db: &impl ConnectionTrait, run: run::Model) -> Result<RunView, ServiceError> {
    let steps = steps_of(db, run.id).await?;
    let workflow = workflow_name(db, &run).await?;
    let version = match run.version_id {
        Some(id) => crate::db::entities::workflow_version::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|v| v.version),
        None => None,
    };
    let commit_status = if run.kind == super::statuses::REPORTING_KIND {
        super::statuses::of_run(db, run.id).await?
    } else {
        None
    };
    // Only a run without steps can be an invalid file's.
    let errors = if steps.is_empty() && run.pipeline.is_some() {
        crate::engine::definitions::envelope_of(db, &run)
            .await?
            .map(|envelope| envelope.errors)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let left_out = run
        .left_out
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    Ok(RunView {
        run,
        steps,
        workflow,
        version,
        commit_status,
        errors,
        left_out,
    })
}

pub async fn step_by_task(
    db: &impl ConnectionTrait,
    run_id: i64,
    task: &str,
) -> Result<step::Model, ServiceError> {
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::Task.eq(task))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("step"))
}

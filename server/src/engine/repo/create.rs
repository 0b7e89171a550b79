//! Creating a run: its row (running, with the event that says so, and for
//! a pipeline the commit status it owes) and one queued step row per task,
//! in the caller's transaction.

use kiln_core::engine::{RunKind, RunState, RunTrigger, StepState};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use super::BATCH;
use super::events::{NewEvent, append};
use super::statuses;
use crate::db::entities::{run, step};

/// A run about to be written: everything but its state and times.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub project_id: i64,
    pub workflow_id: Option<i64>,
    pub version_id: Option<i64>,
    pub definition_id: i64,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    /// JSON object of the resolved params.
    pub params: String,
    pub created_by: Option<i64>,
    /// Pipeline runs: the pipeline's name and the commit (JSON).
    pub pipeline: Option<String>,
    pub commit_info: Option<String>,
    pub concurrency_group: Option<String>,
    /// JSON of the steps left out by `when:`, with why.
    pub left_out: Option<String>,
}

/// A step about to be written, in its run's order.
#[derive(Debug, Clone)]
pub struct StepRow {
    pub task: String,
    pub retries: u32,
    pub queue: String,
}

pub async fn create_run(
    db: &impl ConnectionTrait,
    new: RunRow,
    steps: Vec<StepRow>,
    now: i64,
) -> Result<run::Model, DbErr> {
    let created = run::ActiveModel {
        project_id: Set(new.project_id),
        workflow_id: Set(new.workflow_id),
        version_id: Set(new.version_id),
        definition_id: Set(Some(new.definition_id)),
        kind: Set(new.kind),
        trigger: Set(new.trigger),
        params: Set(new.params),
        state: Set(RunState::Running),
        created_by: Set(new.created_by),
        created_at_ms: Set(now),
        finished_at_ms: Set(None),
        updated_at_ms: Set(now),
        pipeline: Set(new.pipeline),
        commit_info: Set(new.commit_info),
        concurrency_group: Set(new.concurrency_group),
        left_out: Set(new.left_out),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let rows: Vec<step::ActiveModel> = steps
        .into_iter()
        .enumerate()
        .map(|(position, s)| step::ActiveModel {
            run_id: Set(created.id),
            task: Set(s.task),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            state: Set(StepState::Queued),
            attempt: Set(1),
            retries_left: Set(i32::try_from(s.retries).unwrap_or(i32::MAX)),
            queue: Set(s.queue),
            queued_at_ms: Set(now),
            message: Set(String::new()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        step::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    append(
        db,
        vec![NewEvent {
            run_id: created.id,
            step_id: None,
            task: None,
            attempt: None,
            from: None,
            to: RunState::Running.as_str(),
            at_ms: now,
        }],
    )
    .await?;
    if created.kind == statuses::REPORTING_KIND {
        statuses::want(db, created.id, RunState::Running, now).await?;
    }
    Ok(created)
}

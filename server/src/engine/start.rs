//! Starting a run of a workflow's latest version: params checked against
//! the definition (each error names its param), the run and one step row
//! per task written in one transaction, the first steps dispatched.

use std::collections::BTreeMap;

use kiln_core::engine::{RunState, RunTrigger, StepState, queue_for};
use kiln_core::workflow::params::{ParamInput, resolve_params};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, TransactionTrait};

use super::advance::{Changed, advance, push};
use super::store::now_ms;
use super::workflows::version_of;
use super::{Engine, EngineError};
use crate::db::entities::{run, step, workflow as wf};

/// Starts a run of `workflow`.
pub async fn start(
    engine: &Engine,
    workflow: &wf::Model,
    trigger: RunTrigger,
    given: &BTreeMap<String, ParamInput>,
    user: Option<i64>,
) -> Result<run::Model, EngineError> {
    let version = version_of(&engine.db, workflow.id, workflow.latest_version).await?;
    let definition = engine.definitions.get(&engine.db, version.id).await?;
    // Grants may have been revoked since the workflow was saved.
    super::label_grants::check(&engine.db, workflow.project_id, &definition).await?;
    let params = resolve_params(&definition, given).map_err(EngineError::Params)?;
    let params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let now = now_ms();
    let txn = engine.db.begin().await?;
    let created = run::ActiveModel {
        project_id: Set(workflow.project_id),
        workflow_id: Set(Some(workflow.id)),
        version_id: Set(Some(version.id)),
        kind: Set("workflow".into()),
        trigger: Set(trigger.as_str().into()),
        params: Set(params),
        state: Set(RunState::Running.as_str().into()),
        created_by: Set(user),
        created_at_ms: Set(now),
        finished_at_ms: Set(None),
        updated_at_ms: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let rows: Vec<step::ActiveModel> = definition
        .tasks
        .iter()
        .enumerate()
        .map(|(position, task)| step::ActiveModel {
            run_id: Set(created.id),
            task: Set(task.id.clone()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            state: Set(StepState::Queued.as_str().into()),
            attempt: Set(1),
            retries_left: Set(i32::try_from(task.retry.retries).unwrap_or(i32::MAX)),
            queue: Set(queue_for(&task.runs_on)),
            queued_at_ms: Set(now),
            message: Set(String::new()),
            ..Default::default()
        })
        .collect();
    // In slices: a huge workflow must not exceed a statement's parameter cap.
    for chunk in rows.chunks(500) {
        step::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let advanced = advance(&txn, &definition, &created, Changed::Any).await?;
    txn.commit().await?;
    push(engine, advanced.dispatches).await;
    Ok(created)
}

//! The one way a run starts, whoever starts it (a person in the browser,
//! a program with a token, later a webhook or a schedule): a [`NewRun`] says
//! the project, what to run and who asks. The caller's right to run in the
//! project is checked here, params are checked against the definition (each
//! error names its param), the definition is stored by content, and the run
//! with one step row per task is written in one transaction, its first
//! steps dispatched.

use std::collections::BTreeMap;

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::{RunTrigger, queue_for};
use kiln_core::workflow::params::{GivenParams, ParamInput, resolve_params};
use sea_orm::TransactionTrait;

use super::advance::{Changed, advance, push};
use super::definitions;
use super::repo::create::{RunRow, StepRow, create_run};
use super::workflows::{self, version_of};
use super::{Engine, EngineError};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::clock::now_ms;
use crate::db::entities::run;

/// What a run executes.
#[derive(Debug, Clone)]
pub enum RunSource {
    /// The latest version of the project's workflow `name`, with params as
    /// given (read, then checked against its definition, here).
    Workflow { name: String, params: GivenParams },
}

/// Who starts a run.
#[derive(Debug, Clone, Copy)]
pub enum Starter<'a> {
    /// A signed-in person or a token: must have the run right on the
    /// project; a session starts runs by hand, a token by API.
    Caller(&'a Principal),
    /// Kiln itself, for a schedule's firing.
    Schedule,
    /// Kiln itself, for a git host's event.
    Webhook,
}

impl Starter<'_> {
    fn trigger(&self) -> RunTrigger {
        match self {
            Starter::Caller(principal) => match principal.user().and_then(|u| u.token.as_ref()) {
                Some(_) => RunTrigger::Api,
                None => RunTrigger::Manual,
            },
            Starter::Schedule => RunTrigger::Schedule,
            Starter::Webhook => RunTrigger::Webhook,
        }
    }

    fn user(&self) -> Option<i64> {
        match self {
            Starter::Caller(principal) => principal.user().map(|u| u.id),
            Starter::Schedule | Starter::Webhook => None,
        }
    }
}

/// A run to start.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub project: i64,
    pub source: RunSource,
    pub by: Starter<'a>,
}

/// Starts `new`; the run as written.
pub async fn start(engine: &Engine, new: NewRun<'_>) -> Result<run::Model, EngineError> {
    if let Starter::Caller(principal) = new.by {
        authorize(
            &engine.db,
            principal,
            NodeKind::Project,
            new.project,
            Action::Run,
        )
        .await?;
    }
    match new.source {
        RunSource::Workflow { name, params } => {
            let workflow = workflows::find(&engine.db, new.project, &name)
                .await?
                .ok_or(EngineError::NotFound("workflow"))?;
            let inputs = params.inputs().map_err(EngineError::Params)?;
            start_workflow(engine, &workflow, new.by, &inputs).await
        }
    }
}

/// Starts a run of the latest version of `workflow`.
async fn start_workflow(
    engine: &Engine,
    workflow: &crate::db::entities::workflow::Model,
    by: Starter<'_>,
    given: &BTreeMap<String, ParamInput>,
) -> Result<run::Model, EngineError> {
    let version = version_of(&engine.db, workflow.id, workflow.latest_version).await?;
    let definition_id =
        definitions::store(&engine.db, definitions::WORKFLOW, &version.source).await?;
    let definition = engine.definitions.get(&engine.db, definition_id).await?;
    // Grants may have been revoked since the workflow was saved.
    super::label_grants::check(&engine.db, workflow.project_id, &definition).await?;
    let params = resolve_params(&definition, given).map_err(EngineError::Params)?;
    let params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let now = now_ms();
    let txn = engine.db.begin().await?;
    let steps = definition
        .tasks
        .iter()
        .map(|task| StepRow {
            task: task.id.clone(),
            retries: task.retry.retries,
            queue: queue_for(&task.runs_on),
        })
        .collect();
    let row = RunRow {
        project_id: workflow.project_id,
        workflow_id: Some(workflow.id),
        version_id: Some(version.id),
        definition_id,
        kind: "workflow",
        trigger: by.trigger().as_str(),
        params,
        created_by: by.user(),
    };
    let created = create_run(&txn, row, steps, now).await?;
    let advanced = advance(&txn, &definition, &created, Changed::Any).await?;
    txn.commit().await?;
    push(engine, advanced.dispatches).await;
    Ok(created)
}

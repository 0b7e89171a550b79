//! The one way a run starts, whoever starts it (a person in the browser,
//! a program with a token, later a webhook or a schedule): a [`NewRun`] says
//! the project, what to run and who asks. The caller's right to run in the
//! project is checked here, params are checked against the definition (each
//! error names its param), the definition is stored by content, and the run
//! with one step row per task is written in one transaction, its first
//! steps dispatched.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::{RunKind, RunTrigger, queue_for};
use kiln_core::pipeline::Concurrency;
use kiln_core::pipeline::commit::CommitInfo;
use kiln_core::pipeline::concurrency::{GroupPolicy, on_start};
use kiln_core::workflow::params::{GivenParams, ParamInput, resolve_params};
use sea_orm::DatabaseTransaction;

use super::Engine;
use super::advance::{Changed, advance, push};
use super::definitions;
use super::repo::create::{RunRow, StepRow, create_run};
use super::repo::groups;
use super::workflows::{self, version_of};
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::clock::now_ms;
use crate::db::entities::run;

/// Runs of at least this many steps give freed memory back at once.
const LARGE_RUN: usize = 1000;

/// What a run executes.
#[derive(Debug, Clone)]
pub enum RunSource {
    /// The latest version of the project's workflow `name`, with params as
    /// given (read, then checked against its definition, here).
    Workflow { name: String, params: GivenParams },
    /// A pipeline file as read at a commit (the pipelines layer reads the
    /// repository and decides which steps the event leaves out).
    Pipeline(Box<PipelineSource>),
}

#[derive(Debug, Clone)]
pub struct PipelineSource {
    pub name: String,
    /// Its path in the repository.
    pub file: String,
    pub text: String,
    /// Steps whose `when:` the event does not meet, with the rule's reason.
    pub excluded: Vec<(String, String)>,
    pub commit: CommitInfo,
    /// The file's `concurrency:`, if any.
    pub concurrency: Option<Concurrency>,
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
pub async fn start(engine: &Engine, new: NewRun<'_>) -> Result<run::Model, ServiceError> {
    let prepared = prepare(engine, new).await?;
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let written = write(&txn, engine, prepared).await?;
    txn.commit().await?;
    Ok(after_commit(engine, written).await)
}

/// A run checked and ready to be written: its caller authorized, its
/// definition stored, its params resolved.
pub struct Prepared {
    definition: Arc<definitions::Definition>,
    row: RunRow,
    concurrency: Option<Concurrency>,
}

/// Checks `new` and stores its definition, outside any transaction (so a
/// caller can then write the run in one of its own, beside its own rows).
pub async fn prepare(engine: &Engine, new: NewRun<'_>) -> Result<Prepared, ServiceError> {
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
    let prepared = match new.source {
        RunSource::Workflow { name, params } => {
            let workflow = workflows::find(&engine.db, new.project, &name)
                .await?
                .ok_or(ServiceError::NotFound("workflow"))?;
            let inputs = params.inputs().map_err(ServiceError::Params)?;
            prepare_workflow(engine, &workflow, new.by, &inputs).await?
        }
        RunSource::Pipeline(source) => {
            prepare_pipeline(engine, new.project, new.by, *source).await?
        }
    };
    // Grants may have been revoked since the definition was written.
    super::label_grants::check(&engine.db, prepared.row.project_id, &prepared.definition).await?;
    Ok(prepared)
}

/// A run of a pipeline file at a commit.
async fn prepare_pipeline(
    engine: &Engine,
    project: i64,
    by: Starter<'_>,
    source: PipelineSource,
) -> Result<Prepared, ServiceError> {
    let definition_id = store_pipeline(engine, &source, Vec::new()).await?;
    let definition = engine.definitions.get(&engine.db, definition_id).await?;
    let concurrency = source.concurrency.clone();
    Ok(Prepared {
        definition,
        row: pipeline_row(project, by, source, definition_id),
        concurrency,
    })
}

/// Stores the pipeline file of `source` (with `errors` when it does not
/// load) as a definition; its id.
pub(super) async fn store_pipeline(
    engine: &Engine,
    source: &PipelineSource,
    errors: Vec<String>,
) -> Result<i64, ServiceError> {
    let envelope = definitions::PipelineEnvelope {
        file: source.file.clone(),
        source: source.text.clone(),
        exclude: source
            .excluded
            .iter()
            .map(|(step, _)| step.clone())
            .collect(),
        errors,
    };
    let stored = serde_json::to_string(&envelope).unwrap_or_default();
    Ok(definitions::store(&engine.db, RunKind::Pipeline, &stored).await?)
}

/// The run row of a pipeline run.
pub(super) fn pipeline_row(
    project: i64,
    by: Starter<'_>,
    source: PipelineSource,
    definition_id: i64,
) -> RunRow {
    let group = source
        .concurrency
        .as_ref()
        .map(|c| c.group_of(&source.name, &source.commit));
    RunRow {
        project_id: project,
        workflow_id: None,
        version_id: None,
        definition_id,
        kind: RunKind::Pipeline,
        trigger: by.trigger(),
        params: "{}".to_owned(),
        created_by: by.user(),
        pipeline: Some(source.name),
        commit_info: serde_json::to_string(&source.commit).ok(),
        concurrency_group: group,
        left_out: left_out_json(&source.excluded),
    }
}

/// Entries and reason length kept of what `when:` left out: the JSON fits
/// a MariaDB TEXT column whatever the file.
const LEFT_OUT_KEPT: usize = 100;
const REASON_KEPT: usize = 300;

/// The steps left out, with why, as the run row keeps them.
fn left_out_json(excluded: &[(String, String)]) -> Option<String> {
    if excluded.is_empty() {
        return None;
    }
    let mut kept: Vec<(String, String)> = excluded
        .iter()
        .take(LEFT_OUT_KEPT)
        .map(|(step, why)| {
            (
                step.clone(),
                kiln_core::text::clip_bytes(why, REASON_KEPT).to_owned(),
            )
        })
        .collect();
    if excluded.len() > LEFT_OUT_KEPT {
        kept.push((
            "…".to_owned(),
            format!("and {} more steps", excluded.len() - LEFT_OUT_KEPT),
        ));
    }
    serde_json::to_string(&kept).ok()
}

/// A run of the latest version of `workflow`.
async fn prepare_workflow(
    engine: &Engine,
    workflow: &crate::db::entities::workflow::Model,
    by: Starter<'_>,
    given: &BTreeMap<String, ParamInput>,
) -> Result<Prepared, ServiceError> {
    let version = version_of(&engine.db, workflow.id, workflow.latest_version).await?;
    let definition_id = definitions::store(&engine.db, RunKind::Workflow, &version.source).await?;
    let definition = engine.definitions.get(&engine.db, definition_id).await?;
    let params = resolve_params(&definition, given).map_err(ServiceError::Params)?;
    let params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let row = RunRow {
        project_id: workflow.project_id,
        workflow_id: Some(workflow.id),
        version_id: Some(version.id),
        definition_id,
        kind: RunKind::Workflow,
        trigger: by.trigger(),
        params,
        created_by: by.user(),
        pipeline: None,
        commit_info: None,
        concurrency_group: None,
        left_out: None,
    };
    Ok(Prepared {
        definition,
        row,
        concurrency: None,
    })
}

/// A run written in a transaction not yet committed: what to do after.
pub struct Written {
    pub run: run::Model,
    dispatches: Vec<super::advance::Dispatch>,
    replaced: Vec<i64>,
    large: bool,
}

/// Writes the run with one step per task in `txn`, and the decisions of
/// its concurrency group (older runs it replaces end in the same
/// transaction: no crash can leave them running beside it).
pub async fn write(
    txn: &DatabaseTransaction,
    engine: &Engine,
    prepared: Prepared,
) -> Result<Written, ServiceError> {
    let Prepared {
        definition,
        row,
        concurrency,
    } = prepared;
    if concurrency.is_some() {
        // Before the run's row: its id, and the time it waits since, then
        // follow the group's order.
        groups::hold(txn, row.project_id).await?;
    }
    let now = now_ms();
    let steps = definition
        .tasks
        .iter()
        .map(|task| StepRow {
            task: task.id.clone(),
            retries: task.retry.retries,
            queue: queue_for(&task.runs_on),
        })
        .collect();
    let mut created = create_run(txn, row, steps, now).await?;
    let policy = match (&created.concurrency_group, &concurrency) {
        (Some(group), Some(rules)) => {
            let running = groups::running_in(txn, created.project_id, group).await?;
            let ids: Vec<i64> = running.iter().map(|&(id, _)| id).collect();
            on_start(rules, created.id, &ids)
        }
        _ => GroupPolicy::Start,
    };
    let mut replaced = Vec::new();
    if let GroupPolicy::CancelThenStart(older) = &policy {
        super::groups::cancel_replaced(txn, engine, &created, older).await?;
        replaced.clone_from(older);
    }
    // A run that waits for its group dispatches nothing until it is its turn.
    let dispatches = match policy {
        GroupPolicy::Wait => {
            groups::set_waiting(txn, created.id, Some(now)).await?;
            created.waiting_since_ms = Some(now);
            Vec::new()
        }
        _ => {
            advance(txn, &definition, &created, Changed::Any)
                .await?
                .dispatches
        }
    };
    Ok(Written {
        run: created,
        dispatches,
        replaced,
        large: definition.tasks.len() >= LARGE_RUN,
    })
}

/// After the transaction that wrote the run committed: its first steps
/// go to the queue, replaced runs' steps here stop.
pub async fn after_commit(engine: &Engine, written: Written) -> run::Model {
    push(engine, written.dispatches).await;
    if written.large {
        // Writing it freed megabytes of rows and statements: hand them back
        // soon rather than at the next periodic trim.
        crate::memory::after_burst();
    }
    for id in written.replaced {
        engine.cancel_local(id);
    }
    written.run
}

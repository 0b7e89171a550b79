//! Schedules as the API and the dashboard use them: create, read, edit,
//! delete, pause, resume, run now, history, and the preview of an
//! expression. Every call checks the caller's right on the project here
//! (viewing needs view, everything else the right to change definitions,
//! run now the right to run); the rules are the domain's.

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::schedule::{ScheduleInput, ScheduleSpec, Target, check, next_after, upcoming};
use sea_orm::{ActiveValue::Set, EntityTrait, IntoActiveModel};

use super::{fire, store};
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::clock::now_ms;
use crate::db::entities::{repository, run, schedule, schedule_firing};
use crate::engine::start::Starter;
use crate::engine::{Engine, workflows};

/// Schedule rows one listing across projects reads at most.
const MAX_SCANNED: usize = 5000;
/// Largest params object a schedule keeps (its JSON).
const MAX_PARAMS_BYTES: usize = 64 * 1024;

/// Instants a preview or an answer lists by default, and at most.
pub const PREVIEW_COUNT: usize = 5;
pub const MAX_PREVIEW_COUNT: usize = 100;

/// A schedule's fields as given: all optional, so one type serves create
/// (where name, cron and a target are required) and edit.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub name: Option<String>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub workflow: Option<String>,
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub concurrency: Option<String>,
    pub catchup: Option<String>,
    pub starting_deadline: Option<String>,
    pub paused: Option<bool>,
}

pub async fn create(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    change: Change,
) -> Result<schedule::Model, ServiceError> {
    let db = &engine.db;
    authorize(
        db,
        principal,
        NodeKind::Project,
        project,
        Action::EditDefinitions,
    )
    .await?;
    let input = ScheduleInput {
        name: change.name.clone().unwrap_or_default(),
        cron: change.cron.clone().unwrap_or_default(),
        timezone: change.timezone.clone(),
        workflow: change.workflow.clone(),
        pipeline: change.pipeline.clone(),
        branch: change.branch.clone(),
        concurrency: change.concurrency.clone(),
        catchup: change.catchup.clone(),
        starting_deadline: change.starting_deadline.clone(),
    };
    let spec = checked(engine, project, &input).await?;
    if store::find(db, project, &spec.name).await?.is_some() {
        return Err(name_taken());
    }
    let now = now_ms();
    let paused = change.paused.unwrap_or(false);
    let row = schedule::ActiveModel {
        project_id: Set(project),
        created_by: Set(principal.user().map(|u| u.id)),
        created_at_ms: Set(now),
        ..fields(
            &spec,
            check_params(change.params)?.unwrap_or_default(),
            paused,
            now,
        )
    };
    // Counted and written under the project's lock: concurrent creations
    // cannot pass the limit together.
    let most = engine.settings.schedules_per_project;
    let txn = crate::db::write_txn::begin(db).await?;
    store::lock_project(&txn, project).await?;
    if store::count_of_project(&txn, project).await? >= most {
        return Err(ServiceError::invalid(
            "project",
            format!("a project has at most {most} schedules (schedules_per_project)"),
        ));
    }
    let saved = store::insert(&txn, row)
        .await
        .map_err(|e| unique_or(e, name_taken))?;
    txn.commit().await?;
    engine.schedules_changed.notify_waiters();
    Ok(saved)
}

pub async fn update(
    engine: &Engine,
    principal: &Principal,
    id: i64,
    change: Change,
) -> Result<schedule::Model, ServiceError> {
    let row = authorized(engine, principal, id, Action::EditDefinitions).await?;
    let keep = |given: &Option<String>, old: Option<&String>| given.clone().or(old.cloned());
    // A new target replaces the old one whole.
    let (workflow, pipeline, branch) = if change.workflow.is_some() || change.pipeline.is_some() {
        (
            change.workflow.clone(),
            change.pipeline.clone(),
            change.branch.clone(),
        )
    } else {
        (
            row.workflow.clone(),
            row.pipeline.clone(),
            keep(&change.branch, row.branch.as_ref()),
        )
    };
    let input = ScheduleInput {
        name: change.name.clone().unwrap_or_else(|| row.name.clone()),
        cron: change.cron.clone().unwrap_or_else(|| row.cron.clone()),
        timezone: Some(keep(&change.timezone, Some(&row.timezone)).unwrap_or_default()),
        workflow,
        pipeline,
        branch,
        concurrency: Some(keep(&change.concurrency, Some(&row.concurrency)).unwrap_or_default()),
        catchup: Some(keep(&change.catchup, Some(&row.catchup)).unwrap_or_default()),
        starting_deadline: match &change.starting_deadline {
            Some(text) => Some(text.clone()),
            None => row.starting_deadline_ms.map(|ms| format!("{ms}ms")),
        },
    };
    let spec = checked(engine, row.project_id, &input).await?;
    if spec.name != row.name
        && store::find(&engine.db, row.project_id, &spec.name)
            .await?
            .is_some()
    {
        return Err(name_taken());
    }
    let params = match check_params(change.params)? {
        Some(params) => params,
        None => serde_json::from_str(&row.params).unwrap_or_default(),
    };
    let paused = change.paused.unwrap_or(row.paused);
    let mut active = row.into_active_model();
    let now = now_ms();
    let fields = fields(&spec, params, paused, now);
    active.name = fields.name;
    active.cron = fields.cron;
    active.timezone = fields.timezone;
    active.target = fields.target;
    active.workflow = fields.workflow;
    active.params = fields.params;
    active.pipeline = fields.pipeline;
    active.branch = fields.branch;
    active.concurrency = fields.concurrency;
    active.catchup = fields.catchup;
    active.starting_deadline_ms = fields.starting_deadline_ms;
    active.paused = fields.paused;
    active.next_at_ms = fields.next_at_ms;
    active.updated_at_ms = fields.updated_at_ms;
    let saved = store::save(&engine.db, active)
        .await
        .map_err(|e| unique_or(e, name_taken))?;
    engine.schedules_changed.notify_waiters();
    Ok(saved)
}

pub async fn delete(engine: &Engine, principal: &Principal, id: i64) -> Result<(), ServiceError> {
    authorized(engine, principal, id, Action::EditDefinitions).await?;
    store::delete(&engine.db, id).await?;
    Ok(())
}

/// Pauses (`true`) or resumes: a resumed schedule fires from now on; the
/// instants of the pause are not caught up.
pub async fn set_paused(
    engine: &Engine,
    principal: &Principal,
    id: i64,
    paused: bool,
) -> Result<schedule::Model, ServiceError> {
    let row = authorized(engine, principal, id, Action::EditDefinitions).await?;
    let now = now_ms();
    let next = if paused {
        row.next_at_ms
    } else {
        let loaded = fire::load(&row).map_err(|e| ServiceError::invalid("cron", e))?;
        next_after(&loaded.expr, loaded.zone, now)
    };
    store::set_next(&engine.db, id, next, paused, now).await?;
    engine.schedules_changed.notify_waiters();
    store::get(&engine.db, id)
        .await?
        .ok_or(ServiceError::NotFound("schedule"))
}

pub async fn run_now(
    engine: &Engine,
    principal: &Principal,
    id: i64,
) -> Result<run::Model, ServiceError> {
    let row = authorized(engine, principal, id, Action::Run).await?;
    fire::run_now(engine, &row, Starter::Caller(principal)).await
}

pub async fn get(
    engine: &Engine,
    principal: &Principal,
    id: i64,
) -> Result<schedule::Model, ServiceError> {
    authorized(engine, principal, id, Action::View).await
}

pub async fn of_project(
    engine: &Engine,
    principal: &Principal,
    project: i64,
) -> Result<Vec<schedule::Model>, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::View,
    )
    .await?;
    Ok(store::of_project(&engine.db, project).await?)
}

/// Every schedule the caller may see, in id order after `after`.
pub async fn visible(
    engine: &Engine,
    principal: &Principal,
    after: Option<i64>,
    limit: u64,
) -> Result<(Vec<schedule::Model>, Option<i64>), ServiceError> {
    if principal.user().is_none() {
        return Err(ServiceError::Unauthenticated(
            "sign in or send an API token",
        ));
    }
    let mut seen = std::collections::HashMap::new();
    let mut found = Vec::new();
    let mut cursor = after;
    let mut scanned = 0;
    // Pages of rows until `limit` visible ones, the end, or as many rows
    // as one request may read (the cursor then goes on from there).
    loop {
        if scanned >= MAX_SCANNED {
            return Ok((found, cursor));
        }
        let rows = store::page(&engine.db, cursor, limit.max(100)).await?;
        scanned += rows.len();
        let full = rows.len() as u64 == limit.max(100);
        for row in rows {
            cursor = Some(row.id);
            let allowed = match seen.get(&row.project_id) {
                Some(&allowed) => allowed,
                None => {
                    let allowed = authorize(
                        &engine.db,
                        principal,
                        NodeKind::Project,
                        row.project_id,
                        Action::View,
                    )
                    .await
                    .is_ok();
                    seen.insert(row.project_id, allowed);
                    allowed
                }
            };
            if allowed {
                found.push(row);
                if found.len() as u64 == limit {
                    return Ok((found, cursor));
                }
            }
        }
        if !full {
            return Ok((found, None));
        }
    }
}

pub async fn firings(
    engine: &Engine,
    principal: &Principal,
    id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<schedule_firing::Model>, ServiceError> {
    authorized(engine, principal, id, Action::View).await?;
    Ok(store::firings(&engine.db, id, before, limit).await?)
}

/// The latest firing of each of `ids` (schedules the caller has seen).
pub async fn latest_firings(
    engine: &Engine,
    ids: &[i64],
) -> Result<Vec<schedule_firing::Model>, ServiceError> {
    Ok(store::latest_of(&engine.db, ids).await?)
}

/// The next instants of a stored schedule from now (a paused one's: those
/// it would fire at if resumed now).
pub fn next_of(row: &schedule::Model, count: usize) -> Vec<i64> {
    match fire::load(row) {
        Ok(loaded) => upcoming(&loaded.expr, loaded.zone, now_ms(), count),
        Err(_) => Vec::new(),
    }
}

/// The schedule, when the caller may do `action` on its project (a
/// schedule in a project the caller cannot see is not found).
async fn authorized(
    engine: &Engine,
    principal: &Principal,
    id: i64,
    action: Action,
) -> Result<schedule::Model, ServiceError> {
    let row = store::get(&engine.db, id)
        .await?
        .ok_or(ServiceError::NotFound("schedule"))?;
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        row.project_id,
        Action::View,
    )
    .await
    .map_err(|error| match error {
        // Nobody signed in is told to sign in, not that nothing is there.
        ServiceError::Unauthenticated(_) => error,
        _ => ServiceError::NotFound("schedule"),
    })?;
    if action != Action::View {
        authorize(
            &engine.db,
            principal,
            NodeKind::Project,
            row.project_id,
            action,
        )
        .await?;
    }
    Ok(row)
}

/// The domain's checks, then the project's: the workflow exists, or the
/// project has a repository for a pipeline.
async fn checked(
    engine: &Engine,
    project: i64,
    input: &ScheduleInput,
) -> Result<ScheduleSpec, ServiceError> {
    let spec = check(input).map_err(|e| ServiceError::invalid(e.field, e.message))?;
    match &spec.target {
        Target::Workflow(name) => {
            if workflows::find(&engine.db, project, name).await?.is_none() {
                return Err(ServiceError::invalid(
                    "workflow",
                    format!("the project has no workflow {name:?}"),
                ));
            }
        }
        Target::Pipeline { .. } => {
            if repository::Entity::find_by_id(project)
                .one(&engine.db)
                .await?
                .is_none()
            {
                return Err(ServiceError::invalid(
                    "pipeline",
                    "the project has no repository to read pipelines from",
                ));
            }
        }
    }
    Ok(spec)
}

fn check_params(
    params: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ServiceError> {
    if let Some(map) = &params
        && serde_json::Value::Object(map.clone()).to_string().len() > MAX_PARAMS_BYTES
    {
        return Err(ServiceError::invalid(
            "params",
            format!("at most {} KiB of params", MAX_PARAMS_BYTES / 1024),
        ));
    }
    Ok(params)
}

/// The columns `spec` decides, with its next instant from `now`.
fn fields(
    spec: &ScheduleSpec,
    params: serde_json::Map<String, serde_json::Value>,
    paused: bool,
    now: i64,
) -> schedule::ActiveModel {
    let (workflow, pipeline, branch) = match &spec.target {
        Target::Workflow(name) => (Some(name.clone()), None, None),
        Target::Pipeline { name, branch } => (None, Some(name.clone()), branch.clone()),
    };
    schedule::ActiveModel {
        name: Set(spec.name.clone()),
        cron: Set(spec.cron.as_str().to_owned()),
        timezone: Set(spec.zone_name.clone()),
        target: Set(spec.target.kind().to_owned()),
        workflow: Set(workflow),
        params: Set(serde_json::Value::Object(params).to_string()),
        pipeline: Set(pipeline),
        branch: Set(branch),
        concurrency: Set(spec.overlap.as_str().to_owned()),
        catchup: Set(spec.catchup.as_str().to_owned()),
        starting_deadline_ms: Set(spec.deadline_ms),
        paused: Set(paused),
        next_at_ms: Set(next_after(&spec.cron, spec.zone, now)),
        updated_at_ms: Set(now),
        ..Default::default()
    }
}

fn name_taken() -> ServiceError {
    ServiceError::conflict("name", "the project has a schedule of that name")
}

fn unique_or(error: sea_orm::DbErr, conflict: fn() -> ServiceError) -> ServiceError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => conflict(),
        _ => ServiceError::Database(error),
    }
}

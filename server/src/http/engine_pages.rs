//! The data of the workflow and run pages, through the same services and
//! authorization as the REST API.

use axum::http::request::Parts;
use kiln_app::engine_data::{
    GraphNode, GraphView, LogChunk, ParamView, ProblemView, RunBar, RunFilterView, RunPage, RunRow,
    RunsPage, StepView, WorkflowLink, WorkflowPage,
};
use kiln_app::screen::graph_layout::layout;
use kiln_core::access::{Action, Decision, decide};
use kiln_core::accounts::NodeKind;
use tower_sessions::Session;

use super::api::engine_types::{RunBody, ms_to_rfc3339};
use super::api::runs::authorized_run;
use super::api::types::NodeBody;
use super::forms::engine::{Draft, WORKFLOW_DRAFT};
use super::pages::{crumbs_for, node_view_of};
use super::{ApiError, AppState};
use crate::accounts::Principal;
use crate::accounts::authorize::{Authorized, authorize};
use crate::engine::logs::{log_key, whole_lines};
use crate::engine::repo::{events, run_state_of, state_of};
use crate::engine::runs::{self as run_store, RunFilter};
use crate::engine::workflows;

/// Largest piece of log sent to the page at once.
const LOG_CHUNK: usize = 256 * 1024;

fn allowed(principal: &Principal, found: &Authorized, action: Action) -> bool {
    decide(
        principal.caller(),
        found.role,
        found.node.visibility,
        action,
    ) == Decision::Allow
}

fn row(body: RunBody) -> RunRow {
    RunRow {
        id: body.id,
        workflow: body.workflow,
        trigger: body.trigger,
        state: body.state,
        created_at: body.created_at,
        duration_ms: body.duration_ms,
    }
}

pub async fn workflows(
    state: &AppState,
    principal: &Principal,
    project: i64,
) -> Result<Vec<WorkflowLink>, ApiError> {
    let db = &state.db.conn;
    authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    Ok(workflows::list(db, project)
        .await?
        .into_iter()
        .map(|w| WorkflowLink {
            name: w.name,
            version: w.latest_version,
            updated_at: ms_to_rfc3339(w.updated_at_ms),
        })
        .collect())
}

pub async fn workflow(
    state: &AppState,
    principal: &Principal,
    request: &Parts,
    project: i64,
    name: Option<String>,
) -> Result<WorkflowPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let crumbs = crumbs_for(db, &found.node).await?;
    let (mut source, version, recent) = match &name {
        Some(name) => {
            let saved = workflows::get(db, project, name).await?;
            let filter = RunFilter {
                workflow_id: Some(saved.workflow.id),
                limit: 50,
                ..RunFilter::default()
            };
            let mut recent: Vec<RunBar> = run_store::list(db, project, &filter)
                .await?
                .into_iter()
                .map(|r| RunBar {
                    id: r.id,
                    state: run_state_of(&r),
                    duration_ms: r.finished_at_ms.map(|f| f - r.created_at_ms),
                })
                .collect();
            recent.reverse();
            (saved.version.source, Some(saved.version.version), recent)
        }
        None => (
            "tasks:\n  hello:\n    run: echo hello\n".to_owned(),
            None,
            Vec::new(),
        ),
    };
    let mut problems = Vec::new();
    // A draft that did not save wins over the stored text, once.
    if let Some(session) = request.extensions.get::<Session>()
        && let Ok(Some(draft)) = session.get::<Draft>(WORKFLOW_DRAFT).await
        && draft.project == project
        && name.as_deref().is_none_or(|n| n == draft.name)
    {
        let _ = session.remove::<Draft>(WORKFLOW_DRAFT).await;
        source = draft.source;
        problems = draft
            .problems
            .into_iter()
            .map(|(line, column, message)| ProblemView {
                line,
                column,
                message,
            })
            .collect();
    }
    let params = kiln_core::workflow::load(&source)
        .map(|w| {
            w.params
                .iter()
                .map(|p| ParamView {
                    name: p.name.clone(),
                    kind: p.kind.as_str().to_owned(),
                    default: p.default.clone(),
                    description: p.description.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(WorkflowPage {
        can_edit: allowed(principal, &found, Action::EditDefinitions),
        can_run: allowed(principal, &found, Action::Run) && name.is_some(),
        project: node_view_of(NodeBody::new(found.node, found.role)),
        crumbs,
        name,
        version,
        source,
        problems,
        params,
        recent,
    })
}

pub async fn runs(
    state: &AppState,
    principal: &Principal,
    project: i64,
    filter: RunFilterView,
) -> Result<RunsPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let crumbs = crumbs_for(db, &found.node).await?;
    let names = workflows::list(db, project).await?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let workflow_id = nonempty(&filter.workflow)
        .map(|name| names.iter().find(|w| w.name == name).map_or(-1, |w| w.id));
    let query = RunFilter {
        state: nonempty(&filter.state),
        workflow_id,
        trigger: nonempty(&filter.trigger),
        before: None,
        limit: 100,
    };
    let runs = run_store::list(db, project, &query)
        .await?
        .iter()
        .map(|r| {
            let name = r
                .workflow_id
                .and_then(|w| names.iter().find(|n| n.id == w))
                .map(|n| n.name.clone());
            row(RunBody::summary(r, name))
        })
        .collect();
    Ok(RunsPage {
        project: node_view_of(NodeBody::new(found.node, found.role)),
        crumbs,
        runs,
        workflows: names.into_iter().map(|w| w.name).collect(),
        filter,
    })
}

pub async fn run(state: &AppState, principal: &Principal, id: i64) -> Result<RunPage, ApiError> {
    let db = &state.db.conn;
    let found_run = authorized_run(state, principal, id, Action::View).await?;
    let project = authorize(
        db,
        principal,
        NodeKind::Project,
        found_run.project_id,
        Action::View,
    )
    .await?;
    let crumbs = crumbs_for(db, &project.node).await?;
    let definition = state.engine.definitions.of_run(db, &found_run).await.ok();
    let view = run_store::view(db, found_run).await?;
    // The graph as the run's definition has it; should that be unreadable,
    // the steps in a row.
    let tasks: Vec<(String, Vec<String>)> = view
        .steps
        .iter()
        .map(|s| {
            let needs = definition
                .as_ref()
                .and_then(|d| d.task(&s.task))
                .map(|t| t.needs.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            (s.task.clone(), needs)
        })
        .collect();
    let drawn = layout(&tasks);
    let graph = GraphView {
        nodes: drawn
            .nodes
            .iter()
            .map(|n| GraphNode {
                task: n.id.clone(),
                x: n.x,
                y: n.y,
            })
            .collect(),
        edges: drawn.edges.clone(),
        width: drawn.width,
        height: drawn.height,
    };
    let mut body = RunBody::full(&view);
    let steps = body
        .steps
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|s| StepView {
            task: s.task,
            state: s.state,
            attempt: s.attempt,
            duration_ms: s.duration_ms,
            exit_code: s.exit_code,
            message: s.message,
            worker: s.worker,
            started_at: s.started_at,
        })
        .collect();
    let params = body.params.clone().into_iter().collect();
    let allowed_failures = body.allowed_failures.unwrap_or(false);
    let last_event = events::last_of_run(db, id)
        .await
        .map_err(ApiError::database)?;
    Ok(RunPage {
        last_event,
        allowed_failures,
        can_run: allowed(principal, &project, Action::Run),
        project: node_view_of(NodeBody::new(project.node, project.role)),
        crumbs,
        run: row(body),
        params,
        steps,
        graph,
    })
}

pub async fn log(
    state: &AppState,
    principal: &Principal,
    run: i64,
    task: &str,
    offset: u64,
) -> Result<LogChunk, ApiError> {
    authorized_run(state, principal, run, Action::View).await?;
    let step = run_store::step_by_task(&state.db.conn, run, task).await?;
    let key = log_key(&run.to_string(), &format!("{}-{}", step.id, step.attempt))
        .ok_or_else(|| ApiError::NotFound("log not found".into()))?;
    let bytes = state
        .engine
        .logs
        .read(&key, offset, LOG_CHUNK)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let over = state_of(&step).is_done();
    let whole = whole_lines(&bytes, LOG_CHUNK, over);
    Ok(LogChunk {
        text: String::from_utf8_lossy(&bytes[..whole]).into_owned(),
        next_offset: offset + whole as u64,
        done: over && bytes.len() < LOG_CHUNK,
    })
}

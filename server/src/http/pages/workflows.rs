//! The data of the workflow pages (a project's workflows, one workflow in
//! its editor with its recent runs), through the same services and
//! authorization as the REST API.

use axum::http::request::Parts;
use kiln_app::home::data::WorkflowAcross;
use kiln_app::runs::data::{GraphView, ParamView, ProblemView, RunBar, WorkflowPage};
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::workflow::Workflow;
use tower_sessions::Session;

use super::views::{allowed, crumbs_of, graph_view, node_view};
use super::workflow_versions;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::engine::repo::runs::{self as run_store, Projects, RunFilter};
use crate::engine::workflows;
use crate::http::api::accounts::types::NodeBody;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::workflow_draft::{Draft, WORKFLOW_DRAFT};

/// The graph of `source` as typed in the editor of `project` (for whoever
/// may edit its workflows: a viewer's editor is read-only), `None` while
/// it does not load. Parsed off the
/// async threads: the text is up to a megabyte of the caller's YAML.
pub async fn draft_graph(
    state: &AppState,
    principal: &Principal,
    project: i64,
    source: String,
) -> Result<Option<GraphView>, ApiError> {
    authorize(
        &state.db.conn,
        principal,
        NodeKind::Project,
        project,
        Action::EditDefinitions,
    )
    .await?;
    tokio::task::spawn_blocking(move || {
        kiln_core::workflow::load(&source)
            .ok()
            .as_ref()
            .map(graph_of)
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// The drawing of a workflow's tasks and what each needs.
fn graph_of(workflow: &Workflow) -> GraphView {
    let tasks: Vec<(String, Vec<String>)> = workflow
        .tasks
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                t.needs.iter().map(|(n, _)| n.clone()).collect(),
            )
        })
        .collect();
    graph_view(&tasks)
}

/// A project's workflows by name, each with its newest run.
pub async fn workflows(
    state: &AppState,
    principal: &Principal,
    project: i64,
) -> Result<Vec<WorkflowAcross>, ApiError> {
    authorize(
        &state.db.conn,
        principal,
        NodeKind::Project,
        project,
        Action::View,
    )
    .await?;
    workflows_of(state, project).await
}

/// [`workflows`] of a project the caller was already allowed to view.
pub async fn workflows_of(state: &AppState, project: i64) -> Result<Vec<WorkflowAcross>, ApiError> {
    let found = workflows::list(&state.db.conn, project).await?;
    super::home::workflow_rows(state, found).await
}

pub async fn workflow(
    state: &AppState,
    principal: &Principal,
    request: &Parts,
    project: i64,
    name: Option<String>,
    compare: Option<(i32, i32)>,
) -> Result<WorkflowPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let crumbs = crumbs_of(&found);
    let (mut source, version, recent, versions, compared) = match &name {
        Some(name) => {
            let saved = workflows::get(db, project, name).await?;
            let filter = RunFilter {
                workflow_id: Some(saved.workflow.id),
                limit: 50,
                ..RunFilter::default()
            };
            let mut recent: Vec<RunBar> = run_store::list(db, Projects::Ids(&[project]), &filter)
                .await?
                .into_iter()
                .map(|r| RunBar {
                    id: r.id,
                    state: r.state,
                    duration_ms: r.finished_at_ms.map(|f| f - r.created_at_ms),
                })
                .collect();
            recent.reverse();
            let id = saved.workflow.id;
            // A version that is not there compares nothing; the page stays.
            let compared = match compare {
                Some((from, to)) => match workflow_versions::compare(state, id, from, to).await {
                    Err(ApiError::NotFound(_)) => None,
                    other => Some(other?),
                },
                None => None,
            };
            let versions = workflow_versions::history(state, id).await?;
            (
                saved.version.source,
                Some(saved.version.version),
                recent,
                versions,
                compared,
            )
        }
        None => (
            "tasks:\n  hello:\n    run: echo hello\n".to_owned(),
            None,
            Vec::new(),
            Vec::new(),
            None,
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
    let loaded = kiln_core::workflow::load(&source).ok();
    let params = loaded
        .iter()
        .flat_map(|w| &w.params)
        .map(|p| ParamView {
            name: p.name.clone(),
            kind: p.kind.as_str().to_owned(),
            default: p.default.clone(),
            description: p.description.clone(),
        })
        .collect();
    // The graph of the text in the editor, before any run (a draft that
    // does not load has none: its problems are listed instead).
    let graph = loaded.as_ref().map(graph_of);
    Ok(WorkflowPage {
        can_edit: allowed(principal, &found, Action::EditDefinitions),
        can_run: allowed(principal, &found, Action::Run) && name.is_some(),
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        name,
        version,
        source,
        problems,
        params,
        recent,
        versions,
        compare: compared,
        graph,
    })
}

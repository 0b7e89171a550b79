//! The data of the workflow pages (a project's workflows, one workflow in
//! its editor with its recent runs), through the same services and
//! authorization as the REST API.

use axum::http::request::Parts;
use kiln_app::home::data::WorkflowAcross;
use kiln_app::runs::data::{ParamView, ProblemView, RunBar, WorkflowPage};
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use tower_sessions::Session;

use super::views::{allowed, crumbs_for, node_view};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::engine::repo::runs::{self as run_store, Projects, RunFilter};
use crate::engine::workflows;
use crate::http::api::accounts::types::NodeBody;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::workflow_draft::{Draft, WORKFLOW_DRAFT};

/// A project's workflows by name, each with its newest run.
pub async fn workflows(
    state: &AppState,
    principal: &Principal,
    project: i64,
) -> Result<Vec<WorkflowAcross>, ApiError> {
    let db = &state.db.conn;
    authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let found = workflows::list(db, project).await?;
    super::home::workflow_rows(state, found).await
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
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        name,
        version,
        source,
        problems,
        params,
        recent,
    })
}

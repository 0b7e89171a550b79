//! Workflows of a project: list, save (a new version; a file that does not
//! load gets 422 with every problem's line and column), read, delete, and
//! trigger a run with params (422 naming a param of the wrong type).

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::workflow::params::GivenParams;

use super::types::{
    RunBody, TriggerBody, WorkflowBody, WorkflowList, WorkflowSource, WorkflowSummary,
    ms_to_rfc3339,
};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::engine::repo::runs;
use crate::engine::start::{self, NewRun, RunSource, Starter};
use crate::engine::workflows;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;

fn body_of(saved: workflows::Saved) -> WorkflowBody {
    WorkflowBody::new(
        saved.workflow.project_id,
        saved.workflow.name,
        saved.version.version,
        saved.version.source,
        saved.workflow.updated_at_ms,
    )
}

/// The project's workflows.
#[utoipa::path(get, path = "/projects/{id}/workflows", tag = "workflows",
    params(("id" = i64, Path)),
    responses((status = 200, body = WorkflowList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(workflows)"}))))]
pub async fn list_workflows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<WorkflowList>, ApiError> {
    let db = &state.db.conn;
    authorize(db, &principal, NodeKind::Project, id, Action::View).await?;
    let items = workflows::list(db, id)
        .await?
        .into_iter()
        .map(|w| WorkflowSummary {
            name: w.name,
            version: w.latest_version,
            updated_at: ms_to_rfc3339(w.updated_at_ms),
        })
        .collect();
    Ok(Json(WorkflowList { items }))
}

/// Saves the workflow's YAML as its next version (creating it if new).
#[utoipa::path(put, path = "/projects/{id}/workflows/{name}", tag = "workflows",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body = WorkflowSource,
    responses((status = 200, body = WorkflowBody), (status = 422, description = "the file does not load; `problems` lists each with line and column")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(file size)"}))))]
pub async fn save_workflow(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
    Json(body): Json<WorkflowSource>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let db = &state.db.conn;
    authorize(
        db,
        &principal,
        NodeKind::Project,
        id,
        Action::EditDefinitions,
    )
    .await?;
    let user = principal.user().map(|u| u.id);
    let limits = &state.engine.settings.workflow_limits;
    let saved = workflows::save(db, id, &name, &body.source, user, limits).await?;
    Ok(Json(body_of(saved)))
}

/// The workflow's latest version.
#[utoipa::path(get, path = "/projects/{id}/workflows/{name}", tag = "workflows",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 200, body = WorkflowBody)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn get_workflow(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let db = &state.db.conn;
    authorize(db, &principal, NodeKind::Project, id, Action::View).await?;
    Ok(Json(body_of(workflows::get(db, id, &name).await?)))
}

/// Deletes the workflow and its versions; its runs stay.
#[utoipa::path(delete, path = "/projects/{id}/workflows/{name}", tag = "workflows",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(versions)"}))))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let db = &state.db.conn;
    authorize(
        db,
        &principal,
        NodeKind::Project,
        id,
        Action::EditDefinitions,
    )
    .await?;
    workflows::delete(db, id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a run of the workflow's latest version.
#[utoipa::path(post, path = "/projects/{id}/workflows/{name}/runs", tag = "runs",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body = TriggerBody,
    responses((status = 201, body = RunBody), (status = 422, description = "a param is unknown, missing or of the wrong type")),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(tasks)"}))))]
pub async fn trigger_run(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
    Json(body): Json<TriggerBody>,
) -> Result<(StatusCode, Json<RunBody>), ApiError> {
    let new = NewRun {
        project: id,
        source: RunSource::Workflow {
            name,
            params: GivenParams::Json(body.params),
        },
        by: Starter::Caller(&principal),
    };
    let run = start::start(&state.engine, new).await?;
    let view = runs::view(&state.db.conn, run).await?;
    Ok((StatusCode::CREATED, Json(RunBody::full(&view))))
}

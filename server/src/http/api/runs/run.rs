//! Runs: a project's list (filtered by state, workflow, trigger), one run
//! with its steps, cancel, and re-run (failed steps and what follows them,
//! or all), and a maintainer's approval of a run from a fork. Each checks
//! the caller's role on the run's project.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::{RunState, RunTrigger};

use super::types::{ApproveBody, RetryAnswer, RetryBody, RunBody, RunList, RunListQuery, StepBody};
use crate::accounts::Principal;
use crate::accounts::authorize::{Authorized, authorize};
use crate::db::entities::run;
use crate::engine::approve;
use crate::engine::control::{self, Rerun};
use crate::engine::repo::runs::{self as run_store, Projects, RunFilter};
use crate::engine::workflows;
use crate::http::api::accounts::types::page;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::state::AppState;

/// Loads run `id` if the caller may do `action` on its project.
pub(crate) async fn authorized_run(
    state: &AppState,
    principal: &Principal,
    id: i64,
    action: Action,
) -> Result<run::Model, ApiError> {
    Ok(authorized_run_in(state, principal, id, action).await?.0)
}

/// [`authorized_run`], with the project and the caller's role there.
pub(crate) async fn authorized_run_in(
    state: &AppState,
    principal: &Principal,
    id: i64,
    action: Action,
) -> Result<(run::Model, Authorized), ApiError> {
    let db = &state.db.conn;
    if principal.user().is_none() {
        return Err(ApiError::Unauthorized(
            "sign in or send an API token".into(),
        ));
    }
    let found = run_store::get(db, id).await?;
    let project = authorize(db, principal, NodeKind::Project, found.project_id, action)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::NotFound(_) => ApiError::NotFound("run not found".into()),
            other => other,
        })?;
    Ok((found, project))
}

/// The project's runs, newest first.
#[utoipa::path(get, path = "/projects/{id}/runs", tag = "runs",
    params(("id" = i64, Path), RunListQuery),
    responses((status = 200, body = RunList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(limit)"}))))]
pub async fn list_runs(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(q): Query<RunListQuery>,
) -> Result<Json<RunList>, ApiError> {
    let db = &state.db.conn;
    authorize(db, &principal, NodeKind::Project, id, Action::View).await?;
    let page = page(q.limit, q.cursor.as_deref())?;
    let run_state = q
        .state
        .as_deref()
        .map(str::parse::<RunState>)
        .transpose()
        .map_err(|e| ApiError::invalid("state", e.to_string()))?;
    let trigger = q
        .trigger
        .as_deref()
        .map(str::parse::<RunTrigger>)
        .transpose()
        .map_err(|e| ApiError::invalid("trigger", e.to_string()))?;
    let names = workflows::list(db, id).await?;
    // An unknown name matches nothing rather than everything.
    let workflow_id = q
        .workflow
        .as_ref()
        .map(|name| names.iter().find(|w| &w.name == name).map_or(-1, |w| w.id));
    let filter = RunFilter {
        state: run_state,
        workflow_id,
        trigger,
        before: page.after,
        limit: page.limit,
        ..RunFilter::default()
    };
    let found = run_store::list(db, Projects::Ids(&[id]), &filter).await?;
    let next_cursor = (found.len() as u64 == page.limit)
        .then(|| found.last().map(|r| r.id.to_string()))
        .flatten();
    let items = found
        .iter()
        .map(|r| {
            let name = r
                .workflow_id
                .and_then(|w| names.iter().find(|n| n.id == w))
                .map(|n| n.name.clone());
            RunBody::summary(r, name)
        })
        .collect();
    Ok(Json(RunList { items, next_cursor }))
}

/// One run with its steps.
#[utoipa::path(get, path = "/runs/{id}", tag = "runs",
    params(("id" = i64, Path)),
    responses((status = 200, body = RunBody)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(steps)"}))))]
pub async fn get_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<RunBody>, ApiError> {
    let found = authorized_run(&state, &principal, id, Action::View).await?;
    let view = run_store::view(&state.db.conn, found).await?;
    Ok(Json(RunBody::full(&view)))
}

/// The run's steps.
#[utoipa::path(get, path = "/runs/{id}/steps", tag = "runs",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StepBody>)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(steps)"}))))]
pub async fn list_steps(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<StepBody>>, ApiError> {
    let found = authorized_run(&state, &principal, id, Action::View).await?;
    let view = run_store::view(&state.db.conn, found).await?;
    Ok(Json(view.steps.iter().map(StepBody::from).collect()))
}

/// Cancels the run: pending steps are cancelled, running ones killed.
#[utoipa::path(post, path = "/runs/{id}/cancel", tag = "runs",
    params(("id" = i64, Path)),
    responses((status = 202, body = RunBody), (status = 409, description = "the run has ended")),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(steps)"}))))]
pub async fn cancel_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<RunBody>), ApiError> {
    authorized_run(&state, &principal, id, Action::Run).await?;
    let by = principal
        .user()
        .map_or_else(|| "?".to_owned(), |u| u.username.clone());
    control::cancel(&state.engine, id, &by).await?;
    let view = run_store::view(&state.db.conn, run_store::get(&state.db.conn, id).await?).await?;
    Ok((StatusCode::ACCEPTED, Json(RunBody::full(&view))))
}

/// Approves a run of a pull request from a fork (maintainers): its steps
/// get the project's secrets from now on, and a run that has ended re-runs
/// its failed steps and what follows them.
#[utoipa::path(post, path = "/runs/{id}/approve", tag = "runs",
    params(("id" = i64, Path)),
    request_body = ApproveBody,
    responses((status = 200, body = RunBody), (status = 409, description = "not from a fork, of another commit, or already approved")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(steps)"}))))]
pub async fn approve_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<ApproveBody>,
) -> Result<Json<RunBody>, ApiError> {
    authorized_run(&state, &principal, id, Action::ManageSecrets).await?;
    let user = principal
        .user()
        .map(|u| u.id)
        .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))?;
    approve::approve(&state.engine, id, user, body.commit.as_deref()).await?;
    let view = run_store::view(&state.db.conn, run_store::get(&state.db.conn, id).await?).await?;
    Ok(Json(RunBody::full(&view)))
}

/// Re-runs a finished run: its failed steps and what follows them (the
/// successful ones keep their results), one chosen step and what follows
/// it (`{"task": …}`), or all of it.
#[utoipa::path(post, path = "/runs/{id}/retry", tag = "runs",
    params(("id" = i64, Path)),
    request_body = RetryBody,
    responses((status = 200, body = RetryAnswer), (status = 409, description = "still running, or nothing failed")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(steps)"}))))]
pub async fn retry_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(body): Json<RetryBody>,
) -> Result<Json<RetryAnswer>, ApiError> {
    authorized_run(&state, &principal, id, Action::Run).await?;
    let what = match (body.steps.as_deref(), body.task) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "task",
                "give either steps or task, not both",
            ));
        }
        (None, Some(task)) => Rerun::Step(task),
        (None | Some("failed"), None) => Rerun::FailedOnly,
        (Some("all"), None) => Rerun::All,
        (Some(other), None) => {
            return Err(ApiError::invalid(
                "steps",
                format!("{other:?}: expected \"failed\" or \"all\""),
            ));
        }
    };
    let reset = control::rerun(&state.engine, id, what).await?;
    Ok(Json(RetryAnswer { reset }))
}

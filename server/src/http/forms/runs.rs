//! Forms about workflows and runs: save a workflow (a draft that does not
//! load goes back to the editor whole, with each problem's line and
//! column), start a run from the params form, cancel, re-run, and a
//! maintainer's approval of a run from a fork.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::workflow::params::GivenParams;
use tower_sessions::Session;

use super::{Posted, caller, field, handle, optional, origin_page};
use crate::ServiceError;
use crate::accounts::authorize::authorize;
use crate::engine::approve;
use crate::engine::control::{self, Rerun};
use crate::engine::start::{self, NewRun, RunSource, Starter};
use crate::engine::workflows;
use crate::http::api::runs::run::authorized_run;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::workflow_draft::{Draft, WORKFLOW_DRAFT};

pub(super) async fn save_workflow(
    State(state): State<AppState>,
    session: Session,
    Path(project): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let name = field(&fields, "name").trim().to_owned();
    let source = field(&fields, "source").replace("\r\n", "\n");
    let page = origin_page(&parts.headers, &format!("/projects/{project}/new-workflow"));
    let principal = match caller(&state, &parts).await {
        Ok(p) if p.user().is_some() => p,
        Ok(_) => return Redirect::to("/login").into_response(),
        Err(error) => return error.into_response(),
    };
    let db = &state.db.conn;
    let saved = async {
        authorize(
            db,
            &principal,
            NodeKind::Project,
            project,
            Action::EditDefinitions,
        )
        .await?;
        let user = principal.user().map(|u| u.id);
        let limits = &state.engine.settings.workflow_limits;
        workflows::save(db, project, &name, &source, user, limits).await
    }
    .await;
    match saved {
        Ok(saved) => {
            let _ = session.remove::<Draft>(WORKFLOW_DRAFT).await;
            // The page says which version this save made.
            Redirect::to(&format!(
                "/projects/{project}/workflows/{}?saved={}",
                saved.workflow.name, saved.version.version
            ))
            .into_response()
        }
        Err(error) => {
            let problems = match &error {
                ServiceError::Definition(problems) => problems
                    .iter()
                    .map(|p| (p.at.line, p.at.column, p.message.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            let draft = Draft {
                project,
                name: name.clone(),
                source,
                problems,
            };
            if let Err(e) = session.insert(WORKFLOW_DRAFT, draft).await {
                return ApiError::from(e).into_response();
            }
            super::back(&page, "workflow", error.into(), &[("name", name)])
        }
    }
}

pub(super) async fn start_run(
    State(state): State<AppState>,
    Path((project, name)): Path<(i64, String)>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let fallback = format!("/projects/{project}/workflows/{name}");
    handle(
        &state,
        &parts,
        "run",
        &fallback,
        |principal, state| async move {
            let new = NewRun {
                project,
                source: RunSource::Workflow {
                    name,
                    params: GivenParams::Form(fields.into_iter().collect()),
                },
                by: Starter::Caller(&principal),
            };
            let run = start::start(&state.engine, new).await?;
            Ok(format!("/runs/{}", run.id))
        },
    )
    .await
}

pub(super) async fn cancel_run(
    State(state): State<AppState>,
    Path(run): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, .. } = posted;
    let done = format!("/runs/{run}");
    handle(
        &state,
        &parts,
        "run",
        &done.clone(),
        |principal, state| async move {
            authorized_run(&state, &principal, run, Action::Run).await?;
            let by = principal
                .user()
                .map_or_else(String::new, |u| u.username.clone());
            control::cancel(&state.engine, run, &by).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn retry_run(
    State(state): State<AppState>,
    Path(run): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let done = format!("/runs/{run}");
    handle(
        &state,
        &parts,
        "run",
        &done.clone(),
        |principal, state| async move {
            authorized_run(&state, &principal, run, Action::Run).await?;
            // Each form says what it re-runs: the steps table's shared form
            // names a task only through the button pressed, so a post
            // without one must not fall back to anything.
            let what = match (optional(&fields, "task"), field(&fields, "steps").as_str()) {
                (Some(task), _) => Rerun::Step(task),
                (None, "all") => Rerun::All,
                (None, "failed") => Rerun::FailedOnly,
                (None, _) => {
                    return Err(ApiError::invalid(
                        "steps",
                        "say what to re-run: a task, the failed steps or all",
                    ));
                }
            };
            control::rerun(&state.engine, run, what).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn approve_run(
    State(state): State<AppState>,
    Path(run): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let done = format!("/runs/{run}");
    handle(
        &state,
        &parts,
        "run",
        &done.clone(),
        |principal, state| async move {
            authorized_run(&state, &principal, run, Action::ManageSecrets).await?;
            // The commit the page showed: never one pushed since.
            let commit = field(&fields, "commit");
            let user = principal
                .user()
                .map(|u| u.id)
                .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))?;
            approve::approve(&state.engine, run, user, Some(&commit)).await?;
            Ok(done)
        },
    )
    .await
}

//! Forms of the pipeline pages: link (or change) the project's repository,
//! give the hook a new secret, start a pipeline by hand, and replay a
//! delivery; each calls the same
//! service as the API and goes back to the page with the error beside its
//! field.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{Posted, field, handle, optional};
use crate::http::state::AppState;
use crate::pipelines::replay;
use crate::pipelines::repository::{self, LinkRequest};
use crate::pipelines::start::{At, start_manual};

pub(super) async fn link_repository(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let done = format!("/projects/{project}/pipelines");
    let request = LinkRequest {
        url: field(&fields, "url").trim().to_owned(),
        provider: field(&fields, "provider"),
        default_branch: optional(&fields, "default_branch")
            .map(|b| b.trim().to_owned())
            .unwrap_or_else(|| "main".into()),
        // Empty keeps the stored token: the form never shows it.
        status_token: optional(&fields, "status_token"),
        api_url: optional(&fields, "api_url").map(|u| u.trim().to_owned()),
    };
    handle(
        &state,
        &parts,
        "repository",
        &done.clone(),
        |principal, state| async move {
            repository::link(&state.engine, &principal, project, request).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn start_pipeline(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let name = field(&fields, "pipeline").trim().to_owned();
    let at = At {
        branch: optional(&fields, "branch").map(|b| b.trim().to_owned()),
        tag: optional(&fields, "tag").map(|t| t.trim().to_owned()),
        commit: optional(&fields, "commit").map(|c| c.trim().to_owned()),
    };
    handle(
        &state,
        &parts,
        "run-pipeline",
        &format!("/projects/{project}/pipelines"),
        |principal, state| async move {
            let run = start_manual(&state.engine, &principal, project, &name, at).await?;
            Ok(format!("/runs/{}", run.id))
        },
    )
    .await
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    posted: Posted,
) -> Response {
    let done = format!("/projects/{project}/pipelines");
    handle(
        &state,
        &posted.parts,
        "rotate",
        &done.clone(),
        |principal, state| async move {
            repository::rotate_secret(&state.engine, &principal, project).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn replay_delivery(
    State(state): State<AppState>,
    Path((project, delivery)): Path<(i64, i64)>,
    posted: Posted,
) -> Response {
    let done = format!("/projects/{project}/deliveries");
    handle(
        &state,
        &posted.parts,
        "replay",
        &done.clone(),
        |principal, state| async move {
            replay::replay(&state.engine, &principal, project, delivery).await?;
            Ok(done)
        },
    )
    .await
}

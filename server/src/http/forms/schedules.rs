//! Forms about schedules: create (from a project's schedules page), edit,
//! pause, resume, run now and delete; each calls the same service as the
//! API and goes back to the form with the error beside its field.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{Posted, field, handle, optional};
use crate::http::state::AppState;
use crate::schedules::service::{self, Change};

fn change_of(fields: &std::collections::HashMap<String, String>) -> Change {
    Change {
        name: optional(fields, "name"),
        cron: Some(field(fields, "cron")),
        timezone: Some(field(fields, "timezone")),
        workflow: optional(fields, "workflow"),
        concurrency: optional(fields, "concurrency"),
        catchup: optional(fields, "catchup"),
        starting_deadline: Some(field(fields, "starting_deadline")),
        ..Change::default()
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let fallback = format!("/projects/{project}/schedules");
    let mut change = change_of(&fields);
    // Empty on create means "none", which the service reads as absent.
    if change.starting_deadline.as_deref() == Some("") {
        change.starting_deadline = None;
    }
    handle(
        &state,
        &parts,
        "schedule",
        &fallback,
        |principal, state| async move {
            let made = service::create(&state.engine, &principal, project, change).await?;
            Ok(format!("/schedules/{}", made.id))
        },
    )
    .await
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let done = format!("/schedules/{id}");
    let change = change_of(&fields);
    handle(
        &state,
        &parts,
        "schedule",
        &done.clone(),
        |principal, state| async move {
            service::update(&state.engine, &principal, id, change).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn pause(state: State<AppState>, id: Path<i64>, posted: Posted) -> Response {
    set_paused(state, id, posted, true).await
}

pub(super) async fn resume(state: State<AppState>, id: Path<i64>, posted: Posted) -> Response {
    set_paused(state, id, posted, false).await
}

async fn set_paused(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
    paused: bool,
) -> Response {
    let done = format!("/schedules/{id}");
    handle(
        &state,
        &posted.parts,
        "schedule",
        &done.clone(),
        |principal, state| async move {
            service::set_paused(&state.engine, &principal, id, paused).await?;
            Ok(done)
        },
    )
    .await
}

pub(super) async fn run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let fallback = format!("/schedules/{id}");
    handle(
        &state,
        &posted.parts,
        "schedule",
        &fallback,
        |principal, state| async move {
            let run = service::run_now(&state.engine, &principal, id).await?;
            Ok(format!("/runs/{}", run.id))
        },
    )
    .await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let fallback = format!("/schedules/{id}");
    handle(
        &state,
        &posted.parts,
        "schedule",
        &fallback,
        |principal, state| async move {
            let row = service::get(&state.engine, &principal, id).await?;
            service::delete(&state.engine, &principal, id).await?;
            Ok(format!("/projects/{}/schedules", row.project_id))
        },
    )
    .await
}

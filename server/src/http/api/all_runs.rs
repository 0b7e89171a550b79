//! Runs across every project the caller can see, newest first:
//! `GET /api/v1/runs`, filtered by project, state, kind, trigger and who
//! started them. The home page and `/runs` read the same list.

use std::collections::HashMap;

use axum::extract::State;
use kiln_core::engine::{RunState, RunTrigger};

use super::engine_types::{AllRunsQuery, RunBody, RunList};
use super::types::page;
use crate::accounts::Principal;
use crate::accounts::visible::visible_projects;
use crate::db::entities::run;
use crate::engine::repo::runs::{self as run_store, RunFilter};
use crate::http::extract::{Json, Query};
use crate::http::{ApiError, AppState};

/// Runs of the caller's projects, each with its project's path and its
/// workflow's name.
pub struct Across {
    pub runs: Vec<(run::Model, RunBody)>,
    pub next_cursor: Option<String>,
    /// Every project the list spans, (id, full path), by path.
    pub projects: Vec<(i64, String)>,
}

/// The projects a list across projects spans for `principal`, by path;
/// 401 for anonymous callers.
pub(crate) async fn visible(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<(i64, String)>, ApiError> {
    if principal.user().is_none() {
        return Err(ApiError::Unauthorized(
            "sign in or send an API token".into(),
        ));
    }
    let mut projects = visible_projects(&state.db.conn, principal).await?;
    projects.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(projects)
}

/// The list behind `GET /api/v1/runs` over `projects` (from [`visible`]);
/// 422 naming a filter that is not one of its values.
pub(crate) async fn across(
    state: &AppState,
    projects: Vec<(i64, String)>,
    q: &AllRunsQuery,
) -> Result<Across, ApiError> {
    let db = &state.db.conn;
    let page = page(q.limit, q.cursor.as_deref())?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let state_filter = nonempty(&q.state);
    if let Some(s) = &state_filter {
        s.parse::<RunState>()
            .map_err(|e| ApiError::invalid("state", e))?;
    }
    let trigger = nonempty(&q.trigger);
    if let Some(t) = &trigger {
        t.parse::<RunTrigger>()
            .map_err(|e| ApiError::invalid("trigger", e))?;
    }
    let kind = nonempty(&q.kind);
    if let Some(k) = &kind
        && k != "workflow"
        && k != "pipeline"
    {
        return Err(ApiError::invalid(
            "kind",
            format!("{k:?}: expected \"workflow\" or \"pipeline\""),
        ));
    }
    // A project the caller cannot see narrows the list to nothing, as an
    // unknown one does: no answer tells the two apart.
    let ids: Vec<i64> = match q.project {
        Some(only) => projects
            .iter()
            .filter(|(id, _)| *id == only)
            .map(|(id, _)| *id)
            .collect(),
        None => projects.iter().map(|(id, _)| *id).collect(),
    };
    let filter = RunFilter {
        state: state_filter,
        trigger,
        kind,
        created_by: q.created_by,
        before: page.after,
        limit: page.limit,
        ..RunFilter::default()
    };
    let found = run_store::list(db, &ids, &filter).await?;
    let next_cursor = (found.len() as u64 == page.limit)
        .then(|| found.last().map(|r| r.id.to_string()))
        .flatten();
    let workflow_ids: Vec<i64> = found.iter().filter_map(|r| r.workflow_id).collect();
    let names = run_store::workflow_names(db, &workflow_ids).await?;
    let paths: HashMap<i64, &String> = projects.iter().map(|(id, path)| (*id, path)).collect();
    let runs = found
        .into_iter()
        .map(|r| {
            let mut body = RunBody::summary(&r, r.workflow_id.and_then(|w| names.get(&w).cloned()));
            body.project = paths.get(&r.project_id).map(|p| (*p).clone());
            (r, body)
        })
        .collect();
    Ok(Across {
        runs,
        next_cursor,
        projects,
    })
}

/// Runs across every project the caller can see, newest first.
#[utoipa::path(get, path = "/runs", tag = "runs",
    params(AllRunsQuery),
    responses((status = 200, body = RunList), (status = 422, description = "a filter is not one of its values")),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(limit + projects)"}))))]
pub async fn list_all_runs(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AllRunsQuery>,
) -> Result<Json<RunList>, ApiError> {
    let projects = visible(&state, &principal).await?;
    let found = across(&state, projects, &q).await?;
    Ok(Json(RunList {
        items: found.runs.into_iter().map(|(_, body)| body).collect(),
        next_cursor: found.next_cursor,
    }))
}

//! Runs across every project the caller can see, newest first:
//! `GET /api/v1/runs`, filtered by project, state, kind, trigger and who
//! started them. The home page and `/runs` read the same list.

use axum::extract::State;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::{RunKind, RunState, RunTrigger};

use super::types::{AllRunsQuery, RunBody, RunList};
use crate::accounts::visible::{Seen, paths_of_ids, seen_by};
use crate::accounts::{Principal, authorize};
use crate::db::entities::run;
use crate::engine::repo::runs::{self as run_store, Projects, RunFilter};
use crate::http::api::accounts::types::page;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;

/// Runs of the caller's projects, each with its project's path and its
/// workflow's name.
pub struct Across {
    pub runs: Vec<(run::Model, RunBody)>,
    pub next_cursor: Option<String>,
}

/// The projects `principal` can see; 401 for anonymous callers. Read once
/// for several lists (the home page has three).
pub(crate) async fn seen(state: &AppState, principal: &Principal) -> Result<Seen, ApiError> {
    seen_by(&state.db.conn, principal)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))
}

/// The list behind `GET /api/v1/runs` over the projects `seen` (from
/// [`seen`]); 422 naming a filter that is not one of its values.
pub(crate) async fn across(
    state: &AppState,
    principal: &Principal,
    seen: &Seen,
    q: &AllRunsQuery,
) -> Result<Across, ApiError> {
    let db = &state.db.conn;
    let page = page(q.limit, q.cursor.as_deref())?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let state_filter = nonempty(&q.state)
        .map(|s| s.parse::<RunState>())
        .transpose()
        .map_err(|e| ApiError::invalid("state", e.to_string()))?;
    let trigger = nonempty(&q.trigger)
        .map(|t| t.parse::<RunTrigger>())
        .transpose()
        .map_err(|e| ApiError::invalid("trigger", e.to_string()))?;
    let kind = nonempty(&q.kind)
        .map(|k| {
            k.parse::<RunKind>().map_err(|_| {
                ApiError::invalid(
                    "kind",
                    format!("{k:?}: expected \"workflow\" or \"pipeline\""),
                )
            })
        })
        .transpose()?;
    // A project the caller cannot see narrows the list to nothing, as an
    // unknown one does: no answer tells the two apart.
    let only: Vec<i64> = match q.project {
        Some(id) => authorize(db, principal, NodeKind::Project, id, Action::View)
            .await
            .map(|_| vec![id])
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let projects = match (q.project, seen) {
        (Some(_), _) => Projects::Ids(&only),
        (None, Seen::All) => Projects::All,
        (None, Seen::Some(ids)) => Projects::Selected(ids.clone()),
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
    let found = run_store::list(db, projects, &filter).await?;
    let next_cursor = (found.len() as u64 == page.limit)
        .then(|| found.last().map(|r| r.id.to_string()))
        .flatten();
    let workflow_ids: Vec<i64> = found.iter().filter_map(|r| r.workflow_id).collect();
    let names = run_store::workflow_names(db, &workflow_ids).await?;
    let mut project_ids: Vec<i64> = found.iter().map(|r| r.project_id).collect();
    project_ids.sort_unstable();
    project_ids.dedup();
    let paths = paths_of_ids(db, &project_ids).await?;
    let runs = found
        .into_iter()
        .map(|r| {
            let mut body = RunBody::summary(&r, r.workflow_id.and_then(|w| names.get(&w).cloned()));
            body.project = paths.get(&r.project_id).cloned();
            (r, body)
        })
        .collect();
    Ok(Across { runs, next_cursor })
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
    let seen = seen(&state, &principal).await?;
    let found = across(&state, &principal, &seen, &q).await?;
    Ok(Json(RunList {
        items: found.runs.into_iter().map(|(_, body)| body).collect(),
        next_cursor: found.next_cursor,
    }))
}

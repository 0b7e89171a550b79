//! The data of the home page, `/runs` and `/workflows`: runs and workflows
//! across every project the viewer can see, runs through the same list as
//! `GET /api/v1/runs`, with who started each and how long ago.

use std::collections::HashMap;

use kiln_app::home::data::{
    AllRunsFilter, AllRunsPage, HomePage, RunAcross, WorkflowAcross, WorkflowsAcrossPage,
};
use kiln_core::engine::{RunKind, RunState, RunTrigger};

use crate::accounts::visible::{Seen, paths_of_ids, visible_projects};
use crate::accounts::{Principal, users};
use crate::clock::now_ms;
use crate::db::entities::{run, workflow};
use crate::engine::checkout::commit_of;
use crate::engine::repo::runs as run_store;
use crate::engine::workflows;
use crate::http::api::runs::all_runs::{across, seen};
use crate::http::api::runs::types::{AllRunsQuery, RunBody};
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// How many runs each part of the home page shows.
const RUNNING: u64 = 20;
const FAILURES: u64 = 10;
const RECENT: u64 = 20;
/// Runs per page of `/runs`.
const PAGE: u64 = 50;
/// Most workflows `/workflows` lists.
const WORKFLOWS: u64 = 500;

pub async fn home(state: &AppState, principal: &Principal) -> Result<HomePage, ApiError> {
    let part = |state_filter: Option<RunState>, limit: u64| AllRunsQuery {
        state: state_filter.map(|s| s.as_str().to_owned()),
        limit: Some(limit),
        ..AllRunsQuery::default()
    };
    let seen = seen(state, principal).await?;
    let running = across(
        state,
        principal,
        &seen,
        &part(Some(RunState::Running), RUNNING),
    )
    .await?;
    let failures = across(
        state,
        principal,
        &seen,
        &part(Some(RunState::Failed), FAILURES),
    )
    .await?;
    let recent = across(state, principal, &seen, &part(None, RECENT)).await?;
    // One look for "can see any project at all": an empty home says how
    // to begin rather than only "no runs".
    let projects = if recent.runs.is_empty() {
        visible_projects(&state.db.conn, principal).await?.len()
    } else {
        1
    };
    let mut rows = running.runs;
    let (running_len, failures_len) = (rows.len(), failures.runs.len());
    rows.extend(failures.runs);
    rows.extend(recent.runs);
    let mut all = rows_of(state, rows).await?;
    let recent = all.split_off(running_len + failures_len);
    let failures = all.split_off(running_len);
    Ok(HomePage {
        running: all,
        failures,
        recent,
        projects,
    })
}

pub async fn all_runs(
    state: &AppState,
    principal: &Principal,
    filter: AllRunsFilter,
) -> Result<AllRunsPage, ApiError> {
    // The form offers only valid values: anything else (an edited address)
    // is left out rather than refused.
    let valid = |value: &Option<String>, ok: &dyn Fn(&str) -> bool| {
        value.clone().filter(|v| !v.is_empty() && ok(v))
    };
    let query = AllRunsQuery {
        project: filter.project.as_deref().and_then(|p| p.parse().ok()),
        state: valid(&filter.state, &|v| v.parse::<RunState>().is_ok()),
        kind: valid(&filter.kind, &|v| v.parse::<RunKind>().is_ok()),
        trigger: valid(&filter.trigger, &|v| v.parse::<RunTrigger>().is_ok()),
        created_by: (filter.who.as_deref() == Some("me"))
            .then(|| principal.user().map(|u| u.id))
            .flatten(),
        limit: Some(PAGE),
        cursor: filter
            .cursor
            .clone()
            .filter(|c| c.parse::<i64>().is_ok_and(|n| n > 0)),
    };
    let found = across(state, principal, &seen(state, principal).await?, &query).await?;
    let mut projects = visible_projects(&state.db.conn, principal).await?;
    projects.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(AllRunsPage {
        runs: rows_of(state, found.runs).await?,
        filter,
        projects,
        next_cursor: found.next_cursor,
    })
}

/// Every workflow of the projects `principal` can see, by project path
/// and name, each with its newest run.
pub async fn workflows_across(
    state: &AppState,
    principal: &Principal,
) -> Result<WorkflowsAcrossPage, ApiError> {
    let db = &state.db.conn;
    let projects = match seen(state, principal).await? {
        Seen::All => None,
        Seen::Some(ids) => Some(*ids),
    };
    let mut found = workflows::of_projects(db, projects, WORKFLOWS + 1).await?;
    let cut = found.len() as u64 > WORKFLOWS;
    found.truncate(usize::try_from(WORKFLOWS).unwrap_or(usize::MAX));
    let mut workflows = workflow_rows(state, found).await?;
    workflows.sort_by(|a, b| (&a.project, &a.name).cmp(&(&b.project, &b.name)));
    Ok(WorkflowsAcrossPage { workflows, cut })
}

/// The rows for `found` workflows: each with its project's path and its
/// newest run (all read at once), in the order given.
pub async fn workflow_rows(
    state: &AppState,
    found: Vec<workflow::Model>,
) -> Result<Vec<WorkflowAcross>, ApiError> {
    let db = &state.db.conn;
    let ids: Vec<i64> = found.iter().map(|w| w.id).collect();
    let mut project_ids: Vec<i64> = found.iter().map(|w| w.project_id).collect();
    project_ids.sort_unstable();
    project_ids.dedup();
    let paths = paths_of_ids(db, &project_ids).await?;
    let names: HashMap<i64, &str> = found.iter().map(|w| (w.id, w.name.as_str())).collect();
    let last = run_store::last_of_workflows(db, &ids).await?;
    let owners: Vec<Option<i64>> = last.iter().map(|r| r.workflow_id).collect();
    let bodies = last
        .into_iter()
        .map(|r| {
            let name = r
                .workflow_id
                .and_then(|w| names.get(&w))
                .map(|n| (*n).to_owned());
            let mut body = RunBody::summary(&r, name);
            body.project = paths.get(&r.project_id).cloned();
            (r, body)
        })
        .collect();
    let mut last_runs: HashMap<i64, RunAcross> = owners
        .into_iter()
        .zip(rows_of(state, bodies).await?)
        .filter_map(|(workflow, row)| Some((workflow?, row)))
        .collect();
    Ok(found
        .into_iter()
        .map(|w| WorkflowAcross {
            project_id: w.project_id,
            project: paths.get(&w.project_id).cloned().unwrap_or_default(),
            last_run: last_runs.remove(&w.id),
            name: w.name,
            version: w.latest_version,
        })
        .collect())
}

/// The rows for `runs`, with their starters' names looked up at once.
async fn rows_of(
    state: &AppState,
    runs: Vec<(run::Model, RunBody)>,
) -> Result<Vec<RunAcross>, ApiError> {
    let mut ids: Vec<i64> = runs.iter().filter_map(|(r, _)| r.created_by).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = users::names_of(&state.db.conn, &ids).await?;
    let now = now_ms();
    Ok(runs
        .into_iter()
        .map(|(row, body)| {
            let started_by = match row.created_by.and_then(|id| names.get(&id)) {
                Some(name) => name.clone(),
                None => body.trigger.as_str().to_owned(),
            };
            RunAcross {
                id: row.id,
                project_id: row.project_id,
                project: body.project.clone().unwrap_or_default(),
                what: what_of(&row, body.workflow.as_deref()),
                started_by,
                state: row.state,
                created_at: body.created_at.clone(),
                ago: ago(now, row.created_at_ms),
                // Clocks of several servers may disagree a little.
                duration_ms: Some((row.finished_at_ms.unwrap_or(now) - row.created_at_ms).max(0)),
                waiting: body.waiting_since.is_some(),
            }
        })
        .collect())
}

/// What a run ran: its workflow, or its pipeline on its branch or tag.
fn what_of(row: &run::Model, workflow: Option<&str>) -> String {
    match &row.pipeline {
        Some(pipeline) => {
            let commit = commit_of(row);
            let at = commit
                .as_ref()
                .and_then(|c| c.branch.clone().or_else(|| c.tag.clone()))
                .or_else(|| commit.as_ref().map(|c| c.sha.chars().take(8).collect()));
            match at {
                Some(at) => format!("{pipeline} · {at}"),
                None => pipeline.clone(),
            }
        }
        None => workflow.unwrap_or("(deleted workflow)").to_owned(),
    }
}

/// "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago".
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).max(0) / 1000;
    match s {
        0..5 => "just now".to_owned(),
        5..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn times_read_as_people_say_them() {
        let now = 10_000_000_000;
        assert_eq!(ago(now, now), "just now");
        // A clock a little behind is not "in the future".
        assert_eq!(ago(now, now + 3_000), "just now");
        assert_eq!(ago(now, now - 42_000), "42 s ago");
        assert_eq!(ago(now, now - 3 * 60_000 - 5_000), "3 min ago");
        assert_eq!(ago(now, now - 2 * 3_600_000), "2 h ago");
        assert_eq!(ago(now, now - 4 * 86_400_000), "4 d ago");
    }
}

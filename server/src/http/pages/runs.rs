//! The data of the run pages (a project's runs, one run, a piece of a
//! step's log), through the same services and authorization as the REST
//! API.

use std::collections::HashMap;

use kiln_app::runs::data::{
    DrawnOnServer, ForkApproval, LogChunk, RunDetail, RunFilterView, RunPage, RunRow, RunsPage,
    StepView,
};
use kiln_app::screen::timeline::Span;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::StepState;
use kiln_core::engine::attempt_spans::{StepMove, attempt_spans};

use super::home::ago;
use super::run_cache::{KeptPage, SharedRunPage};
use super::views::{allowed, crumbs_of, graph_view, node_view};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::accounts::users;
use crate::clock::now_ms;
use crate::db::entities::run as run_row;
use crate::engine::logs::whole_lines;
use crate::engine::repo::events;
use crate::engine::repo::runs::{self as run_store, Projects, RunFilter};
use crate::engine::step_logs::AttemptLog;
use crate::engine::workflows;
use crate::http::api::accounts::types::NodeBody;
use crate::http::api::runs::run::{authorized_run, authorized_run_in};
use crate::http::api::runs::types::RunBody;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Most steps a run may have for its page to draw a timeline (the moves
/// of a bigger run are not read for it).
const TIMELINE_STEPS: usize = 1_000;
/// Most moves read for a timeline.
const TIMELINE_MOVES: u64 = 20_000;

/// The attempts of run `id` as spans from its start (`created_ms`), and
/// where the axis ends; none for a run too big to draw.
async fn timeline(
    db: &impl sea_orm::ConnectionTrait,
    id: i64,
    created_ms: i64,
    until_ms: i64,
    steps: usize,
) -> Result<(Vec<Span>, i64), ApiError> {
    let until = (until_ms - created_ms).max(0);
    if steps > TIMELINE_STEPS {
        return Ok((Vec::new(), until));
    }
    let moves = events::of_run(db, id, 0, TIMELINE_MOVES)
        .await
        .map_err(ApiError::database)?;
    // Cut short, the spans would be wrong (attempts missing, ends lost).
    if moves.len() as u64 >= TIMELINE_MOVES {
        return Ok((Vec::new(), until));
    }
    let spans = attempt_spans(moves.iter().filter_map(|e| {
        Some(StepMove {
            task: e.task.as_deref()?,
            attempt: e.attempt?,
            to: e.to_state.parse::<StepState>().ok()?,
            at_ms: e.at_ms,
        })
    }));
    Ok((
        spans
            .into_iter()
            .map(|s| Span {
                task: s.task,
                attempt: s.attempt,
                start: s.start_ms - created_ms,
                end: s.end_ms.map(|e| e - created_ms),
                state: s.state,
            })
            .collect(),
        until,
    ))
}

/// Largest piece of log sent to the page at once.
const LOG_CHUNK: usize = 256 * 1024;

fn row(body: RunBody) -> RunRow {
    RunRow {
        id: body.id,
        workflow: body.workflow,
        trigger: body.trigger,
        state: body.state,
        created_at: body.created_at,
        duration_ms: body.duration_ms,
    }
}

pub async fn runs(
    state: &AppState,
    principal: &Principal,
    project: i64,
    filter: RunFilterView,
) -> Result<RunsPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let crumbs = crumbs_of(&found);
    let names = workflows::list(db, project).await?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let workflow_id = nonempty(&filter.workflow)
        .map(|name| names.iter().find(|w| w.name == name).map_or(-1, |w| w.id));
    let query = RunFilter {
        // As on `/runs`: a value the form does not offer (an edited
        // address) is left out rather than refused.
        state: filter.state.as_deref().and_then(|s| s.parse().ok()),
        workflow_id,
        trigger: filter.trigger.as_deref().and_then(|t| t.parse().ok()),
        limit: 100,
        ..RunFilter::default()
    };
    let runs = run_store::list(db, Projects::Ids(&[project]), &query)
        .await?
        .iter()
        .map(|r| {
            let name = r
                .workflow_id
                .and_then(|w| names.iter().find(|n| n.id == w))
                .map(|n| n.name.clone());
            row(RunBody::summary(r, name))
        })
        .collect();
    Ok(RunsPage {
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        runs,
        workflows: names.into_iter().map(|w| w.name).collect(),
        filter,
    })
}

pub async fn run(state: &AppState, principal: &Principal, id: i64) -> Result<RunPage, ApiError> {
    let db = &state.db.conn;
    // Before the run and its steps are read: a change between the two reads
    // is then sent again (harmless) rather than never.
    let last_event = events::last_id(db, Some(id))
        .await
        .map_err(ApiError::database)?;
    let (found_run, project) = authorized_run_in(state, principal, id, Action::View).await?;
    let crumbs = crumbs_of(&project);
    // A finished run changes only by new events: its page is kept under
    // its newest one (see `run_cache`).
    // An approval changes the run's row without an event: the row's
    // change time is part of the key.
    let finished = found_run.state.is_done();
    let version = (last_event, found_run.updated_at_ms);
    let kept = match finished.then(|| state.run_pages.get(id, version)).flatten() {
        Some(mut kept) => {
            // Deleting its workflow changes nothing of the run.
            kept.shared.run.workflow = run_store::workflow_name(db, &found_run).await?;
            kept
        }
        None => {
            let kept = shared_run_page(state, found_run).await?;
            if finished {
                state.run_pages.keep(id, version, kept.clone());
            }
            kept
        }
    };
    // What depends on who looks, and when.
    let KeptPage {
        shared,
        created_ms,
        secrets_withheld,
    } = kept;
    let mut fork = shared.fork;
    if let Some(fork) = &mut fork {
        fork.can_approve = secrets_withheld && allowed(principal, &project, Action::ManageSecrets);
    }
    Ok(RunPage {
        created_ago: ago(now_ms(), created_ms),
        can_run: allowed(principal, &project, Action::Run),
        fork,
        project: node_view(NodeBody::new(project.node, project.role)),
        crumbs,
        run: shared.run,
        started_by: shared.started_by,
        params: shared.params,
        graph_width: shared.graph_width,
        graph_height: shared.graph_height,
        allowed_failures: shared.allowed_failures,
        errors: shared.errors,
        waiting_for: shared.waiting_for,
        last_event,
        detail: shared.detail,
    })
}

/// What run `found_run`'s page shows to any viewer.
async fn shared_run_page(
    state: &AppState,
    found_run: run_row::Model,
) -> Result<KeptPage, ApiError> {
    let db = &state.db.conn;
    let id = found_run.id;
    let definition = state.engine.definitions.of_run(db, &found_run).await.ok();
    let started_by = match found_run.created_by {
        Some(user) => Some(
            users::get(db, user)
                .await?
                .map_or_else(|| format!("user #{user}"), |u| u.username),
        ),
        None => None,
    };
    let now = now_ms();
    let created_ms = found_run.created_at_ms;
    let ended_ms = found_run.finished_at_ms;
    let view = run_store::view(db, found_run).await?;
    let (spans, timeline_until) = timeline(
        db,
        id,
        created_ms,
        ended_ms.unwrap_or(now),
        view.steps.len(),
    )
    .await?;
    // The graph as the run's definition has it; should that be unreadable,
    // the steps in a row.
    let tasks: Vec<(String, Vec<String>)> = view
        .steps
        .iter()
        .map(|s| {
            let needs = definition
                .as_ref()
                .and_then(|d| d.task(&s.task))
                .map(|t| t.needs.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            (s.task.clone(), needs)
        })
        .collect();
    let graph = graph_view(&tasks);
    let mut body = RunBody::full(&view);
    // Each task's latest attempt's start: its last span (one map, not a
    // search of every span for every step).
    let latest_start: HashMap<&str, i64> = spans
        .iter()
        .map(|span| (span.task.as_str(), span.start))
        .collect();
    let steps = body
        .steps
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|s| StepView {
            start_offset_ms: latest_start.get(s.task.as_str()).copied(),
            task: s.task,
            state: s.state,
            attempt: s.attempt,
            duration_ms: s.duration_ms,
            exit_code: s.exit_code,
            message: s.message,
            started_at: s.started_at,
            artifacts: s
                .artifacts
                .map(|a| format!("{} file(s), {:.1} KB", a.files, a.bytes as f64 / 1024.0)),
        })
        .collect();
    let params = body.params.clone().into_iter().collect();
    let allowed_failures = body.allowed_failures.unwrap_or(false);
    let fork = match &body.approval {
        None => None,
        Some(approval) => Some(ForkApproval {
            commit: body
                .commit
                .as_ref()
                .map(|c| c.sha.clone())
                .unwrap_or_default(),
            pr_number: body.commit.as_ref().and_then(|c| c.pr_number),
            approved_by: match approval.approved_by {
                Some(user) => Some(
                    users::get(db, user)
                        .await?
                        .map_or_else(|| format!("user #{user}"), |u| u.username),
                ),
                None => None,
            },
            // Set for each viewer.
            can_approve: false,
        }),
    };
    let secrets_withheld = body
        .approval
        .as_ref()
        .is_some_and(|approval| approval.secrets_withheld);
    let left_out = body
        .left_out
        .iter()
        .flatten()
        .map(|l| (l.step.clone(), l.reason.clone()))
        .collect();
    Ok(KeptPage {
        shared: SharedRunPage {
            started_by,
            errors: body.errors.clone().unwrap_or_default(),
            fork,
            waiting_for: body
                .waiting_since
                .as_ref()
                .and(body.concurrency_group.clone()),
            allowed_failures,
            run: row(body),
            params,
            graph_width: graph.width,
            graph_height: graph.height,
            detail: DrawnOnServer::sent(RunDetail {
                steps,
                graph,
                spans,
                timeline_until,
                left_out,
            }),
        },
        created_ms,
        secrets_withheld,
    })
}

pub async fn log(
    state: &AppState,
    principal: &Principal,
    run: i64,
    task: &str,
    attempt: Option<i32>,
    offset: u64,
) -> Result<LogChunk, ApiError> {
    authorized_run(state, principal, run, Action::View).await?;
    let step = run_store::step_by_task(&state.db.conn, run, task).await?;
    // An attempt that is not one of the step's shows the latest.
    let attempt = attempt
        .filter(|a| (1..=step.attempt).contains(a))
        .unwrap_or(step.attempt);
    let latest = attempt == step.attempt;
    // An earlier attempt is over whatever the step does now.
    let step_state = step.state;
    let over = !latest || step_state.is_done();
    let log = AttemptLog {
        run_id: run,
        step_id: step.id,
        attempt,
    };
    let bytes = log
        .read(
            &state.db.conn,
            state.engine.logs.as_ref(),
            over,
            offset,
            LOG_CHUNK,
        )
        .await?;
    let whole = whole_lines(&bytes, LOG_CHUNK, over);
    Ok(LogChunk {
        text: String::from_utf8_lossy(&bytes[..whole]).into_owned(),
        next_offset: offset + whole as u64,
        done: over && bytes.len() < LOG_CHUNK,
        attempt,
        attempts: step.attempt,
        state: if latest {
            step_state
        } else {
            StepState::Failed
        },
        message: if latest {
            step.message.clone()
        } else {
            String::new()
        },
    })
}

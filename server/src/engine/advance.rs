//! Moving a run forward after anything changed: ask the planner, mark what
//! it skips or fails upstream, dispatch the steps it starts (exactly once:
//! `dispatched_at_ms` is set under the run lock), and close the run when it
//! is over. Runs inside the caller's transaction; the jobs are pushed after
//! commit by [`push`].

use std::collections::{HashMap, HashSet};

use kiln_core::engine::{RunEvent, RunState, StepEvent, StepState, outcome, plan};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DbErr};

use super::Engine;
use super::definitions::Definition;
use super::repo::BATCH;
use super::repo::leases::stamp_dispatched;
use super::repo::moves::{StepMove, StepRef, move_run, move_steps};
use super::repo::{has_pending, plan_steps, steps_of, steps_of_tasks};
use crate::clock::now_ms;
use crate::db::entities::{run, step};
use crate::jobs::steps::StepJob;

/// A job to push once the transaction has committed.
#[derive(Debug, Clone)]
pub struct Dispatch {
    pub queue: String,
    pub job: StepJob,
    /// Unix seconds; `None` = now.
    pub run_at: Option<u64>,
}

/// What changed in the run.
#[derive(Debug, Default)]
pub struct Advanced {
    pub dispatches: Vec<Dispatch>,
    /// The run's end, when this call ended it.
    pub finished: Option<RunState>,
}

/// Which steps changed since the run was last advanced.
#[derive(Debug, Clone, Copy)]
pub enum Changed<'a> {
    /// One task ended (or went back to the queue): only what lies
    /// downstream of it can move.
    Task(&'a str),
    /// Anything may have moved (a new run, a cancel, a re-run).
    Any,
}

/// Applies the planner's decisions to run `run` (locked by the caller).
pub async fn advance(
    db: &impl ConnectionTrait,
    workflow: &Definition,
    run: &run::Model,
    changed: Changed<'_>,
) -> Result<Advanced, DbErr> {
    let now = now_ms();
    // After one task's end, the planner needs its downstream tasks and their
    // needs only: a run of thousands of independent tasks then costs O(1)
    // per finished step instead of reading every step each time.
    let (mut rows, decidable) = match changed {
        Changed::Any => (steps_of(db, run.id).await?, None),
        Changed::Task(task) => {
            let (below, wanted) = workflow.neighbourhood(task);
            (steps_of_tasks(db, run.id, wanted).await?, Some(below))
        }
    };
    let mut planned = plan_steps(workflow, &rows);
    if let Some(below) = &decidable {
        // A task loaded only as someone's need has its own needs missing:
        // it must look undecided (not done) rather than be planned on
        // partial facts, whose skips would spread downstream.
        for step in planned.iter_mut().filter(|s| !below.contains(&s.id)) {
            if step.state == StepState::Queued {
                step.state = StepState::Running;
            }
        }
    }
    let mut decided = plan(&planned);
    // Loaded only as someone's need, a task's own upstream may be missing:
    // decide only for the tasks whose needs are all here.
    if let Some(below) = &decidable {
        for list in [
            &mut decided.start,
            &mut decided.skip,
            &mut decided.upstream_failed,
        ] {
            list.retain(|id| below.contains(id));
        }
    }
    let mut out = Advanced::default();
    let index: HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.task.clone(), i))
        .collect();
    for (ids, event, message) in [
        (
            &decided.skip,
            StepEvent::Skip,
            "skipped: its trigger rule's condition cannot be met",
        ),
        (
            &decided.upstream_failed,
            StepEvent::MarkUpstreamFailed,
            "not run: an upstream step failed",
        ),
    ] {
        let refs: Vec<StepRef<'_>> = ids
            .iter()
            .filter_map(|id| index.get(id).map(|&i| StepRef::from(&rows[i])))
            .collect();
        let events = [event];
        let moved = move_steps(db, run.id, &refs, StepMove::one(&events), now, |update| {
            update
                .col_expr(step::Column::FinishedAtMs, Expr::value(now))
                .col_expr(step::Column::Message, Expr::value(message))
        })
        .await?;
        let state = event.target();
        metrics::counter!("kiln_steps_total", "state" => state.as_str())
            .increment(moved.len() as u64);
        let moved: HashSet<i64> = moved.into_iter().collect();
        for row in rows.iter_mut().filter(|r| moved.contains(&r.id)) {
            row.state = state;
        }
    }
    if run.state == RunState::Running {
        let starting: Vec<&step::Model> = decided
            .start
            .iter()
            .filter_map(|id| index.get(id).map(|&i| &rows[i]))
            .filter(|row| row.dispatched_at_ms.is_none())
            .collect();
        for chunk in starting.chunks(BATCH) {
            let taken = stamp_dispatched(db, chunk.iter().map(|r| r.id).collect(), now).await?;
            out.dispatches.extend(
                chunk
                    .iter()
                    .filter(|row| taken.contains(&row.id))
                    .map(|row| Dispatch {
                        queue: row.queue.clone(),
                        job: StepJob {
                            step_id: row.id,
                            attempt: row.attempt,
                            due_at_ms: now,
                        },
                        run_at: None,
                    }),
            );
        }
    }
    if let Changed::Task(_) = changed {
        // Over only when nothing is left to run; then decide on all steps.
        // A step just dispatched is left; otherwise whether one exists,
        // not how many: one index probe.
        if !out.dispatches.is_empty() || has_pending(db, run.id).await? {
            return Ok(out);
        }
        rows = steps_of(db, run.id).await?;
    }
    if let Some(ended) = outcome(&plan_steps(workflow, &rows)) {
        let closed = move_run(db, run, RunEvent::End(ended), now, |update| {
            update.col_expr(run::Column::FinishedAtMs, Expr::value(now))
        })
        .await?;
        if let Some(state) = closed {
            metrics::counter!("kiln_runs_total", "kind" => run.kind.as_str(), "state" => state.as_str())
                .increment(1);
            out.finished = Some(state);
        }
    }
    Ok(out)
}

/// After a commit: wakes the reader of run events, and pushes the
/// committed dispatches, in one batch per queue. A push that fails
/// leaves its steps dispatched without a job; the sweeper re-pushes them.
pub async fn push(engine: &Engine, dispatches: Vec<Dispatch>) {
    engine.feed.wake();
    let mut by_queue: HashMap<String, Vec<(StepJob, Option<u64>)>> = HashMap::new();
    for dispatch in dispatches {
        by_queue
            .entry(dispatch.queue)
            .or_default()
            .push((dispatch.job, dispatch.run_at));
    }
    for (queue, jobs) in by_queue {
        let count = jobs.len();
        if let Err(error) = engine.queue.push_steps(&queue, jobs).await {
            tracing::warn!(%queue, count, %error, "could not push steps' jobs; the sweeper will");
        }
    }
}

//! What people do to runs: cancel (pending steps cancelled, running ones
//! killed — here at once, elsewhere on their next heartbeat), and re-run a
//! finished run: its failures and what follows them (Airflow's "clear"),
//! one chosen step and what follows it, or all of it; a re-run waits while
//! another run of its concurrency group runs.

use std::collections::BTreeSet;

use kiln_core::engine::{RunEvent, RunState, StepEvent, clear_downstream, clear_failed};
use kiln_core::pipeline::concurrency::rerun_waits;
use sea_orm::sea_query::Expr;

use super::Engine;
use super::advance::{Changed, advance, push};
use super::definitions::Definition;
use super::repo::moves::{StepMove, StepRef, move_run, move_steps};
use super::repo::{groups, lock_run, plan_steps, short_logs, steps_of};
use super::step_logs;
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{run, step};

/// Cancels run `run_id`; 409 once it has ended. The next waiting run of
/// its concurrency group, if any, starts.
pub async fn cancel(engine: &Engine, run_id: i64, by: &str) -> Result<(), ServiceError> {
    if let Some(ended) = super::cancel::cancel_only(engine, run_id, by).await? {
        super::groups::after_end(engine, &ended).await;
    }
    Ok(())
}

/// Which steps a re-run resets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rerun {
    FailedOnly,
    All,
    /// One chosen step, and what follows it.
    Step(String),
}

/// The tasks `what` resets in a run of `workflow` whose steps are `rows`.
fn tasks_to_reset(
    workflow: &Definition,
    rows: &[step::Model],
    what: &Rerun,
) -> Result<Vec<String>, ServiceError> {
    let reset = match what {
        Rerun::FailedOnly => clear_failed(&plan_steps(workflow, rows)),
        Rerun::All => rows.iter().map(|r| r.task.clone()).collect(),
        Rerun::Step(task) => {
            if !rows.iter().any(|r| &r.task == task) {
                return Err(ServiceError::NotFound("step"));
            }
            clear_downstream(&plan_steps(workflow, rows), &[task.as_str()])
        }
    };
    if reset.is_empty() {
        return Err(ServiceError::conflict(
            "state",
            "no step failed; nothing to re-run",
        ));
    }
    Ok(reset)
}

/// The ids of the steps among `rows` whose task is in `tasks`.
fn ids_of(rows: &[step::Model], tasks: &[String]) -> BTreeSet<i64> {
    rows.iter()
        .filter(|r| tasks.contains(&r.task))
        .map(|r| r.id)
        .collect()
}

/// Moves to the log storage the short logs of the steps `what` would
/// reset, before the re-run's transaction: writing them under the run's
/// lock (and SQLite's write lock) would hold every other writer for as
/// long as the storage takes. Returns the steps done. A copy left by a
/// re-run that then fails is harmless: readers prefer the row, and a later
/// spill keeps the copy.
async fn spill_ahead(
    engine: &Engine,
    run_id: i64,
    what: &Rerun,
) -> Result<BTreeSet<i64>, ServiceError> {
    let Some(run) = super::repo::run(&engine.db, run_id).await? else {
        return Ok(BTreeSet::new());
    };
    if run.state == RunState::Running {
        return Ok(BTreeSet::new());
    }
    let workflow = engine.definitions.of_run(&engine.db, &run).await?;
    let rows = steps_of(&engine.db, run_id).await?;
    let Ok(reset) = tasks_to_reset(&workflow, &rows, what) else {
        return Ok(BTreeSet::new());
    };
    let ids = ids_of(&rows, &reset);
    step_logs::spill(
        &engine.db,
        engine.logs.as_ref(),
        run_id,
        ids.iter().copied().collect(),
    )
    .await?;
    Ok(ids)
}

/// Re-runs a finished run in place; returns the tasks reset.
pub async fn rerun(engine: &Engine, run_id: i64, what: Rerun) -> Result<Vec<String>, ServiceError> {
    let spilled = spill_ahead(engine, run_id, &what).await?;
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    // A run of a concurrency group takes the group's lock first, as new
    // runs and the group's next turn do (the project's repository row,
    // then the run).
    if let Ok(peek) = super::repo::runs::get(&txn, run_id).await
        && peek.concurrency_group.is_some()
    {
        groups::hold(&txn, peek.project_id).await?;
    }
    let run = lock_run(&txn, run_id)
        .await?
        .ok_or(ServiceError::NotFound("run"))?;
    if run.state == RunState::Running {
        return Err(ServiceError::conflict(
            "state",
            "the run is still running; cancel it first",
        ));
    }
    // The definition outlives its workflow: a deleted workflow's run can
    // be re-run as it was.
    let workflow = engine.definitions.of_run(&txn, &run).await?;
    let rows = steps_of(&txn, run_id).await?;
    let reset = tasks_to_reset(&workflow, &rows, &what)?;
    let reset_set: BTreeSet<&str> = reset.iter().map(String::as_str).collect();
    // Their rows go on to a new attempt: the short logs they keep of the
    // last one are in the log storage already, but for a step that ended
    // since (a re-run racing another).
    let late: Vec<i64> = ids_of(&rows, &reset)
        .difference(&spilled)
        .copied()
        .collect();
    step_logs::spill(&txn, engine.logs.as_ref(), run_id, late).await?;
    let now = now_ms();
    let clear = [StepEvent::Clear];
    for row in rows.iter().filter(|r| reset_set.contains(r.task.as_str())) {
        let retries = workflow
            .tasks
            .iter()
            .find(|t| t.id == row.task)
            .map_or(0, |t| t.retry.retries);
        let change = StepMove {
            events: &clear,
            next_attempt: Some(row.attempt + 1),
        };
        move_steps(&txn, run_id, &[StepRef::from(row)], change, now, |update| {
            let update = update
                .col_expr(step::Column::Attempt, Expr::value(row.attempt + 1))
                .col_expr(
                    step::Column::RetriesLeft,
                    Expr::value(i32::try_from(retries).unwrap_or(0)),
                )
                .col_expr(step::Column::QueuedAtMs, Expr::value(now))
                .col_expr(
                    step::Column::DispatchedAtMs,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(step::Column::NotBeforeMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::StartedAtMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::FinishedAtMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::ExitCode, Expr::value(Option::<i32>::None))
                .col_expr(step::Column::Worker, Expr::value(Option::<String>::None))
                .col_expr(step::Column::LeaseUntilMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::Message, Expr::value(""))
                .col_expr(step::Column::Outputs, Expr::value(Option::<String>::None));
            short_logs::drop(update)
        })
        .await?;
    }
    let reopened = move_run(&txn, &run, RunEvent::Rerun, now, |update| {
        update.col_expr(run::Column::FinishedAtMs, Expr::value(Option::<i64>::None))
    })
    .await?;
    let Some(state) = reopened else {
        return Err(ServiceError::conflict("state", "the run changed meanwhile"));
    };
    let waits = match &run.concurrency_group {
        Some(group) => {
            let running = groups::running_in(&txn, run.project_id, group).await?;
            let ids: Vec<i64> = running.iter().map(|&(id, _)| id).collect();
            rerun_waits(run_id, &ids)
        }
        None => false,
    };
    // Always written: a run cancelled while it waited still says so.
    let waiting_since_ms = waits.then_some(now);
    if run.concurrency_group.is_some() {
        groups::set_waiting(&txn, run_id, waiting_since_ms).await?;
    }
    let run = run::Model {
        state,
        finished_at_ms: None,
        waiting_since_ms,
        ..run
    };
    // A re-run that waits for its group starts when its turn comes.
    let dispatches = if waits {
        Vec::new()
    } else {
        advance(&txn, &workflow, &run, Changed::Any)
            .await?
            .dispatches
    };
    txn.commit().await?;
    push(engine, dispatches).await;
    Ok(reset)
}

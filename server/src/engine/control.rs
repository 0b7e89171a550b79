//! What people do to runs: cancel (pending steps cancelled, running ones
//! killed — here at once, elsewhere on their next heartbeat), and re-run a
//! finished run, either its failures and what follows them (Airflow's
//! "clear") or all of it.

use std::collections::BTreeSet;

use kiln_core::engine::{RunState, StepState, clear_failed};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::advance::{Changed, advance, push};
use super::store::{lock_run, now_ms, plan_steps, steps_of};
use super::{Engine, EngineError};
use crate::db::entities::{run, step};

/// Cancels run `run_id`; 409 once it has ended.
pub async fn cancel(engine: &Engine, run_id: i64, by: &str) -> Result<(), EngineError> {
    let now = now_ms();
    let txn = engine.db.begin().await?;
    let run = lock_run(&txn, run_id)
        .await?
        .ok_or(EngineError::NotFound("run"))?;
    if run.state != RunState::Running.as_str() {
        return Err(EngineError::conflict(
            "state",
            format!("the run has already ended ({})", run.state),
        ));
    }
    step::Entity::update_many()
        .col_expr(
            step::Column::State,
            Expr::value(StepState::Cancelled.as_str()),
        )
        .col_expr(step::Column::FinishedAtMs, Expr::value(now))
        .col_expr(step::Column::LeaseUntilMs, Expr::value(Option::<i64>::None))
        .col_expr(
            step::Column::Message,
            Expr::value(format!("cancelled by {by}")),
        )
        .filter(step::Column::RunId.eq(run_id))
        .filter(
            step::Column::State.is_in([StepState::Queued.as_str(), StepState::Running.as_str()]),
        )
        .exec(&txn)
        .await?;
    let version = run
        .version_id
        .ok_or(EngineError::NotFound("workflow version"))?;
    let workflow = engine.definitions.get(&txn, version).await?;
    advance(&txn, &workflow, &run, Changed::Any).await?;
    txn.commit().await?;
    engine.cancel_local(run_id);
    Ok(())
}

/// Which steps a re-run resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    FailedOnly,
    All,
}

/// Re-runs a finished run in place; returns the tasks reset.
pub async fn rerun(engine: &Engine, run_id: i64, what: Rerun) -> Result<Vec<String>, EngineError> {
    let txn = engine.db.begin().await?;
    let run = lock_run(&txn, run_id)
        .await?
        .ok_or(EngineError::NotFound("run"))?;
    if run.state == RunState::Running.as_str() {
        return Err(EngineError::conflict(
            "state",
            "the run is still running; cancel it first",
        ));
    }
    let version = run
        .version_id
        .ok_or(EngineError::NotFound("workflow version"))?;
    let workflow = engine
        .definitions
        .get(&txn, version)
        .await
        .map_err(|e| match e {
            EngineError::NotFound(_) => {
                EngineError::conflict("workflow", "its workflow was deleted")
            }
            other => other,
        })?;
    let rows = steps_of(&txn, run_id).await?;
    let reset: Vec<String> = match what {
        Rerun::FailedOnly => clear_failed(&plan_steps(&workflow, &rows)),
        Rerun::All => rows.iter().map(|r| r.task.clone()).collect(),
    };
    if reset.is_empty() {
        return Err(EngineError::conflict(
            "state",
            "no step failed; nothing to re-run",
        ));
    }
    let reset_set: BTreeSet<&str> = reset.iter().map(String::as_str).collect();
    let now = now_ms();
    for row in rows.iter().filter(|r| reset_set.contains(r.task.as_str())) {
        let retries = workflow
            .tasks
            .iter()
            .find(|t| t.id == row.task)
            .map_or(0, |t| t.retry.retries);
        step::Entity::update_many()
            .col_expr(step::Column::State, Expr::value(StepState::Queued.as_str()))
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
            .col_expr(step::Column::Outputs, Expr::value(Option::<String>::None))
            .filter(step::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
    }
    run::Entity::update_many()
        .col_expr(run::Column::State, Expr::value(RunState::Running.as_str()))
        .col_expr(run::Column::FinishedAtMs, Expr::value(Option::<i64>::None))
        .filter(run::Column::Id.eq(run_id))
        .exec(&txn)
        .await?;
    let run = run::Model {
        state: RunState::Running.as_str().into(),
        finished_at_ms: None,
        ..run
    };
    let advanced = advance(&txn, &workflow, &run, Changed::Any).await?;
    txn.commit().await?;
    push(engine, advanced.dispatches).await;
    Ok(reset)
}

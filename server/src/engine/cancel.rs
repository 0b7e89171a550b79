//! Cancelling a run: its pending steps cancelled, its running ones killed
//! (here at once, elsewhere on their next heartbeat). Without what follows
//! a run's end (see `control::cancel`), so that concurrency groups can
//! cancel the runs they replace.

use kiln_core::engine::{RunState, StepEvent};
use sea_orm::DatabaseTransaction;
use sea_orm::sea_query::Expr;

use super::Engine;
use super::advance::{Changed, advance};
use super::repo::moves::{StepMove, StepRef, move_steps};
use super::repo::{lock_run, steps_in};
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{run, step};

/// Cancels run `run_id`; the run, when this ended it.
pub(crate) async fn cancel_only(
    engine: &Engine,
    run_id: i64,
    by: &str,
) -> Result<Option<run::Model>, ServiceError> {
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let ended = cancel_in(&txn, engine, run_id, by).await?;
    txn.commit().await?;
    engine.feed.wake();
    engine.cancel_local(run_id);
    Ok(ended)
}

/// Cancels run `run_id` in the caller's transaction; the run, when this
/// ended it. Its steps running here are stopped by the caller after the
/// commit (`Engine::cancel_local`), elsewhere on their next heartbeat.
pub(crate) async fn cancel_in(
    txn: &DatabaseTransaction,
    engine: &Engine,
    run_id: i64,
    by: &str,
) -> Result<Option<run::Model>, ServiceError> {
    let now = now_ms();
    let run = lock_run(txn, run_id)
        .await?
        .ok_or(ServiceError::NotFound("run"))?;
    if run.state != RunState::Running {
        return Err(ServiceError::conflict(
            "state",
            format!("the run has already ended ({})", run.state),
        ));
    }
    let message = format!("cancelled by {by}");
    let cancel = [StepEvent::Cancel];
    // A worker may claim a queued step between the read and the write: it
    // is then running, and the next round cancels it from there.
    for _ in 0..3 {
        let rows = steps_in(txn, run_id, &StepMove::one(&cancel).guard()).await?;
        if rows.is_empty() {
            break;
        }
        let refs: Vec<StepRef<'_>> = rows.iter().map(StepRef::from).collect();
        move_steps(txn, run_id, &refs, StepMove::one(&cancel), now, |update| {
            update
                .col_expr(step::Column::FinishedAtMs, Expr::value(now))
                .col_expr(step::Column::LeaseUntilMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::Message, Expr::value(message.clone()))
        })
        .await?;
    }
    let workflow = engine.definitions.of_run(txn, &run).await?;
    let advanced = advance(txn, &workflow, &run, Changed::Any).await?;
    Ok(advanced.finished.map(|_| run))
}

//! Concurrency groups of pipeline runs (`concurrency:` in a pipeline file):
//! runs of one group in one project do not overlap. A new run either
//! cancels the older running runs of its group (`cancel_in_progress`) or
//! is written without dispatching anything and marked as waiting, as is a
//! re-run while another run of its group runs or waits; when a run of a
//! group ends, the one waiting longest starts. The sweeper asks again now
//! and then, so a run never waits for an end whose follow-up was lost to a
//! crash.

use kiln_core::engine::RunState;
use kiln_core::pipeline::concurrency::next_turn;
use sea_orm::DatabaseTransaction;

use super::advance::{Changed, advance, push};
use super::repo::{groups, lock_run};
use super::{Engine, cancel};
use crate::ServiceError;
use crate::db::entities::run;

/// Runs started per group in one call (a chain of runs that end at once,
/// each with nothing left to run, is followed this far).
const CHAIN: usize = 16;

/// After run `ended` of a group ended: starts the group's next run if
/// one waits.
pub async fn after_end(engine: &Engine, ended: &run::Model) {
    if let Some(group) = &ended.concurrency_group
        && let Err(error) = start_next(engine, ended.project_id, group).await
    {
        tracing::warn!(run = ended.id, %group, %error, "could not start the next run of a concurrency group; the sweeper will");
    }
}

/// Starts the run of `group` waiting longest if none of the group runs;
/// goes on with the next when that one ended at once.
pub async fn start_next(engine: &Engine, project: i64, group: &str) -> Result<(), ServiceError> {
    for _ in 0..CHAIN {
        // Read first: the common case (one runs) takes no lock.
        let running = groups::running_in(&engine.db, project, group).await?;
        if next_turn(&running).is_none() {
            return Ok(());
        }
        let txn = crate::db::write_txn::begin(&engine.db).await?;
        // Decided again under the group's lock (the project's repository
        // row, then the run: the order new runs take): another process may
        // have started a run meanwhile, or a run written just now may have
        // waited longer than the one read above.
        groups::hold(&txn, project).await?;
        let Some(next) = next_turn(&groups::running_in(&txn, project, group).await?) else {
            return Ok(());
        };
        let Some(run) = lock_run(&txn, next).await? else {
            return Ok(());
        };
        if run.state != RunState::Running || run.waiting_since_ms.is_none() {
            return Ok(());
        }
        let definition = engine.definitions.of_run(&txn, &run).await?;
        // Grants may have been revoked while it waited.
        if let Err(error) = super::label_grants::check(&txn, run.project_id, &definition).await {
            drop(txn);
            cancel::cancel_only(engine, run.id, &format!("Kiln ({error})")).await?;
            continue;
        }
        groups::set_waiting(&txn, run.id, None).await?;
        let run = run::Model {
            waiting_since_ms: None,
            ..run
        };
        let advanced = advance(&txn, &definition, &run, Changed::Any).await?;
        txn.commit().await?;
        tracing::info!(run = run.id, %group, "a waiting run of its concurrency group starts");
        push(engine, advanced.dispatches).await;
        if advanced.finished.is_none() {
            return Ok(());
        }
    }
    Ok(())
}

/// The sweeper's look at every group with running runs.
pub async fn start_waiting(engine: &Engine) -> Result<(), ServiceError> {
    for (project, group) in groups::busy(&engine.db).await? {
        // One group's trouble must not hold up the others, nor the sweep.
        if let Err(error) = start_next(engine, project, &group).await {
            tracing::warn!(project, %group, %error, "could not start a waiting run of a concurrency group");
        }
    }
    Ok(())
}

/// Cancels, in the transaction that creates `newer`, the runs of its group
/// it replaces (the caller stops their local steps after the commit).
pub async fn cancel_replaced(
    txn: &DatabaseTransaction,
    engine: &Engine,
    newer: &run::Model,
    older: &[i64],
) -> Result<(), ServiceError> {
    let by = format!(
        "run #{} of concurrency group {}",
        newer.id,
        newer.concurrency_group.as_deref().unwrap_or("")
    );
    for &id in older {
        match cancel::cancel_in(txn, engine, id, &by).await {
            // Ended meanwhile (it was read as running under the same lock,
            // so only by its own last step): nothing to cancel.
            Ok(_) | Err(ServiceError::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

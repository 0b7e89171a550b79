//! Closing a run once nothing in it is left to run, after the end that
//! left it open has committed; and the run's directory of step places,
//! removed as it closes.
//!
//! Why no run is left open: an end that neither closes its run nor starts
//! anything (a leaf's end, which takes no run lock, or an end under the
//! lock that found steps still running) reads again, after its own commit,
//! whether any step is queued or running, and if none is, closes the run
//! under the lock ([`close_if_over`]). Of the ends that each saw another
//! still running, the one that committed last reads after every other
//! commit, so it sees them all done. Two ends that both find nothing left
//! both try the close, which is guarded on the run's state: one closes it.
//! The sweeper closes any run left open all the same (an end whose commit
//! answered with an error).

use kiln_core::engine::RunState;

use super::Engine;
use super::advance::{Changed, advance, push};
use super::definitions::Definition;
use super::repo::{has_pending, lock_run};
use super::until_reachable::until_reachable;
use crate::ServiceError;

/// The run's parent directory of step directories, now empty (a directory
/// still in use elsewhere is not empty and stays). Removed before the
/// run's end commits: whoever sees the run end finds nothing left.
pub async fn remove_run_dir(engine: &Engine, run_id: i64) {
    let _ = tokio::fs::remove_dir(engine.settings.work_dir.join(run_id.to_string())).await;
}

/// [`close_when_reachable`] after an end that is committed whatever the
/// close does: a close that fails otherwise is left to the sweeper.
pub async fn close_after(engine: &Engine, workflow: &Definition, run_id: i64) {
    if let Err(error) = close_when_reachable(engine, workflow, run_id).await {
        tracing::warn!(run = run_id, %error, "could not close a run; the sweeper will");
    }
}

/// [`close_if_over`], retried while the database is unreachable: for the
/// worker whose end is committed (a retry of the end would find it
/// written and close nothing). The sweeper does not wait: a run it leaves
/// open is found again by its next sweep.
pub async fn close_when_reachable(
    engine: &Engine,
    workflow: &Definition,
    run_id: i64,
) -> Result<(), ServiceError> {
    until_reachable(engine, "close a run", || {
        close_if_over(engine, workflow, run_id)
    })
    .await
}

/// After an end that left run `run_id` open and started nothing, and
/// after its commit: closes the run if no step is queued or running any
/// more, under its lock.
pub async fn close_if_over(
    engine: &Engine,
    workflow: &Definition,
    run_id: i64,
) -> Result<(), ServiceError> {
    if has_pending(&engine.db, run_id).await? {
        return Ok(());
    }
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let Some(run) = lock_run(&txn, run_id).await? else {
        return Ok(());
    };
    // Again under the lock: meanwhile another end may have closed the run,
    // and a re-run reopened it (waiting for its group, say), which this
    // must not start.
    if run.state != RunState::Running
        || run.waiting_since_ms.is_some()
        || has_pending(&txn, run_id).await?
    {
        return Ok(());
    }
    let advanced = advance(&txn, workflow, &run, Changed::Any).await?;
    if advanced.finished.is_some() {
        remove_run_dir(engine, run_id).await;
    }
    txn.commit().await?;
    push(engine, advanced.dispatches).await;
    if advanced.finished.is_some() {
        super::groups::after_end(engine, &run).await;
    }
    Ok(())
}

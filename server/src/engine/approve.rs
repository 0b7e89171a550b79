//! A maintainer's approval of a run of a pull request from a fork. Until
//! then its steps get none of the project's secrets (a step that asks for
//! one fails, saying why); from then on they do. Approving a run that has
//! ended re-runs its failed steps and what follows them, so the steps that
//! needed secrets run with them.

use kiln_core::engine::RunState;

use super::Engine;
use super::checkout::commit_of;
use super::control::{Rerun, rerun};
use super::repo::{self, approvals};
use crate::ServiceError;
use crate::clock::now_ms;

/// Approves run `run_id` on behalf of `user` (whose right to do so the
/// caller has checked), if it is a run of `expected` when that is given:
/// what was reviewed is what gets the secrets, not a commit pushed since.
/// 409 for a run not from a fork, of another commit, or approved before.
pub async fn approve(
    engine: &Engine,
    run_id: i64,
    user: i64,
    expected: Option<&str>,
) -> Result<(), ServiceError> {
    let run = repo::run(&engine.db, run_id)
        .await?
        .ok_or(ServiceError::NotFound("run"))?;
    let Some(commit) = commit_of(&run).filter(|c| c.from_fork) else {
        return Err(ServiceError::conflict(
            "run",
            "only a run of a pull request from a fork waits for approval",
        ));
    };
    if let Some(expected) = expected
        && !expected.eq_ignore_ascii_case(&commit.sha)
    {
        return Err(ServiceError::conflict(
            "commit",
            // The given text is not echoed back: it is the caller's.
            format!(
                "this run is of commit {}, not the one given: review that one first",
                commit.sha
            ),
        ));
    }
    let now = now_ms();
    if !approvals::approve(&engine.db, run_id, user, now).await? {
        return Err(ServiceError::conflict("run", "the run is already approved"));
    }
    // Read again: a run still going picks the approval up at its next
    // step; one that has ended re-runs what failed.
    let ended = repo::run(&engine.db, run_id)
        .await?
        .map(|r| r.state)
        .is_some_and(|s| s != RunState::Running);
    if ended {
        match rerun(engine, run_id, Rerun::FailedOnly).await {
            // Nothing failed, or the run was re-run meanwhile.
            Ok(_) | Err(ServiceError::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

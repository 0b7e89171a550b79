//! Engine writes that must land once the database is back: a step's end
//! (its real outcome, not "worker lost" after an outage) and the close of
//! a run that the end left to its last step. Retried while the database is
//! unreachable, with a growing pause that stays well within a lease: once
//! the database is back, the sweepers wait one lease before judging.

use std::future::Future;
use std::time::Duration;

use super::Engine;
use crate::ServiceError;
use crate::db::outage::is_unreachable;

/// Runs `write` until it succeeds or fails for another reason than an
/// unreachable database; `what` names it in the log.
pub async fn until_reachable<T, F, W>(
    engine: &Engine,
    what: &str,
    mut write: W,
) -> Result<T, ServiceError>
where
    W: FnMut() -> F,
    F: Future<Output = Result<T, ServiceError>>,
{
    let mut pause = Duration::from_millis(250);
    loop {
        match write().await {
            Err(ServiceError::Database(error)) if is_unreachable(&error) => {
                tracing::warn!(%error, ?pause, "cannot {what} yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(engine.settings.lease / 4);
            }
            other => return other,
        }
    }
}

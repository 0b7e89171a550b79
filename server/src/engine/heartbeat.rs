//! A running step's heartbeat: renews its lease every `heartbeat`, and when
//! the renewal finds the step no longer running under this attempt (it was
//! cancelled, or declared lost), pulls the step's cancel switch so the
//! process is killed within one beat.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Engine;
use super::repo::leases;
use crate::clock::now_ms;

/// Why a heartbeat stopped by itself (it is aborted when the step ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The step was cancelled, or was ended elsewhere.
    Cancelled,
    /// The database could not be reached for a whole lease: the step was
    /// stopped, and is recorded as lost (retried if it may be).
    LeaseLost,
}

/// Runs until aborted, or until the step is taken away.
pub async fn keep_alive(
    engine: Arc<Engine>,
    step_id: i64,
    attempt: i32,
    cancel: CancellationToken,
) -> Stopped {
    let lease_ms = i64::try_from(engine.settings.lease.as_millis()).unwrap_or(i64::MAX / 2);
    let mut every = tokio::time::interval(engine.settings.heartbeat);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    let mut renewed_at = std::time::Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Stopped::Cancelled,
            _ = every.tick() => {}
        }
        let renewed = leases::renew(&engine.db, step_id, attempt, now_ms() + lease_ms).await;
        match renewed {
            Ok(false) => {
                tracing::info!(
                    step = step_id,
                    attempt,
                    "step no longer ours (cancelled or lost); stopping it"
                );
                cancel.cancel();
                return Stopped::Cancelled;
            }
            Ok(true) => renewed_at = std::time::Instant::now(),
            // The lease has slack for a few missed beats; past it the step
            // may be someone else's (a sweeper that still reaches the
            // database retries or fails it), so this copy stops rather
            // than run twice. A step that ended before is recorded with
            // its real outcome once the database is back.
            Err(error) => {
                tracing::warn!(step = step_id, %error, "could not renew a step's lease");
                if renewed_at.elapsed() >= engine.settings.lease {
                    tracing::warn!(step = step_id, "lease lost; stopping the step");
                    cancel.cancel();
                    return Stopped::LeaseLost;
                }
            }
        }
    }
}

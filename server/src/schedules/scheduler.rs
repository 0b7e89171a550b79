//! The scheduler loop every `kiln serve` runs (no leader: any number of
//! servers on one database each run it, and the claim in a pass makes each
//! instant fire once). It sleeps until the earliest instant any schedule
//! waits for (at most a second, so another server's new schedule is seen
//! in time; a change made here wakes it at once), then handles what is
//! due, a few schedules at a time.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{fire, store};
use crate::clock::now_ms;
use crate::engine::Engine;

/// Due schedules read per round.
const BATCH: u64 = 200;
/// Passes handled at once (each is its own short transaction).
const PARALLEL: usize = 4;
/// The longest sleep between rounds.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);
/// How often the gauge of active schedules is refreshed.
const GAUGE_EVERY_MS: i64 = 10_000;
/// How often old firings are deleted (and at start).
const PRUNE_EVERY_MS: i64 = 600_000;

pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken) {
    let mut gauge_at = 0;
    let mut prune_at = 0;
    loop {
        let now = now_ms();
        let handled = round(&engine, now).await;
        if now >= prune_at {
            prune_at = now + PRUNE_EVERY_MS;
            prune(&engine).await;
        }
        if now >= gauge_at {
            gauge_at = now + GAUGE_EVERY_MS;
            if let Ok(active) = store::active_count(&engine.db).await {
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!("kiln_schedules_active").set(active as f64);
            }
        }
        let pause = match handled {
            // A pass failed (the database, most likely): not again at once.
            Ok(Round { failed: true, .. }) => LONGEST_SLEEP,
            // A full batch: more may be due right away.
            Ok(Round { due, .. }) if due as u64 >= BATCH => Duration::ZERO,
            Ok(_) => match store::earliest(&engine.db).await {
                Ok(Some(at)) => {
                    let wait = u64::try_from(at - now_ms()).unwrap_or(0);
                    Duration::from_millis(wait).min(LONGEST_SLEEP)
                }
                Ok(None) => LONGEST_SLEEP,
                Err(error) => {
                    tracing::warn!(%error, "scheduler: cannot read the next instant");
                    LONGEST_SLEEP
                }
            },
            Err(error) => {
                tracing::warn!(%error, "scheduler: cannot read due schedules");
                LONGEST_SLEEP
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = engine.schedules_changed.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

struct Round {
    due: usize,
    failed: bool,
}

/// Handles every schedule due now (at most a batch).
async fn round(engine: &Engine, now: i64) -> Result<Round, sea_orm::DbErr> {
    let mut due = store::due(&engine.db, now, BATCH).await?;
    let count = due.len();
    if count == 0 {
        return Ok(Round {
            due: 0,
            failed: false,
        });
    }
    // Servers reading the same rows start at different places, so they
    // mostly claim different schedules instead of queueing on the same.
    let start = usize::try_from(std::process::id()).unwrap_or(0) % count;
    due.rotate_left(start);
    let failed = std::sync::atomic::AtomicBool::new(false);
    futures::stream::iter(due)
        .for_each_concurrent(PARALLEL, |row| {
            let failed = &failed;
            async move {
                if let Err(error) = fire::pass(engine, &row, now_ms()).await {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(schedule = row.id, %error, "schedule pass failed; it is tried again");
                }
            }
        })
        .await;
    Ok(Round {
        due: count,
        failed: failed.into_inner(),
    })
}

/// Keeps the newest firings of each schedule (`schedule_firings_kept`).
async fn prune(engine: &Engine) {
    let keep = engine.settings.schedule_firings_kept;
    let crowded = match store::crowded(&engine.db, keep, keep / 10).await {
        Ok(ids) => ids,
        Err(error) => {
            tracing::warn!(%error, "scheduler: cannot count firings");
            return;
        }
    };
    for id in crowded {
        if let Err(error) = store::prune(&engine.db, id, keep).await {
            tracing::warn!(schedule = id, %error, "scheduler: cannot delete old firings");
        }
    }
}

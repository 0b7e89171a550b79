//! The engine's safety net, run by every Kiln process once a second:
//! running steps whose lease ran out (their worker died or lost the
//! database) are retried or failed with a message saying so; dispatched
//! steps whose job never arrived are pushed again (only when no live job of
//! theirs is in the queue: a step waiting in a long queue keeps its one
//! job); a run whose steps are all over but which was not closed is
//! closed; a run waiting for its concurrency group starts when its turn
//! came; and the queue depth gauge is refreshed. Every minute (and at start) the working files of
//! attempts whose process died are removed. Every write is conditional, so
//! several processes sweeping at once change each row once.
//!
//! After the database was unreachable, no lease is judged until one lease
//! period has passed with the database back: every worker's heartbeat
//! renews its steps' leases first, so a database outage does not make
//! running steps look lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_core::engine::AttemptEnd;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::finish::{Ended, Recorder, finish};
use super::repo::{self, leases};
use super::run_close::close_if_over;
use crate::ServiceError;
use crate::clock::now_ms;
use crate::jobs::steps::StepJob;

const EVERY: Duration = Duration::from_secs(1);
/// A dispatched step still queued this long after its due time has lost its
/// job (a push that failed, or a crash between commit and push).
const LOST_JOB_AFTER_MS: i64 = 10 * 60 * 1000;
const BATCH: u64 = 100;
/// Sweeps between two looks for lost attempts' working files.
const LEFTOVERS_EVERY: u32 = 60;

pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    let mut judge_leases_after: Option<Instant> = None;
    let mut failing = false;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        // Not while failing: the first sweep after an outage must not judge
        // leases that nobody could renew.
        let judge_leases = !failing && judge_leases_after.is_none_or(|at| Instant::now() >= at);
        match sweep(&engine, judge_leases).await {
            Ok(()) if failing => {
                failing = false;
                judge_leases_after = Some(Instant::now() + engine.settings.lease);
                tracing::info!("database back; judging leases again after one lease period");
            }
            Ok(()) => {}
            Err(error) => {
                failing = true;
                tracing::warn!(%error, "engine sweep failed");
            }
        }
        if ticks.is_multiple_of(LEFTOVERS_EVERY)
            && let Err(error) = super::leftovers::remove(&engine).await
        {
            tracing::warn!(%error, "could not look for lost attempts' files");
        }
        ticks = ticks.wrapping_add(1);
    }
}

/// One pass; public so tests can drive it. `judge_leases` false skips
/// declaring steps lost (just after an outage).
pub async fn sweep(engine: &Engine, judge_leases: bool) -> Result<(), ServiceError> {
    let now = now_ms();
    let expired = if !judge_leases {
        Vec::new()
    } else {
        leases::expired(&engine.db, now, BATCH).await?
    };
    for row in expired {
        let worker = row.worker.clone().unwrap_or_else(|| "?".into());
        tracing::warn!(step = row.id, run = row.run_id, %worker, "step lease expired; its worker is lost");
        let ended = Ended {
            end: AttemptEnd::WorkerLost { worker },
            exit_code: None,
            outputs: Default::default(),
        };
        // One bad row must not stop the sweep of the others.
        if let Err(error) = finish(engine, &row, ended, Some(now), Recorder::Sweeper).await {
            tracing::error!(step = row.id, %error, "could not record a lost step");
        }
    }

    let stale = now - LOST_JOB_AFTER_MS;
    let lost = leases::dispatched_before(&engine.db, stale, BATCH).await?;
    for row in lost {
        if leases::redispatch(&engine.db, &row, now).await? {
            // Still waiting in a long queue: it keeps its one job.
            if engine
                .queue
                .live_step_jobs(&row.queue, row.id, row.attempt)
                .await?
                > 0
            {
                continue;
            }
            tracing::warn!(step = row.id, "step's job went missing; pushing it again");
            let job = StepJob {
                step_id: row.id,
                attempt: row.attempt,
                due_at_ms: now,
            };
            if let Err(error) = engine.queue.push_step(&row.queue, job, None).await {
                tracing::error!(step = row.id, %error, "could not push a step's job again");
            }
        }
    }

    // A run whose last step ended but whose close was lost (the end's
    // commit answered with an error, a crash between the two).
    for run in repo::over_but_open(&engine.db, BATCH).await? {
        // One bad run must not stop the sweep of the others.
        let closed = match engine.definitions.of_run(&engine.db, &run).await {
            Ok(workflow) => close_if_over(engine, &workflow, run.id).await,
            Err(error) => Err(error),
        };
        if let Err(error) = closed {
            tracing::error!(run = run.id, %error, "could not close a run left open");
        }
    }

    // A run waiting for its concurrency group whose turn came while its
    // follow-up was lost (a crash between a run's end and the next start).
    super::groups::start_waiting(engine).await?;

    let depth = leases::queue_depth(&engine.db).await?;
    metrics::gauge!("kiln_queue_depth").set(depth as f64);
    Ok(())
}

//! One step job, start to end: claim the step (only a queued step of this
//! attempt can be claimed, so duplicate or stale jobs do nothing), gather
//! its inputs, run it under a heartbeat with its log streaming to storage,
//! then record the end and move the run forward in one transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_core::engine::mask::Masker;
use kiln_core::engine::{AttemptEnd, StepEvent, StepState};
use kiln_core::workflow::prepare::{Prepared, prepare};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use super::finish::{Ended, Recorded, Recorder, finish};
use super::http_step::{self, HttpRequest};
use super::logs::StepLog;
use super::repo::moves::{StepMove, move_step_alone};
use super::slots::{self, Slot};
use super::step_logs::{AttemptLog, SHORT_LOG_MAX};
use super::until_reachable::until_reachable;
use super::{Engine, heartbeat, repo, run_shell, step_inputs};
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{run, step};
use crate::db::outage::is_unreachable;
use crate::jobs::steps::StepJob;

/// Whether step `row` still waits for `job` (a stale or duplicate job's
/// step has moved on).
fn waits_for(row: &step::Model, job: &StepJob) -> bool {
    row.attempt == job.attempt && row.state == StepState::Queued
}

/// Takes step `row` (read before the wait for a slot) for `job`, with its
/// start event; returns its row as taken. The write is guarded on the
/// state and attempt read, so a step that moved on meanwhile is not taken.
/// Once this process shuts down, hands the job back to its queue instead:
/// it may have waited for its slot into the shutdown.
async fn claim(
    engine: &Engine,
    row: step::Model,
    job: &StepJob,
    now: i64,
    lease_ms: i64,
) -> Result<Option<step::Model>, ServiceError> {
    if engine.is_draining() {
        if hand_back(engine, job).await? {
            tracing::info!(
                step = row.id,
                "shutting down; step handed back to its queue"
            );
        }
        return Ok(None);
    }
    let start = [StepEvent::Start];
    let worker = engine.settings.worker_name.clone();
    let taken = move_step_alone(&engine.db, &row, StepMove::one(&start), now, |update| {
        update
            .col_expr(step::Column::StartedAtMs, Expr::value(now))
            .col_expr(step::Column::Worker, Expr::value(worker.clone()))
            .col_expr(step::Column::LeaseUntilMs, Expr::value(now + lease_ms))
            .filter(step::Column::DispatchedAtMs.is_not_null())
    })
    .await?;
    if !taken {
        return Ok(None);
    }
    engine.feed.wake();
    Ok(Some(step::Model {
        state: StepState::Running,
        started_at_ms: Some(now),
        worker: Some(worker),
        lease_until_ms: Some(now + lease_ms),
        ..row
    }))
}

/// Puts `job` back in `queue` as a new job. A new push: a job's key names
/// when it was pushed, and the key of the job being run stays taken until
/// it is acknowledged. It keeps its place in the queue: it is runnable
/// from its first due time (to the second), so a job handed back again
/// and again is not overtaken by every job pushed after it.
async fn push_again(
    engine: &Engine,
    queue: &str,
    job: &StepJob,
    now: i64,
) -> Result<(), ServiceError> {
    let place = u64::try_from(job.due_at_ms.min(now) / 1000).unwrap_or(0);
    let again = StepJob {
        due_at_ms: now,
        ..job.clone()
    };
    Ok(engine.queue.push_step(queue, again, Some(place)).await?)
}

/// The step of `job`, if it still waits for this attempt, goes back to
/// its queue for any process with a free slot (read again: the job may
/// have waited a while). Returns whether it did.
async fn hand_back(engine: &Engine, job: &StepJob) -> Result<bool, ServiceError> {
    let Some((row, _)) = repo::step_and_run(&engine.db, job.step_id).await? else {
        return Ok(false);
    };
    if !waits_for(&row, job) {
        return Ok(false);
    }
    push_again(engine, &row.queue, job, now_ms()).await?;
    Ok(true)
}

/// Runs the step of `job` if it is still waiting for this attempt, then
/// each step its end hands this worker (see `finish::Recorded::next`).
pub async fn execute(engine: &Arc<Engine>, job: &StepJob) -> Result<(), ServiceError> {
    let mut next = execute_one(engine, job).await?;
    while let Some((queue, job)) = next {
        // Shutting down since the hand-over: its claim hands it back.
        next = match execute_one(engine, &job).await {
            Ok(next) => next,
            Err(error) => {
                // It may not even be claimed: its job goes to the queue
                // (a stale one if it was, which does nothing).
                if let Err(error) = engine.queue.push_step(&queue, job, None).await {
                    tracing::warn!(%error, "could not push a handed-over step's job; the sweeper will");
                }
                return Err(error);
            }
        };
    }
    Ok(())
}

/// One step: claim and run it in one of this process's slots, then
/// record its end outside it. Returns the step handed over to this worker
/// by its end, with its queue.
async fn execute_one(
    engine: &Arc<Engine>,
    job: &StepJob,
) -> Result<Option<(String, StepJob)>, ServiceError> {
    // Read before the wait for a slot, so a slot is held for the claim's
    // write and the process only, and a stale job takes none. The run is
    // read with the step, before the claim: once the step is ours, a
    // database outage before its process starts would leave it running
    // with nobody to finish it (its job failed) until its lease ran out.
    let read = repo::step_and_run(&engine.db, job.step_id).await?;
    let Some((row, run)) = read.filter(|(row, _)| waits_for(row, job)) else {
        tracing::debug!(
            step = job.step_id,
            attempt = job.attempt,
            "stale step job; nothing to do"
        );
        return Ok(None);
    };
    let Some(mut slot) = engine.slots.take_within(slots::LONGEST_WAIT).await? else {
        if hand_back(engine, job).await? {
            tracing::debug!(
                step = row.id,
                "every slot busy; step handed back to its queue"
            );
        }
        // Held until then, this job's worker fetches nothing: what it
        // handed back is for a process with a free slot.
        engine.slots.until_free().await;
        return Ok(None);
    };
    let now = now_ms();
    let lease_ms = i64::try_from(engine.settings.lease.as_millis()).unwrap_or(i64::MAX / 2);
    let Some(row) = claim(engine, row, job, now, lease_ms).await? else {
        tracing::debug!(
            step = job.step_id,
            attempt = job.attempt,
            "step moved on while its job waited for a slot; nothing to do"
        );
        return Ok(None);
    };
    metrics::histogram!("kiln_job_wait_seconds")
        .record((now - job.due_at_ms).max(0) as f64 / 1000.0);
    // The slot goes back when the step's process (or request) has ended,
    // which is the step's recorded end.
    let Attempted { ended, mut log } = match attempt(engine, &run, &row, &mut slot).await {
        Ok(attempted) => attempted,
        Err(error) => Attempted {
            ended: could_not_run(&row, &error),
            log: None,
        },
    };
    let ended_at_ms = slot.given_back_at_ms();
    // A short log of an end that finishes the step goes in its row, with
    // the end. Otherwise its last bytes are written outside the slot, but
    // before the end is recorded: whoever sees the step ended finds its
    // whole log.
    let finishes = row.retries_left <= 0 || ended.end == AttemptEnd::Succeeded;
    let ended = match log.as_mut() {
        Some(log) if finishes && log.short(SHORT_LOG_MAX).is_some() => ended,
        Some(log) => match log.flush().await {
            Ok(()) => ended,
            Err(error) => could_not_run(&row, &error.into()),
        },
        None => ended,
    };
    // Once flushed, a log is not short any more.
    let short_log = log
        .as_ref()
        .and_then(|log| log.short(SHORT_LOG_MAX))
        .map(<[u8]>::to_vec);
    let recorder = |short_log| Recorder::Worker {
        ended_at_ms,
        short_log,
        run: &run,
    };
    let first = finish(
        engine,
        &row,
        ended.clone(),
        None,
        recorder(short_log.as_deref()),
    )
    .await;
    let (recorded, in_memory) = match first {
        Err(ServiceError::Database(error)) if is_unreachable(&error) => {
            // The database may stay away a while: the log goes to the
            // storage now rather than live in this process only.
            if short_log.is_some()
                && let Some(log) = log.as_mut()
            {
                write_log(&row, log).await;
            }
            (record_end(engine, &row, ended, recorder(None)).await, false)
        }
        other => (other, short_log.is_some()),
    };
    if in_memory
        && !recorded.as_ref().is_ok_and(|r| r.log_kept)
        && let Some(log) = log.as_mut()
    {
        // Not kept: the end was not this attempt's to record (a cancel or
        // a sweeper got there first), it went back for a retry, or it
        // could not be recorded.
        write_log(&row, log).await;
    }
    // Only now: a shutdown waits for this process's steps to be recorded.
    engine.untrack(row.id);
    Ok(recorded?.next.map(|job| (row.queue, job)))
}

fn could_not_run(row: &step::Model, error: &ServiceError) -> Ended {
    tracing::warn!(step = row.id, %error, "step could not run");
    Ended::failed(format!("Kiln could not run this step: {error}"))
}

/// Writes what `log` holds to the log storage; a failure only warns.
async fn write_log(row: &step::Model, log: &mut StepLog<'_>) {
    if let Err(error) = log.flush().await {
        tracing::warn!(step = row.id, %error, "could not write a step's log");
    }
}

/// Records the attempt's end, retrying while the database is unreachable:
/// a step that finished during an outage keeps its real outcome instead of
/// being found "lost" later.
async fn record_end(
    engine: &Engine,
    row: &step::Model,
    ended: Ended,
    recorder: Recorder<'_>,
) -> Result<Recorded, ServiceError> {
    until_reachable(engine, "record a step's end", || {
        finish(engine, row, ended.clone(), None, recorder)
    })
    .await
}

/// How an attempt ended, and its log (if it got one) with its last bytes
/// still to write.
struct Attempted<'a> {
    ended: Ended,
    log: Option<StepLog<'a>>,
}

/// Loads what the step needs and runs it in `slot`, given back as soon
/// as its process (or request) has ended: reading its outputs, releasing
/// its place and the rest happen outside it.
async fn attempt<'a>(
    engine: &'a Arc<Engine>,
    run: &run::Model,
    row: &step::Model,
    slot: &mut Slot<'_>,
) -> Result<Attempted<'a>, ServiceError> {
    let workflow = engine.definitions.of_run(&engine.db, run).await?;
    let Some(task) = workflow.task(&row.task) else {
        return Ok(Attempted {
            ended: Ended::failed(format!("task {} is not in the run's definition", row.task)),
            log: None,
        });
    };
    let inputs = step_inputs::inputs(engine, run, row, &workflow, task).await?;
    let masker = Masker::new(inputs.secrets.values());
    let key = AttemptLog {
        run_id: run.id,
        step_id: row.id,
        attempt: row.attempt,
    }
    .key()?;
    let mut log = StepLog::new(
        engine.logs.as_ref(),
        key,
        masker.clone(),
        engine.settings.log_cap_bytes,
    );
    log.note(&format!(
        "{} attempt {} on {}",
        task.id, row.attempt, engine.settings.worker_name
    ))
    .await?;
    // Templates are the author's code: they render off the async threads,
    // bounded in work and size by the domain. A small task without a
    // template tag is prepared here, without a thread's round trip.
    let rendered = if !step_inputs::cheap_to_prepare(task, &inputs) {
        let (workflow, id) = (workflow.clone(), task.id.clone());
        tokio::task::spawn_blocking(move || match workflow.task(&id) {
            Some(task) => prepare(&workflow, task, &inputs),
            None => Err(format!("task {id} is not in the run's workflow version")),
        })
        .await
        .unwrap_or_else(|e| Err(format!("the templates could not be rendered: {e}")))
    } else {
        prepare(&workflow, task, &inputs)
    };
    let prepared = match rendered {
        Ok(prepared) => prepared,
        Err(message) => {
            log.note(&message).await?;
            return Ok(Attempted {
                ended: Ended::failed(message),
                log: Some(log),
            });
        }
    };

    let cancel = CancellationToken::new();
    engine.track(row.id, run.id, cancel.clone());
    let beat = tokio::spawn(heartbeat::keep_alive(
        engine.clone(),
        row.id,
        row.attempt,
        cancel.clone(),
    ));
    let result = match prepared {
        Prepared::Shell { command, env } => {
            run_shell::run(
                engine, run, row, &workflow, task, command, env, &mut log, &cancel, slot,
            )
            .await
        }
        Prepared::Http {
            method,
            url,
            headers,
            body,
            expect,
            timeout,
        } => {
            let request = HttpRequest {
                method,
                url,
                headers,
                body,
                expect,
                timeout,
            };
            let called = http_step::call(&engine.http, &request, &mut log, &cancel).await;
            slot.give_back();
            called
                .map(|r| Ended {
                    end: r.end,
                    exit_code: r.status,
                    outputs: r.outputs,
                })
                .map_err(ServiceError::from)
        }
    };
    beat.abort();
    let lease_lost = matches!(beat.await, Ok(heartbeat::Stopped::LeaseLost));
    // Stopped by this process's shutdown: handed back. Only an attempt that
    // really was cut off; one that ended by itself keeps its outcome. (A
    // user's cancel has already ended the step's row, which this cannot
    // change.)
    let cut_off = result.as_ref().is_ok_and(Ended::was_cancelled);
    let result = if lease_lost && cut_off {
        // Its lease ran out while the database was unreachable: lost, like
        // a dead worker's step (retried if it may be), not a failure.
        Ok(Ended {
            end: AttemptEnd::WorkerLost {
                worker: engine.settings.worker_name.clone(),
            },
            exit_code: None,
            outputs: BTreeMap::new(),
        })
    } else if engine.is_stopping() && cut_off {
        Ok(Ended {
            end: AttemptEnd::StoppedByShutdown {
                worker: engine.settings.worker_name.clone(),
            },
            exit_code: None,
            outputs: BTreeMap::new(),
        })
    } else {
        result
    };
    // The message and outputs are shown to every viewer: no secret in them.
    let ended = mask_ended(result?, &masker);
    let summary = match &ended.end {
        AttemptEnd::Succeeded => "succeeded".to_owned(),
        AttemptEnd::Failed { message, .. } => format!("failed: {message}"),
        AttemptEnd::TimedOut => "timed out; killed".to_owned(),
        AttemptEnd::WorkerLost { .. } => "worker lost".to_owned(),
        AttemptEnd::StoppedByShutdown { .. } => "stopped by shutdown".to_owned(),
    };
    log.note(&summary).await?;
    Ok(Attempted {
        ended,
        log: Some(log),
    })
}

fn mask_ended(mut ended: Ended, masker: &Masker) -> Ended {
    let mask = |text: &str| String::from_utf8_lossy(&masker.mask(text.as_bytes())).into_owned();
    if let AttemptEnd::Failed { message, .. } = &mut ended.end {
        *message = mask(message);
    }
    for value in ended.outputs.values_mut() {
        *value = mask(value);
    }
    ended
}

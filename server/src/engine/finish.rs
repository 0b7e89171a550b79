//! Recording how an attempt ended and what follows, in one transaction under
//! the run lock: the step finishes (or goes back to the queue for a retry),
//! then the run advances. Only the attempt that holds the step may write:
//! a cancelled step or one already declared lost stays as it is.

use std::collections::BTreeMap;

use kiln_core::engine::{AttemptEnd, Next, StepEvent, StepState, after_attempt};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

use super::advance::{Changed, Dispatch, advance, push};
use super::definitions::Definition;
use super::repo::lock_run;
use super::repo::moves::{StepMove, StepRef, StepUpdate, move_leaf_alone, move_steps};
use super::repo::short_logs;
use super::{Engine, run_close};
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{run, step};
use crate::jobs::steps::StepJob;

/// The end of one attempt as the worker saw it.
#[derive(Debug, Clone)]
pub struct Ended {
    pub end: AttemptEnd,
    pub exit_code: Option<i32>,
    pub outputs: BTreeMap<String, String>,
}

/// The message of an attempt stopped by a cancel (a user's, a lost
/// lease's, or a shutdown's).
pub const CANCELLED: &str = "cancelled";

impl Ended {
    /// Its process or request was stopped before it ended by itself.
    pub fn cancelled() -> Self {
        Ended::failed(CANCELLED.to_owned())
    }

    pub fn was_cancelled(&self) -> bool {
        matches!(&self.end, AttemptEnd::Failed { code: None, message } if message == CANCELLED)
    }

    pub fn failed(message: String) -> Self {
        Ended {
            end: AttemptEnd::Failed {
                code: None,
                message,
            },
            exit_code: None,
            outputs: BTreeMap::new(),
        }
    }
}

/// Longest message kept on a step.
const MESSAGE_CHARS: usize = 1000;

fn clip(message: &str) -> String {
    message.chars().take(MESSAGE_CHARS).collect()
}

/// Who records an end, and so what may happen to the steps it starts.
#[derive(Debug, Clone, Copy)]
pub enum Recorder<'a> {
    /// The worker that ran the step: it may run one started step itself.
    /// The step ended when its process did, which may be a little before
    /// this records it (after its slot went to the next step), or long
    /// before (after a database outage). With `short_log`, the attempt's
    /// whole log, to keep in the step's row if this end finishes the step.
    /// `run`: the step's run as the worker read it (for its definition).
    Worker {
        ended_at_ms: i64,
        short_log: Option<&'a [u8]>,
        run: &'a run::Model,
    },
    /// The sweeper: every started step goes to its queue.
    Sweeper,
}

/// What recording an end did.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Whether anything was written.
    pub written: bool,
    /// Whether the worker's short log was kept in the step's row (else it
    /// belongs in the log storage).
    pub log_kept: bool,
    /// A step this end started, due now on the finished step's queue, for
    /// the worker to run next instead of pushing its job: its dispatch is
    /// committed, its job never stored, and no other worker can take it.
    /// A chain then goes from step to step without the queue's round trip
    /// (store, wake, fetch, lock). Should the worker die before claiming
    /// it, the sweeper pushes its job, as for any push that failed.
    pub next: Option<StepJob>,
}

/// Records `ended` for the attempt of `row`, the step as its worker (or
/// the sweeper) last read it, running. The write is guarded on that state
/// and attempt, so a step cancelled or declared lost meanwhile stays as it
/// is; the row is not read again. With `lease_expired_before`, only if its
/// lease ran out before then (the sweeper's guard against a heartbeat that
/// just arrived). A worker's end that finishes a task nothing needs takes
/// no run lock (`record_leaf`); every other end is decided under it, and
/// one that leaves the run open without starting anything looks again
/// after its commit whether the run is over.
pub async fn finish(
    engine: &Engine,
    row: &step::Model,
    ended: Ended,
    lease_expired_before: Option<i64>,
    recorder: Recorder<'_>,
) -> Result<Recorded, ServiceError> {
    if row.state != StepState::Running {
        return Ok(Recorded::default());
    }
    let (now, short_log) = match recorder {
        Recorder::Worker {
            ended_at_ms,
            short_log,
            run,
        } => {
            let workflow = engine.definitions.of_run(&engine.db, run).await?;
            let next = next_of(&workflow, row, &ended);
            if workflow.is_leaf(&row.task) && matches!(next, Next::Finish { .. }) {
                let end = End {
                    row,
                    ended: &ended,
                    next: &next,
                    now: ended_at_ms,
                    short_log,
                };
                return record_leaf(engine, run, &workflow, end).await;
            }
            (ended_at_ms, short_log)
        }
        Recorder::Sweeper => (now_ms(), None),
    };
    let (run_id, step_id, attempt) = (row.run_id, row.id, row.attempt);
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let Some(run) = lock_run(&txn, run_id).await? else {
        return Ok(Recorded::default());
    };
    let workflow = engine.definitions.of_run(&txn, &run).await?;
    let next = next_of(&workflow, row, &ended);

    let mut dispatches = Vec::new();
    let ending = [ended.end.event()];
    let retried = [ended.end.event(), StepEvent::Retry];
    let change = match &next {
        Next::Finish { .. } => StepMove::one(&ending),
        Next::Retry { delay, .. } => {
            let due = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 4);
            dispatches.push(Dispatch {
                queue: row.queue.clone(),
                job: StepJob {
                    step_id,
                    attempt: attempt + 1,
                    due_at_ms: due,
                },
                // apalis schedules in whole seconds: round up, never early.
                run_at: (due > now).then(|| u64::try_from((due + 999) / 1000).unwrap_or(0)),
            });
            StepMove {
                events: &retried,
                next_attempt: Some(attempt + 1),
            }
        }
    };
    let end = End {
        row,
        ended: &ended,
        next: &next,
        now,
        short_log,
    };
    let due = dispatches.first().map(|d| d.job.due_at_ms);
    let moved = move_steps(&txn, run_id, &[StepRef::from(row)], change, now, |update| {
        end.columns(update, lease_expired_before, due)
    })
    .await?;
    if moved.is_empty() {
        return Ok(Recorded::default());
    }
    let advanced = advance(&txn, &workflow, &run, Changed::Task(&row.task)).await?;
    if advanced.finished.is_some() {
        run_close::remove_run_dir(engine, run_id).await;
    }
    txn.commit().await?;
    end.count();
    if advanced.finished.is_none() && advanced.dispatches.is_empty() && dispatches.is_empty() {
        // It found steps still running, whose ends (some without the run
        // lock) may have read this one as running too.
        // The end is committed whatever the close does: a close that
        // fails is left to the sweeper.
        match recorder {
            Recorder::Worker { .. } => run_close::close_after(engine, &workflow, run_id).await,
            Recorder::Sweeper => {
                if let Err(error) = run_close::close_if_over(engine, &workflow, run_id).await {
                    tracing::warn!(run = run_id, %error, "could not close a run; the next sweep will");
                }
            }
        }
    }
    // Only a step this end started: a retry of this one goes back to the
    // queue, where another worker may take it (what failed here may be
    // this machine's).
    let mut started = advanced.dispatches;
    let next = match recorder {
        Recorder::Worker { .. } if !engine.is_draining() => take_next(&mut started, &row.queue),
        _ => None,
    };
    dispatches.extend(started);
    push(engine, dispatches).await;
    if advanced.finished.is_some() {
        super::groups::after_end(engine, &run).await;
    }
    Ok(Recorded {
        written: true,
        log_kept: end.keeps_log(),
        next,
    })
}

/// Records `end` (a finish, not a retry) of a step whose task is a leaf of
/// `workflow`, the definition of `run`, without the run lock. A leaf's end
/// starts, skips or fails nothing downstream; the only decision it may owe
/// its run is the close, when it was the last step left (see `run_close`).
/// Under the lock, every end of a run's steps went one after another, each
/// holding the lock for its five statements and its commit. Here the step
/// moves with its event, committed at once (one statement on PostgreSQL).
async fn record_leaf(
    engine: &Engine,
    run: &run::Model,
    workflow: &Definition,
    end: End<'_>,
) -> Result<Recorded, ServiceError> {
    debug_assert!(matches!(end.next, Next::Finish { .. }));
    let ending = [end.ended.end.event()];
    let moved = move_leaf_alone(
        &engine.db,
        end.row,
        StepMove::one(&ending),
        end.now,
        |update| end.columns(update, None, None),
    )
    .await?;
    if !moved.moved {
        return Ok(Recorded::default());
    }
    end.count();
    engine.feed.wake();
    // A step still pending when the move committed ends later, and looks
    // then.
    if moved.run_pending != Some(true) {
        run_close::close_after(engine, workflow, run.id).await;
    }
    Ok(Recorded {
        written: true,
        log_kept: end.keeps_log(),
        next: None,
    })
}

/// What follows the attempt of `row` that ended as `ended`: finished, or
/// retried if its task allows.
fn next_of(workflow: &Definition, row: &step::Model, ended: &Ended) -> Next {
    let retry = workflow
        .task(&row.task)
        .map(|t| t.retry)
        .unwrap_or_default();
    let retries_left = u32::try_from(row.retries_left).unwrap_or(0);
    after_attempt(&ended.end, retries_left, retry.retries, |n| {
        retry.delay_before(n + 1)
    })
}

/// One attempt's end, as it is written.
struct End<'a> {
    row: &'a step::Model,
    ended: &'a Ended,
    next: &'a Next,
    now: i64,
    short_log: Option<&'a [u8]>,
}

impl End<'_> {
    /// The columns the end sets on its step's row, and the filters on the
    /// attempt and (with `lease_expired_before`) the lease; `due`: when a
    /// retry is due.
    fn columns(
        &self,
        update: StepUpdate,
        lease_expired_before: Option<i64>,
        due: Option<i64>,
    ) -> StepUpdate {
        let (row, ended, now) = (self.row, self.ended, self.now);
        let mut update = update
            .filter(step::Column::Attempt.eq(row.attempt))
            .col_expr(step::Column::ExitCode, Expr::value(ended.exit_code))
            .col_expr(step::Column::LeaseUntilMs, Expr::value(Option::<i64>::None));
        if let Some(before) = lease_expired_before {
            update = update.filter(step::Column::LeaseUntilMs.lt(before));
        }
        match self.next {
            Next::Finish { state, message } => {
                // NULL when there are none: the common case costs nothing to read.
                let outputs = (*state == StepState::Success && !ended.outputs.is_empty())
                    .then(|| serde_json::to_string(&ended.outputs).unwrap_or_else(|_| "{}".into()));
                let update = update
                    .col_expr(step::Column::FinishedAtMs, Expr::value(now))
                    .col_expr(step::Column::Message, Expr::value(clip(message)))
                    .col_expr(step::Column::Outputs, Expr::value(outputs));
                match self.short_log {
                    Some(log) => short_logs::keep(update, log),
                    None => update,
                }
            }
            Next::Retry { message, .. } => update
                .col_expr(step::Column::Attempt, Expr::value(row.attempt + 1))
                .col_expr(step::Column::RetriesLeft, Expr::value(row.retries_left - 1))
                .col_expr(step::Column::DispatchedAtMs, Expr::value(now))
                .col_expr(step::Column::NotBeforeMs, Expr::value(due))
                .col_expr(step::Column::StartedAtMs, Expr::value(Option::<i64>::None))
                .col_expr(step::Column::Worker, Expr::value(Option::<String>::None))
                .col_expr(step::Column::Message, Expr::value(clip(message))),
        }
    }

    /// Whether the short log goes in the row (a retry's does not).
    fn keeps_log(&self) -> bool {
        self.short_log.is_some() && matches!(self.next, Next::Finish { .. })
    }

    /// Counts the end, once it is committed: whoever sees the run end may
    /// read the metrics next.
    fn count(&self) {
        let label = match self.next {
            Next::Finish { state, .. } => state.as_str(),
            Next::Retry { .. } => "retried",
        };
        metrics::counter!("kiln_steps_total", "state" => label).increment(1);
        if let Some(started) = self.row.started_at_ms {
            metrics::histogram!("kiln_step_duration_seconds")
                .record((self.now - started).max(0) as f64 / 1000.0);
        }
    }
}

/// Takes out of `dispatches` the first one due now on `queue`.
fn take_next(dispatches: &mut Vec<Dispatch>, queue: &str) -> Option<StepJob> {
    let at = dispatches
        .iter()
        .position(|d| d.queue == queue && d.run_at.is_none())?;
    Some(dispatches.remove(at).job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatch(step_id: i64, queue: &str, run_at: Option<u64>) -> Dispatch {
        Dispatch {
            queue: queue.to_owned(),
            job: StepJob {
                step_id,
                attempt: 1,
                due_at_ms: 0,
            },
            run_at,
        }
    }

    /// Only a step due now on the worker's own queue is kept: a delayed
    /// retry waits in the queue, and another queue's step may need a
    /// worker with other labels.
    #[test]
    fn the_next_step_is_due_now_on_the_same_queue() {
        let mut dispatches = vec![
            dispatch(1, "steps:deploy", None),
            dispatch(2, "steps", Some(5)),
            dispatch(3, "steps", None),
            dispatch(4, "steps", None),
        ];
        let next = take_next(&mut dispatches, "steps").map(|j| j.step_id);
        assert_eq!(next, Some(3));
        let left: Vec<i64> = dispatches.iter().map(|d| d.job.step_id).collect();
        assert_eq!(left, [1, 2, 4]);
        let mut none = vec![dispatch(1, "steps:deploy", None)];
        assert!(take_next(&mut none, "steps").is_none());
        assert_eq!(none.len(), 1);
    }
}

//! One pass over a due schedule: the domain plans which of its due
//! instants fire and which are missed; the runs to start are prepared
//! (outside any transaction: a pipeline's is read from git, by the one
//! server that holds the pass's lease); then one transaction claims the
//! pass, records each instant and writes the runs.
//! If another server claimed it first, the claim fails and nothing of this
//! pass is written: each instant is handled exactly once.

use std::time::Duration;

use kiln_core::pipeline::EventKind;
use kiln_core::schedule::{
    Catchup, CronExpr, FiringOutcome, OnOverlap, Overlap, Tz, Verdict, on_overlap, parse,
    parse_zone, plan_pass,
};
use kiln_core::workflow::params::GivenParams;

use super::store::{self, NewFiring};
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::{run, schedule};
use crate::engine::repo::runs;
use crate::engine::start::{self, NewRun, Prepared, RunSource, Starter, Written};
use crate::engine::{Engine, cancel};
use crate::pipelines::start::{At, source_at};

/// How long a server may prepare a pipeline schedule's pass before
/// another may take it over (a server that died while preparing delays
/// the pass this long).
const PREPARE_LEASE_MS: i64 = 60_000;

/// A schedule row read back into the domain's types.
pub struct Loaded {
    pub expr: CronExpr,
    pub zone: Tz,
    pub overlap: Overlap,
    pub catchup: Catchup,
}

/// The row's expression, zone and policies (checked when saved; a row
/// that no longer reads is an error here, reported on its firing).
pub fn load(row: &schedule::Model) -> Result<Loaded, String> {
    Ok(Loaded {
        expr: parse(&row.cron).map_err(|e| format!("cron: {e}"))?,
        zone: parse_zone(&row.timezone).map_err(|e| format!("timezone: {e}"))?,
        overlap: Overlap::parse(&row.concurrency)?,
        catchup: Catchup::parse(&row.catchup)?,
    })
}

/// What a pass did, for the loop's metrics and the tests.
#[derive(Debug, Default)]
pub struct PassOutcome {
    /// False when another server had claimed the pass.
    pub claimed: bool,
    /// Each instant, what became of it, and how late (ms).
    pub recorded: Vec<(i64, FiringOutcome, i64)>,
}

/// Handles the due instants of `row` at `now`.
pub async fn pass(
    engine: &Engine,
    row: &schedule::Model,
    now: i64,
) -> Result<PassOutcome, ServiceError> {
    let Some(first) = row.next_at_ms.filter(|&at| at <= now) else {
        return Ok(PassOutcome::default());
    };
    let loaded = match load(row) {
        Ok(loaded) => loaded,
        Err(error) => return stop_broken(engine, row, first, now, error).await,
    };
    let plan = plan_pass(
        &loaded.expr,
        loaded.zone,
        first,
        now,
        loaded.catchup,
        row.starting_deadline_ms,
    );
    if plan.unrecorded > 0 {
        tracing::warn!(
            schedule = row.id,
            missed = plan.unrecorded,
            "more instants came due than a pass records; the oldest are counted, not recorded"
        );
        metrics::counter!("kiln_schedule_firings_total", "outcome" => "missed")
            .increment(plan.unrecorded);
    }
    let fires = plan.instants.iter().any(|&(_, v)| v == Verdict::Fire);
    if fires && row.pipeline.is_some() {
        // Preparing a pipeline's run reads git: one server does it while
        // the others wait, unless it takes longer than its lease. The claim
        // below still decides who records the pass.
        let by = &engine.settings.worker_name;
        if !store::take_lease(&engine.db, row.id, first, by, now, now + PREPARE_LEASE_MS).await? {
            return Ok(PassOutcome::default());
        }
    }
    // Prepared before the transaction, one run per instant that fires.
    let mut prepared = Vec::new();
    for &(at, verdict) in &plan.instants {
        if verdict == Verdict::Fire {
            prepared.push((at, prepare(engine, row).await));
        }
    }
    let mut prepared = prepared.into_iter();
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    if !store::claim(&txn, row.id, first, plan.next_at, now).await? {
        txn.rollback().await?;
        return Ok(PassOutcome::default());
    }
    let planned: Vec<i64> = plan.instants.iter().map(|&(at, _)| at).collect();
    let done = store::recorded_among(&txn, row.id, &planned).await?;
    let mut previous = match store::last_run(&txn, row.id).await? {
        Some(id) => runs::is_running(&txn, id).await?.then_some(id),
        None => None,
    };
    let mut outcome = PassOutcome {
        claimed: true,
        recorded: Vec::new(),
    };
    let mut written = Vec::new();
    let mut cancelled = Vec::new();
    for &(at, verdict) in &plan.instants {
        let run = match verdict {
            Verdict::Fire => prepared.next().map(|(_, p)| p),
            Verdict::Missed => None,
        };
        if done.contains(&at) {
            continue;
        }
        let mut firing = NewFiring {
            schedule_id: row.id,
            instant_ms: at,
            fired_at_ms: now,
            outcome: FiringOutcome::Missed.as_str(),
            run_id: None,
            manual: false,
            error: None,
        };
        let result = match verdict {
            Verdict::Missed => FiringOutcome::Missed,
            Verdict::Fire => match run {
                Some(Ok(run)) => match on_overlap(loaded.overlap, previous.is_some()) {
                    OnOverlap::Skip => FiringOutcome::SkippedRunning,
                    decision => {
                        let mut result = FiringOutcome::Fired;
                        if let (OnOverlap::ReplaceThenStart, Some(old)) = (decision, previous) {
                            let by = format!("schedule {}", row.name);
                            match cancel::cancel_in(&txn, engine, old, &by).await {
                                Ok(_) | Err(ServiceError::Conflict { .. }) => {}
                                Err(other) => return Err(other),
                            }
                            cancelled.push(old);
                            result = FiringOutcome::Replaced;
                        }
                        let started = start::write(&txn, engine, run).await?;
                        firing.run_id = Some(started.run.id);
                        previous = Some(started.run.id);
                        written.push(started);
                        result
                    }
                },
                Some(Err(error)) => {
                    firing.error = Some(error.to_string());
                    FiringOutcome::Failed
                }
                None => FiringOutcome::Failed,
            },
        };
        firing.outcome = result.as_str();
        // Lateness runs until the run is written, not until the pass began.
        firing.fired_at_ms = now_ms();
        let late = firing.fired_at_ms - at;
        store::record(&txn, firing).await?;
        outcome.recorded.push((at, result, late));
    }
    txn.commit().await?;
    finish(engine, written, cancelled).await;
    for &(_, result, late) in &outcome.recorded {
        count(result, late);
    }
    Ok(outcome)
}

/// "Run now": a run started by `by` regardless of the clock and the
/// policies, recorded as a manual firing at `now`.
pub async fn run_now(
    engine: &Engine,
    row: &schedule::Model,
    by: Starter<'_>,
) -> Result<run::Model, ServiceError> {
    let prepared = prepare_as(engine, row, by).await?;
    let now = now_ms();
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let started = start::write(&txn, engine, prepared).await?;
    store::record(
        &txn,
        NewFiring {
            schedule_id: row.id,
            instant_ms: now,
            fired_at_ms: now,
            outcome: FiringOutcome::Fired.as_str(),
            run_id: Some(started.run.id),
            manual: true,
            error: None,
        },
    )
    .await?;
    txn.commit().await?;
    count(FiringOutcome::Fired, 0);
    Ok(start::after_commit(engine, started).await)
}

async fn prepare(engine: &Engine, row: &schedule::Model) -> Result<Prepared, ServiceError> {
    prepare_as(engine, row, Starter::Schedule).await
}

/// The run `row` starts, checked and its definition stored.
async fn prepare_as(
    engine: &Engine,
    row: &schedule::Model,
    by: Starter<'_>,
) -> Result<Prepared, ServiceError> {
    let source = match (&row.workflow, &row.pipeline) {
        (Some(name), _) => RunSource::Workflow {
            name: name.clone(),
            params: GivenParams::Json(serde_json::from_str(&row.params).unwrap_or_default()),
        },
        (None, Some(name)) => {
            let at = At {
                branch: row.branch.clone(),
                ..At::default()
            };
            let source = source_at(engine, row.project_id, name, at, EventKind::Schedule).await?;
            RunSource::Pipeline(Box::new(source))
        }
        (None, None) => return Err(ServiceError::NotFound("workflow")),
    };
    start::prepare(
        engine,
        NewRun {
            project: row.project_id,
            source,
            by,
        },
    )
    .await
}

async fn finish(engine: &Engine, written: Vec<Written>, cancelled: Vec<i64>) {
    for run in written {
        start::after_commit(engine, run).await;
    }
    for id in cancelled {
        engine.cancel_local(id);
    }
}

fn count(outcome: FiringOutcome, lateness_ms: i64) {
    metrics::counter!("kiln_schedule_firings_total", "outcome" => outcome.as_str()).increment(1);
    if matches!(outcome, FiringOutcome::Fired | FiringOutcome::Replaced) {
        let late = Duration::from_millis(u64::try_from(lateness_ms).unwrap_or(0));
        metrics::histogram!("kiln_schedule_lateness_seconds").record(late.as_secs_f64());
    }
}

/// A row whose expression no longer reads (a crate update changed what
/// it accepts): its instant is recorded as failed and it stops, instead of
/// being tried again every tick.
async fn stop_broken(
    engine: &Engine,
    row: &schedule::Model,
    first: i64,
    now: i64,
    error: String,
) -> Result<PassOutcome, ServiceError> {
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    if !store::claim(&txn, row.id, first, None, now).await? {
        txn.rollback().await?;
        return Ok(PassOutcome::default());
    }
    store::record(
        &txn,
        NewFiring {
            schedule_id: row.id,
            instant_ms: first,
            fired_at_ms: now,
            outcome: FiringOutcome::Failed.as_str(),
            run_id: None,
            manual: false,
            error: Some(error),
        },
    )
    .await?;
    txn.commit().await?;
    count(FiringOutcome::Failed, 0);
    Ok(PassOutcome {
        claimed: true,
        recorded: vec![(first, FiringOutcome::Failed, now - first)],
    })
}

//! What a schedule does with the instants that came due: which fire and
//! which are recorded as missed (catch-up and the starting deadline), and
//! what a firing does while the schedule's previous run still runs
//! (Kubernetes CronJob's concurrency policies).

use chrono_tz::Tz;

use super::expr::CronExpr;
use super::next::next_after;

/// Instants that come due together and are each recorded, at most.
pub const MAX_RECORDED_PER_PASS: usize = 100;

/// A firing this late or less is on time, whatever the catch-up policy
/// (a busy server is not a server that was down).
pub const ON_TIME_MS: i64 = 30_000;

/// While the previous run still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    Allow,
    #[default]
    Forbid,
    Replace,
}

/// For instants missed while no server ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Catchup {
    /// Record them as missed.
    None,
    /// Run only the most recent.
    #[default]
    Last,
    /// Run each, in order.
    All,
}

macro_rules! named {
    ($kind:ty, $what:literal, $($variant:ident = $name:literal),+) => {
        impl $kind {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($name => Ok(Self::$variant),)+
                    other => Err(format!(
                        concat!("{:?} is not a ", $what, "; use one of {}"),
                        other,
                        [$($name),+].join(", ")
                    )),
                }
            }
        }
    };
}
named!(
    Overlap,
    "concurrency policy",
    Allow = "allow",
    Forbid = "forbid",
    Replace = "replace"
);
named!(
    Catchup,
    "catch-up policy",
    None = "none",
    Last = "last",
    All = "all"
);

/// What became of a firing (the history's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiringOutcome {
    Fired,
    /// Forbid, while the previous run still ran.
    SkippedRunning,
    /// Started after cancelling the previous run.
    Replaced,
    Missed,
    /// The run could not start (its workflow deleted, params that no
    /// longer fit): `error` says why.
    Failed,
}
named!(
    FiringOutcome,
    "firing outcome",
    Fired = "fired",
    SkippedRunning = "skipped_running",
    Replaced = "replaced",
    Missed = "missed",
    Failed = "failed"
);

/// What becomes of one due instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fire,
    Missed,
}

/// The instants of one pass over a due schedule, and where the next pass
/// starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// In order, each with its verdict.
    pub instants: Vec<(i64, Verdict)>,
    /// The first instant not handled by this pass (`None`: never again).
    pub next_at: Option<i64>,
    /// Missed instants not recorded one by one (more came due than a
    /// pass records, under `none` or `last`).
    pub unrecorded: u64,
}

/// The pass over a schedule whose first unhandled instant is `first`
/// (at or before `now`).
pub fn plan_pass(
    expr: &CronExpr,
    zone: Tz,
    first: i64,
    now: i64,
    catchup: Catchup,
    deadline_ms: Option<i64>,
) -> Pass {
    let mut due = vec![first];
    let mut following = next_after(expr, zone, first);
    while let Some(at) = following.filter(|&at| at <= now) {
        if due.len() == MAX_RECORDED_PER_PASS {
            break;
        }
        due.push(at);
        following = next_after(expr, zone, at);
    }
    let mut unrecorded = 0;
    let more_due = following.is_some_and(|at| at <= now);
    if more_due && catchup != Catchup::All {
        // Jump to the most recent due instant; those between go unrecorded.
        if let Some(latest) = latest_due(expr, zone, now) {
            unrecorded = count_between(expr, zone, due[due.len() - 1], latest);
            due.push(latest);
            following = next_after(expr, zone, latest);
        }
    }
    let last = due.len() - 1;
    let instants = due
        .iter()
        .enumerate()
        .map(|(index, &at)| {
            let late = now - at;
            let mut verdict = match catchup {
                Catchup::All => Verdict::Fire,
                Catchup::Last if index == last => Verdict::Fire,
                Catchup::None if index == last && late <= ON_TIME_MS => Verdict::Fire,
                _ => Verdict::Missed,
            };
            if deadline_ms.is_some_and(|limit| late > limit) {
                verdict = Verdict::Missed;
            }
            (at, verdict)
        })
        .collect();
    Pass {
        instants,
        next_at: following,
        unrecorded,
    }
}

/// The latest instant at or before `now`: searched from ever further back.
fn latest_due(expr: &CronExpr, zone: Tz, now: i64) -> Option<i64> {
    let mut back = 1_000_i64;
    loop {
        let mut at = next_after(expr, zone, now.checked_sub(back)?)?;
        if at <= now {
            while let Some(next) = next_after(expr, zone, at).filter(|&n| n <= now) {
                at = next;
            }
            return Some(at);
        }
        back = back.checked_mul(2)?;
    }
}

/// Instants strictly between `from` and `to`, counted up to a bound.
fn count_between(expr: &CronExpr, zone: Tz, from: i64, to: i64) -> u64 {
    // Counting a second-by-second schedule over a long outage would take
    // as long as the outage had instants: estimate past this many.
    const COUNTED: u64 = 10_000;
    let mut count = 0;
    let mut at = from;
    while let Some(next) = next_after(expr, zone, at).filter(|&n| n < to) {
        count += 1;
        at = next;
        if count == COUNTED {
            let step = (at - from) / i64::try_from(COUNTED).unwrap_or(1);
            return count + u64::try_from((to - at - 1) / step.max(1)).unwrap_or(0);
        }
    }
    count
}

/// What a firing does, given whether the schedule's previous run still
/// runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOverlap {
    Start,
    /// Record `skipped_running`, start nothing.
    Skip,
    /// Cancel the previous run, then start (recorded `replaced`).
    ReplaceThenStart,
}

pub fn on_overlap(policy: Overlap, previous_running: bool) -> OnOverlap {
    match (policy, previous_running) {
        (_, false) | (Overlap::Allow, true) => OnOverlap::Start,
        (Overlap::Forbid, true) => OnOverlap::Skip,
        (Overlap::Replace, true) => OnOverlap::ReplaceThenStart,
    }
}

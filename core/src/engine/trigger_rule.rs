//! When a step may start, given its direct upstream steps' states: Airflow's
//! eleven trigger rules with Airflow's meaning, including how skips and
//! failures propagate (a step whose rule can no longer be met is marked
//! skipped or upstream_failed rather than left waiting for ever).
//!
//! Counting as Airflow does: timed-out and cancelled upstream steps count as
//! failed; a step with no upstream steps is ready at once whatever its rule.

use std::fmt;
use std::str::FromStr;

use super::step_state::StepState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TriggerRule {
    #[default]
    AllSuccess,
    AllFailed,
    AllDone,
    AllSkipped,
    OneSuccess,
    OneFailed,
    OneDone,
    NoneFailed,
    NoneFailedMinOneSuccess,
    NoneSkipped,
    Always,
}

/// What to do with a queued step now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Readiness {
    /// Upstream is not far enough along to decide.
    Wait,
    Run,
    /// The rule can no longer be met because of skips: mark it skipped.
    Skip,
    /// The rule can no longer be met because of failures.
    UpstreamFailed,
}

impl TriggerRule {
    pub const ALL: [TriggerRule; 11] = [
        TriggerRule::AllSuccess,
        TriggerRule::AllFailed,
        TriggerRule::AllDone,
        TriggerRule::AllSkipped,
        TriggerRule::OneSuccess,
        TriggerRule::OneFailed,
        TriggerRule::OneDone,
        TriggerRule::NoneFailed,
        TriggerRule::NoneFailedMinOneSuccess,
        TriggerRule::NoneSkipped,
        TriggerRule::Always,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriggerRule::AllSuccess => "all_success",
            TriggerRule::AllFailed => "all_failed",
            TriggerRule::AllDone => "all_done",
            TriggerRule::AllSkipped => "all_skipped",
            TriggerRule::OneSuccess => "one_success",
            TriggerRule::OneFailed => "one_failed",
            TriggerRule::OneDone => "one_done",
            TriggerRule::NoneFailed => "none_failed",
            TriggerRule::NoneFailedMinOneSuccess => "none_failed_min_one_success",
            TriggerRule::NoneSkipped => "none_skipped",
            TriggerRule::Always => "always",
        }
    }
}

impl fmt::Display for TriggerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TriggerRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TriggerRule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = TriggerRule::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown trigger rule {s:?}: use one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Upstream states, counted.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: usize,
    done: usize,
    success: usize,
    failed: usize,
    upstream_failed: usize,
    skipped: usize,
}

fn count(upstream: &[StepState]) -> Counts {
    let mut c = Counts {
        total: upstream.len(),
        ..Counts::default()
    };
    for state in upstream {
        c.done += usize::from(state.is_done());
        c.success += usize::from(*state == StepState::Success);
        c.failed += usize::from(state.is_failure());
        c.upstream_failed += usize::from(*state == StepState::UpstreamFailed);
        c.skipped += usize::from(*state == StepState::Skipped);
    }
    c
}

/// Decides a queued step with `rule` whose direct upstream steps are in
/// `upstream` states.
pub fn readiness(rule: TriggerRule, upstream: &[StepState]) -> Readiness {
    use Readiness::*;
    let c = count(upstream);
    if c.total == 0 || rule == TriggerRule::Always {
        return Run;
    }
    let all_done = c.done == c.total;
    let failures = c.failed + c.upstream_failed;
    match rule {
        TriggerRule::AllSuccess => {
            if failures > 0 {
                UpstreamFailed
            } else if c.skipped > 0 {
                Skip
            } else if c.success == c.total {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllFailed => {
            if c.success > 0 || c.skipped > 0 {
                Skip
            } else if failures == c.total {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllDone => {
            if all_done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllSkipped => {
            if c.success > 0 || failures > 0 {
                Skip
            } else if c.skipped == c.total {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::OneSuccess => {
            if c.success > 0 {
                Run
            } else if all_done && c.skipped == c.total {
                Skip
            } else if all_done {
                UpstreamFailed
            } else {
                Wait
            }
        }
        TriggerRule::OneFailed => {
            if failures > 0 {
                Run
            } else if all_done {
                Skip
            } else {
                Wait
            }
        }
        TriggerRule::OneDone => {
            if c.success > 0 || c.failed > 0 {
                Run
            } else if all_done {
                Skip
            } else {
                Wait
            }
        }
        TriggerRule::NoneFailed => {
            if failures > 0 {
                UpstreamFailed
            } else if all_done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::NoneFailedMinOneSuccess => {
            if failures > 0 {
                UpstreamFailed
            } else if all_done && c.success > 0 {
                Run
            } else if all_done {
                Skip
            } else {
                Wait
            }
        }
        TriggerRule::NoneSkipped => {
            if c.skipped > 0 {
                Skip
            } else if all_done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::Always => Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Readiness::{Run, Skip, Wait};
    use StepState::*;

    /// Short for the table, beside `StepState::UpstreamFailed`.
    const UF: Readiness = Readiness::UpstreamFailed;

    /// Upstream mixes, named for the table below.
    const MIXES: [(&str, &[StepState]); 12] = [
        ("all success", &[Success, Success]),
        ("success + running", &[Success, Running]),
        ("success + queued", &[Success, Queued]),
        ("success + failed", &[Success, Failed]),
        ("success + skipped", &[Success, Skipped]),
        ("all failed", &[Failed, UpstreamFailed]),
        ("failed + running", &[Failed, Running]),
        ("all skipped", &[Skipped, Skipped]),
        ("skipped + running", &[Skipped, Running]),
        ("skipped + failed", &[Skipped, Failed]),
        ("timed out + cancelled", &[TimedOut, Cancelled]),
        ("upstream_failed + success", &[UpstreamFailed, Success]),
    ];

    /// Expected readiness per rule, one entry per mix above, in order.
    #[rustfmt::skip]
    fn table(rule: TriggerRule) -> [Readiness; 12] {
        //  all-S   S+run  S+q    S+F    S+sk   allF   F+run  allSk  sk+run sk+F   TO+C   UF+S
        match rule {
            TriggerRule::AllSuccess => [Run, Wait, Wait, UF, Skip, UF, UF, Skip, Skip, UF, UF, UF],
            TriggerRule::AllFailed => [Skip, Skip, Skip, Skip, Skip, Run, Wait, Skip, Skip, Skip, Run, Skip],
            TriggerRule::AllDone => [Run, Wait, Wait, Run, Run, Run, Wait, Run, Wait, Run, Run, Run],
            TriggerRule::AllSkipped => [Skip, Skip, Skip, Skip, Skip, Skip, Skip, Run, Wait, Skip, Skip, Skip],
            TriggerRule::OneSuccess => [Run, Run, Run, Run, Run, UF, Wait, Skip, Wait, UF, UF, Run],
            TriggerRule::OneFailed => [Skip, Wait, Wait, Run, Skip, Run, Run, Skip, Wait, Run, Run, Run],
            TriggerRule::OneDone => [Run, Run, Run, Run, Run, Run, Run, Skip, Wait, Run, Run, Run],
            TriggerRule::NoneFailed => [Run, Wait, Wait, UF, Run, UF, UF, Run, Wait, UF, UF, UF],
            TriggerRule::NoneFailedMinOneSuccess => [Run, Wait, Wait, UF, Run, UF, UF, Skip, Wait, UF, UF, UF],
            TriggerRule::NoneSkipped => [Run, Wait, Wait, Run, Skip, Run, Wait, Skip, Skip, Skip, Run, Run],
            TriggerRule::Always => [Run; 12],
        }
    }

    #[test]
    fn every_rule_against_mixed_upstream_states() {
        for rule in TriggerRule::ALL {
            for ((name, upstream), expected) in MIXES.iter().zip(table(rule)) {
                assert_eq!(readiness(rule, upstream), expected, "{rule} with {name}");
            }
        }
    }

    #[test]
    fn no_upstream_means_ready() {
        for rule in TriggerRule::ALL {
            assert_eq!(readiness(rule, &[]), Run, "{rule}");
        }
    }

    #[test]
    fn undecided_only_while_something_is_unfinished() {
        // Once every upstream step is done, no rule keeps a step waiting.
        let done = [
            Success,
            Failed,
            Skipped,
            UpstreamFailed,
            Cancelled,
            TimedOut,
        ];
        for rule in TriggerRule::ALL {
            for a in done {
                for b in done {
                    assert_ne!(readiness(rule, &[a, b]), Wait, "{rule} with {a}, {b}");
                }
            }
        }
    }

    #[test]
    fn names_round_trip_and_default_is_all_success() {
        for rule in TriggerRule::ALL {
            assert_eq!(rule.as_str().parse::<TriggerRule>(), Ok(rule));
        }
        assert_eq!(TriggerRule::default(), TriggerRule::AllSuccess);
        let err = "all_succes".parse::<TriggerRule>().unwrap_err();
        assert!(err.contains("all_success"), "{err}");
    }
}

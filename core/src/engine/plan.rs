//! Deciding what happens next in a run, from its steps' states alone: which
//! queued steps start, which are skipped or marked upstream_failed (carried
//! down the graph in one pass), when the run is over and how it ended, what
//! a re-run of failures resets, and when a failed attempt is retried.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::step_state::StepState;
use super::trigger_rule::{Readiness, TriggerRule, readiness};

/// A step as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub id: String,
    pub needs: Vec<String>,
    pub rule: TriggerRule,
    pub state: StepState,
    /// `allow_failure: true`: a failure or timeout of this step counts as a
    /// success for its downstream steps' rules and for the run's outcome.
    pub allow_failure: bool,
}

impl PlanStep {
    /// The state this step shows its downstream steps and the run: an
    /// allowed failure reads as a success.
    pub fn effective_state(&self) -> StepState {
        match self.state {
            StepState::Failed | StepState::TimedOut if self.allow_failure => StepState::Success,
            state => state,
        }
    }
}

/// What to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Queued steps whose rule is met: hand them to workers.
    pub start: Vec<String>,
    pub skip: Vec<String>,
    pub upstream_failed: Vec<String>,
}

/// How a finished run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    Success,
    Failed,
    Cancelled,
}

/// Plans the next moves. Skips and upstream failures are applied to a copy
/// and the rules re-checked until nothing changes, so a failure reaches
/// every step it decides in one call.
pub fn plan(steps: &[PlanStep]) -> Plan {
    let mut states: HashMap<&str, StepState> = steps
        .iter()
        .map(|s| (s.id.as_str(), s.effective_state()))
        .collect();
    let mut out = Plan::default();
    let mut started = BTreeSet::new();
    loop {
        let mut changed = false;
        for step in steps {
            if states[step.id.as_str()] != StepState::Queued || started.contains(step.id.as_str()) {
                continue;
            }
            let upstream: Vec<StepState> = step
                .needs
                .iter()
                .filter_map(|n| states.get(n.as_str()).copied())
                .collect();
            match readiness(step.rule, &upstream) {
                Readiness::Wait => {}
                Readiness::Run => {
                    started.insert(step.id.as_str());
                    out.start.push(step.id.clone());
                }
                Readiness::Skip => {
                    states.insert(step.id.as_str(), StepState::Skipped);
                    out.skip.push(step.id.clone());
                    changed = true;
                }
                Readiness::UpstreamFailed => {
                    states.insert(step.id.as_str(), StepState::UpstreamFailed);
                    out.upstream_failed.push(step.id.clone());
                    changed = true;
                }
            }
        }
        if !changed {
            return out;
        }
    }
}

/// How the run ended, once no step is queued or running. Unlike Airflow,
/// whose leaves decide (a cleanup step with `all_done` turned a failed run
/// green), any step that failed, timed out or was not run because of a
/// failure makes the run failed, unless that step allows failure.
pub fn outcome(steps: &[PlanStep]) -> Option<RunOutcome> {
    if steps.iter().any(|s| !s.state.is_done()) {
        return None;
    }
    if steps.iter().any(|s| s.state == StepState::Cancelled) {
        return Some(RunOutcome::Cancelled);
    }
    let failed = steps.iter().any(|s| {
        matches!(
            s.effective_state(),
            StepState::Failed | StepState::TimedOut | StepState::UpstreamFailed
        )
    });
    Some(if failed {
        RunOutcome::Failed
    } else {
        RunOutcome::Success
    })
}

/// Whether a run that succeeded did so with some allowed failures (shown as
/// "passed with allowed failures").
pub fn passed_with_allowed_failures(steps: &[PlanStep]) -> bool {
    outcome(steps) == Some(RunOutcome::Success)
        && steps
            .iter()
            .any(|s| matches!(s.state, StepState::Failed | StepState::TimedOut))
}

/// The steps a "re-run failed" resets to queued: every step that did not
/// succeed, and everything downstream of those (successes upstream stay).
pub fn clear_failed(steps: &[PlanStep]) -> Vec<String> {
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| s.state.is_done() && s.state != StepState::Success)
        .map(|s| s.id.as_str())
        .collect();
    clear_downstream(steps, &failed)
}

/// The steps a re-run of `from` resets to queued: those steps and
/// everything downstream of them (Airflow's "clear with downstream"), so
/// what used their outputs runs again with the new ones.
pub fn clear_downstream(steps: &[PlanStep], from: &[&str]) -> Vec<String> {
    let mut downstream: HashMap<&str, Vec<&str>> = HashMap::new();
    for step in steps {
        for need in &step.needs {
            downstream
                .entry(need.as_str())
                .or_default()
                .push(step.id.as_str());
        }
    }
    let mut reset = BTreeSet::new();
    let mut stack: Vec<&str> = from.to_vec();
    while let Some(id) = stack.pop() {
        if reset.insert(id) {
            stack.extend(downstream.get(id).into_iter().flatten().copied());
        }
    }
    // In the steps' own order, for stable output.
    steps
        .iter()
        .filter(|s| reset.contains(s.id.as_str()))
        .map(|s| s.id.clone())
        .collect()
}

/// After attempt `attempt` ended in `state`: the delay before the next
/// attempt, or `None` when it stays failed.
pub fn retry_after(
    state: StepState,
    attempt: u32,
    retries: u32,
    delay_before: impl Fn(u32) -> Duration,
) -> Option<Duration> {
    let retryable = matches!(state, StepState::Failed | StepState::TimedOut);
    (retryable && attempt <= retries).then(|| delay_before(attempt + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepState::*;

    fn step(id: &str, needs: &[&str], rule: TriggerRule, state: StepState) -> PlanStep {
        PlanStep {
            id: id.into(),
            needs: needs.iter().map(|n| (*n).to_owned()).collect(),
            rule,
            state,
            allow_failure: false,
        }
    }

    /// a -> (b, c) -> d, plus `cleanup` after d whatever happens.
    fn diamond(a: StepState, b: StepState, c: StepState, d: StepState) -> Vec<PlanStep> {
        vec![
            step("a", &[], TriggerRule::AllSuccess, a),
            step("b", &["a"], TriggerRule::AllSuccess, b),
            step("c", &["a"], TriggerRule::AllSuccess, c),
            step("d", &["b", "c"], TriggerRule::AllSuccess, d),
            step("cleanup", &["d"], TriggerRule::AllDone, Queued),
        ]
    }

    #[test]
    fn a_fresh_run_starts_its_roots() {
        let p = plan(&diamond(Queued, Queued, Queued, Queued));
        assert_eq!(p.start, ["a"]);
        assert!(p.skip.is_empty() && p.upstream_failed.is_empty());
    }

    #[test]
    fn successes_open_the_next_layer() {
        let p = plan(&diamond(Success, Queued, Queued, Queued));
        assert_eq!(p.start, ["b", "c"]);
        let p = plan(&diamond(Success, Success, Running, Queued));
        assert!(p.start.is_empty());
    }

    #[test]
    fn a_failure_reaches_everything_it_decides_in_one_plan() {
        let p = plan(&diamond(Failed, Queued, Queued, Queued));
        assert_eq!(p.upstream_failed, ["b", "c", "d"]);
        assert_eq!(
            p.start,
            ["cleanup"],
            "all_done runs after the failure spread"
        );
    }

    #[test]
    fn any_failure_fails_the_run_whatever_the_leaves() {
        let mut steps = diamond(Success, Success, Success, Success);
        assert_eq!(outcome(&steps), None, "cleanup still queued");
        steps[4].state = Success;
        assert_eq!(outcome(&steps), Some(RunOutcome::Success));
        // The diamond whose flaky middle failed and whose all_done cleanup
        // succeeded: Airflow calls it a success, Kiln does not.
        let mut flaky = diamond(Success, Failed, Success, UpstreamFailed);
        flaky[4].state = Success;
        assert_eq!(outcome(&flaky), Some(RunOutcome::Failed));
        let mut timed_out = diamond(Success, Success, TimedOut, UpstreamFailed);
        timed_out[4].state = Success;
        assert_eq!(outcome(&timed_out), Some(RunOutcome::Failed));
        let mut failed = diamond(Failed, UpstreamFailed, UpstreamFailed, UpstreamFailed);
        failed[4].state = Success;
        assert_eq!(outcome(&failed), Some(RunOutcome::Failed));
        failed[0].state = Cancelled;
        assert_eq!(outcome(&failed), Some(RunOutcome::Cancelled));
        assert!(!passed_with_allowed_failures(&failed));
    }

    #[test]
    fn an_allowed_failure_counts_as_a_success() {
        let mut steps = diamond(Success, Failed, Queued, Queued);
        steps[1].allow_failure = true;
        steps[2].state = Success;
        let p = plan(&steps);
        assert_eq!(p.start, ["d"], "d runs as if b had succeeded");
        assert!(p.upstream_failed.is_empty());
        steps[3].state = Success;
        steps[4].state = Success;
        assert_eq!(outcome(&steps), Some(RunOutcome::Success));
        assert!(passed_with_allowed_failures(&steps));
        steps[1].state = TimedOut;
        assert_eq!(outcome(&steps), Some(RunOutcome::Success));
        // A one_failed notifier does not fire for an allowed failure.
        let notify = vec![
            PlanStep {
                allow_failure: true,
                ..step("lint", &[], TriggerRule::AllSuccess, Failed)
            },
            step("notify", &["lint"], TriggerRule::OneFailed, Queued),
        ];
        assert_eq!(plan(&notify).skip, ["notify"]);
        // Cancelled is never allowed away.
        steps[1].state = Cancelled;
        assert_eq!(outcome(&steps), Some(RunOutcome::Cancelled));
        steps[1].state = Success;
        assert!(!passed_with_allowed_failures(&steps));
    }

    #[test]
    fn re_run_failed_keeps_successes_and_resets_downstream() {
        let mut steps = diamond(Success, Success, Failed, UpstreamFailed);
        steps[4].state = Success;
        assert_eq!(clear_failed(&steps), ["c", "d", "cleanup"]);
        let all_good = {
            let mut s = diamond(Success, Success, Success, Success);
            s[4].state = Success;
            s
        };
        assert!(clear_failed(&all_good).is_empty());
    }

    #[test]
    fn re_run_of_one_step_resets_it_and_its_downstream_only() {
        let mut steps = diamond(Success, Success, Success, Success);
        steps[4].state = Success;
        assert_eq!(clear_downstream(&steps, &["b"]), ["b", "d", "cleanup"]);
        assert_eq!(clear_downstream(&steps, &["cleanup"]), ["cleanup"]);
        assert_eq!(clear_downstream(&steps, &["a"]).len(), 5);
        assert!(clear_downstream(&steps, &["ghost"]).is_empty());
    }

    #[test]
    fn retries_until_they_run_out() {
        let delay = |attempt: u32| Duration::from_secs(u64::from(attempt));
        assert_eq!(
            retry_after(Failed, 1, 2, delay),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(TimedOut, 2, 2, delay),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(Failed, 3, 2, delay), None);
        assert_eq!(
            retry_after(Cancelled, 1, 2, delay),
            None,
            "cancelled is final"
        );
        assert_eq!(retry_after(Success, 1, 2, delay), None);
    }
}

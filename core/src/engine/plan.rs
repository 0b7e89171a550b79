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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Success,
    Failed,
    Cancelled,
}

/// Plans the next moves. Skips and upstream failures are applied to a copy
/// and the rules re-checked until nothing changes, so a failure reaches
/// every step it decides in one call.
pub fn plan(steps: &[PlanStep]) -> Plan {
    let mut states: HashMap<&str, StepState> =
        steps.iter().map(|s| (s.id.as_str(), s.state)).collect();
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

/// How the run ended, once no step is queued or running. As in Airflow, the
/// leaves (steps nothing needs) decide: a cleanup step that ran after a
/// failure makes the run a success only if it is the leaf.
pub fn outcome(steps: &[PlanStep]) -> Option<RunOutcome> {
    if steps.iter().any(|s| !s.state.is_done()) {
        return None;
    }
    if steps.iter().any(|s| s.state == StepState::Cancelled) {
        return Some(RunOutcome::Cancelled);
    }
    let needed: BTreeSet<&str> = steps
        .iter()
        .flat_map(|s| s.needs.iter().map(String::as_str))
        .collect();
    let leaf_failed = steps
        .iter()
        .filter(|s| !needed.contains(s.id.as_str()))
        .any(|s| {
            matches!(
                s.state,
                StepState::Failed | StepState::TimedOut | StepState::UpstreamFailed
            )
        });
    Some(if leaf_failed {
        RunOutcome::Failed
    } else {
        RunOutcome::Success
    })
}

/// The steps a "re-run failed" resets to queued: every step that did not
/// succeed, and everything downstream of those (successes upstream stay).
pub fn clear_failed(steps: &[PlanStep]) -> Vec<String> {
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
    let mut stack: Vec<&str> = steps
        .iter()
        .filter(|s| s.state.is_done() && s.state != StepState::Success)
        .map(|s| s.id.as_str())
        .collect();
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
    fn outcomes_follow_the_leaves() {
        let mut steps = diamond(Success, Success, Success, Success);
        assert_eq!(outcome(&steps), None, "cleanup still queued");
        steps[4].state = Success;
        assert_eq!(outcome(&steps), Some(RunOutcome::Success));
        let mut failed = diamond(Failed, UpstreamFailed, UpstreamFailed, UpstreamFailed);
        failed[4].state = Success;
        assert_eq!(
            outcome(&failed),
            Some(RunOutcome::Success),
            "the leaf decides, as in Airflow"
        );
        failed.pop();
        assert_eq!(outcome(&failed), Some(RunOutcome::Failed));
        failed[0].state = Cancelled;
        assert_eq!(outcome(&failed), Some(RunOutcome::Cancelled));
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

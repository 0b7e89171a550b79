//! The execution engine's rules, shared by workflows, pipelines and
//! schedules: the states a step run goes through and which moves between
//! them are legal, and when a step may start given its upstream steps'
//! states (Airflow's trigger rules). Pure functions, tested exhaustively.

/// `Display` and a strict `FromStr` for a stored enum with `ALL` and
/// `as_str`: its name is its text, and no other text parses.
macro_rules! stored_names {
    ($type:ty, $what:literal) => {
        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $type {
            type Err = $crate::engine::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$type>::ALL
                    .into_iter()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| $crate::engine::UnknownName::new($what, s))
            }
        }
    };
}

pub mod attempt;
pub mod attempt_spans;
pub mod mask;
pub mod outputs;
pub mod plan;
pub mod run_kind;
pub mod run_state;
pub mod secret_name;
pub mod step_state;
pub mod trigger_rule;

pub use attempt::{AttemptEnd, Next, after_attempt, queue_for, queues_served};
pub use plan::{
    Plan, PlanStep, RunOutcome, clear_downstream, clear_failed, outcome,
    passed_with_allowed_failures, plan, retry_after,
};
pub use run_kind::RunKind;
pub use run_state::{IllegalRunTransition, RunEvent, RunState, RunTrigger, run_transition};
pub use step_state::{IllegalTransition, StepEvent, StepState, transition};
pub use trigger_rule::{Readiness, TriggerRule, readiness};

/// A state's or trigger's name that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl UnknownName {
    fn new(what: &'static str, name: &str) -> Self {
        UnknownName {
            what,
            name: name.to_owned(),
        }
    }
}

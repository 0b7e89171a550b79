//! A run's own state, derived from its steps: running until the planner says
//! it is over, then how it ended; a re-run takes an ended run back to
//! running. Stored as text; parsed back strictly. Every move is one call of
//! [`run_transition`], and a write's guard is [`RunEvent::from_states`].

use super::plan::RunOutcome;

/// Stored as its name, like [`super::StepState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::DeriveValueType),
    sea_orm(value_type = "String")
)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Success,
    Failed,
    Cancelled,
}

impl RunState {
    pub const ALL: [RunState; 4] = [
        RunState::Running,
        RunState::Success,
        RunState::Failed,
        RunState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Success => "success",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    pub fn is_done(self) -> bool {
        self != RunState::Running
    }
}

impl From<RunOutcome> for RunState {
    fn from(outcome: RunOutcome) -> Self {
        match outcome {
            RunOutcome::Success => RunState::Success,
            RunOutcome::Failed => RunState::Failed,
            RunOutcome::Cancelled => RunState::Cancelled,
        }
    }
}

stored_names!(RunState, "run state");

/// What happens to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunEvent {
    /// The planner found it over, with this outcome.
    End(RunOutcome),
    /// Someone re-ran (part of) an ended run.
    Rerun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} run cannot {event:?}")]
pub struct IllegalRunTransition {
    pub from: RunState,
    pub event: RunEvent,
}

/// The state after `event`, or why it cannot happen now.
pub fn run_transition(from: RunState, event: RunEvent) -> Result<RunState, IllegalRunTransition> {
    match (from, event) {
        (RunState::Running, RunEvent::End(outcome)) => Ok(outcome.into()),
        (ended, RunEvent::Rerun) if ended.is_done() => Ok(RunState::Running),
        (from, event) => Err(IllegalRunTransition { from, event }),
    }
}

impl RunEvent {
    /// The states this event may move a run out of (a write's guard).
    pub fn from_states(self) -> Vec<RunState> {
        RunState::ALL
            .into_iter()
            .filter(|from| run_transition(*from, self).is_ok())
            .collect()
    }
}

/// What started a run; stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::DeriveValueType),
    sea_orm(value_type = "String")
)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    Manual,
    Api,
    Schedule,
    Webhook,
}

impl RunTrigger {
    pub const ALL: [RunTrigger; 4] = [
        RunTrigger::Manual,
        RunTrigger::Api,
        RunTrigger::Schedule,
        RunTrigger::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Manual => "manual",
            RunTrigger::Api => "api",
            RunTrigger::Schedule => "schedule",
            RunTrigger::Webhook => "webhook",
        }
    }
}

stored_names!(RunTrigger, "trigger");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_end_once_and_come_back_only_by_rerun() {
        for outcome in [
            RunOutcome::Success,
            RunOutcome::Failed,
            RunOutcome::Cancelled,
        ] {
            let event = RunEvent::End(outcome);
            assert_eq!(event.from_states(), vec![RunState::Running]);
            let ended = run_transition(RunState::Running, event).unwrap();
            assert!(ended.is_done());
            assert!(run_transition(ended, event).is_err(), "{ended} ended twice");
            assert_eq!(
                run_transition(ended, RunEvent::Rerun),
                Ok(RunState::Running)
            );
        }
        assert_eq!(
            RunEvent::Rerun.from_states(),
            vec![RunState::Success, RunState::Failed, RunState::Cancelled]
        );
        assert!(run_transition(RunState::Running, RunEvent::Rerun).is_err());
    }

    #[test]
    fn names_round_trip() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>(), Ok(state));
        }
        for trigger in RunTrigger::ALL {
            assert_eq!(trigger.as_str().parse::<RunTrigger>(), Ok(trigger));
            let json = serde_json::to_string(&trigger).unwrap();
            assert_eq!(json, format!("\"{trigger}\""));
        }
        assert!("done".parse::<RunState>().is_err());
        assert_eq!(
            serde_json::to_string(&RunState::Cancelled).unwrap(),
            "\"cancelled\""
        );
        assert!(!RunState::Running.is_done());
        assert_eq!(RunState::from(RunOutcome::Cancelled), RunState::Cancelled);
    }
}

//! A run's own state, derived from its steps: running until the planner says
//! it is over, then how it ended. Stored as text; parsed back strictly.

use std::fmt;
use std::str::FromStr;

use super::plan::RunOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown run state {s:?}"))
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl FromStr for RunTrigger {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunTrigger::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown trigger {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>(), Ok(state));
        }
        for trigger in RunTrigger::ALL {
            assert_eq!(trigger.as_str().parse::<RunTrigger>(), Ok(trigger));
        }
        assert!("done".parse::<RunState>().is_err());
        assert!(!RunState::Running.is_done());
        assert_eq!(RunState::from(RunOutcome::Cancelled), RunState::Cancelled);
    }
}

//! A step run's life: queued → running → one of the ends, with retries and
//! Airflow's "clear" (re-run) going back to queued. Every move is one call
//! of [`transition`]; a move the table does not allow is an error, never a
//! silent overwrite (a late heartbeat cannot revive a cancelled step).

/// Stored as its name (`as_str`); with the `db` feature it is a column type
/// of its own, so a row holds this enum and an unknown name is an error.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::DeriveValueType),
    sea_orm(value_type = "String")
)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Queued,
    Running,
    Success,
    Failed,
    /// Not run: its trigger rule said so, or a branch skipped it.
    Skipped,
    /// Not run because an upstream step failed.
    UpstreamFailed,
    Cancelled,
    TimedOut,
}

/// What happens to a step run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepEvent {
    /// A worker took it.
    Start,
    /// The process exited 0 (or the HTTP status was expected).
    Succeed,
    /// It failed, or its worker was lost.
    Fail,
    /// It ran past its timeout and was killed.
    TimeOut,
    /// Someone cancelled the run.
    Cancel,
    /// Its trigger rule decided it will not run.
    Skip,
    /// Its trigger rule decided it cannot run because upstream failed.
    MarkUpstreamFailed,
    /// A failed or timed-out attempt with retries left goes back to the queue.
    Retry,
    /// Re-run ("clear" in Airflow): a finished step goes back to the queue.
    Clear,
}

impl StepState {
    pub const ALL: [StepState; 8] = [
        StepState::Queued,
        StepState::Running,
        StepState::Success,
        StepState::Failed,
        StepState::Skipped,
        StepState::UpstreamFailed,
        StepState::Cancelled,
        StepState::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Queued => "queued",
            StepState::Running => "running",
            StepState::Success => "success",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::UpstreamFailed => "upstream_failed",
            StepState::Cancelled => "cancelled",
            StepState::TimedOut => "timed_out",
        }
    }

    /// Finished: nothing more happens unless it is retried or cleared.
    pub fn is_done(self) -> bool {
        !matches!(self, StepState::Queued | StepState::Running)
    }

    /// Finished badly, as trigger rules count it: a timeout or a
    /// cancellation is a failure for what comes after.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            StepState::Failed | StepState::TimedOut | StepState::Cancelled
        )
    }
}

stored_names!(StepState, "step state");

impl StepEvent {
    pub const ALL: [StepEvent; 9] = [
        StepEvent::Start,
        StepEvent::Succeed,
        StepEvent::Fail,
        StepEvent::TimeOut,
        StepEvent::Cancel,
        StepEvent::Skip,
        StepEvent::MarkUpstreamFailed,
        StepEvent::Retry,
        StepEvent::Clear,
    ];

    /// The states this event may move a step out of: its column of the
    /// table, so a write's `WHERE state IN (…)` guard is read from here and
    /// never written by hand beside the table.
    pub fn from_states(self) -> Vec<StepState> {
        StepState::ALL
            .into_iter()
            .filter(|from| transition(*from, self).is_ok())
            .collect()
    }

    /// The state this event moves a step into: the same from every state
    /// it is legal in (the table is built that way; a test holds it).
    pub fn target(self) -> StepState {
        use StepEvent as E;
        use StepState as S;
        match self {
            E::Start => S::Running,
            E::Succeed => S::Success,
            E::Fail => S::Failed,
            E::TimeOut => S::TimedOut,
            E::Cancel => S::Cancelled,
            E::Skip => S::Skipped,
            E::MarkUpstreamFailed => S::UpstreamFailed,
            E::Retry | E::Clear => S::Queued,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} step cannot {event:?}")]
pub struct IllegalTransition {
    pub from: StepState,
    pub event: StepEvent,
}

/// The state after `event`, or why it cannot happen now.
pub fn transition(from: StepState, event: StepEvent) -> Result<StepState, IllegalTransition> {
    use StepEvent as E;
    use StepState as S;
    let to = match (from, event) {
        (S::Queued, E::Start) => S::Running,
        (S::Queued, E::Skip) => S::Skipped,
        (S::Queued, E::MarkUpstreamFailed) => S::UpstreamFailed,
        (S::Queued | S::Running, E::Cancel) => S::Cancelled,
        // A worker lost before it could start the process fails the step too.
        (S::Queued | S::Running, E::Fail) => S::Failed,
        (S::Running, E::Succeed) => S::Success,
        (S::Running, E::TimeOut) => S::TimedOut,
        (S::Failed | S::TimedOut, E::Retry) => S::Queued,
        (s, E::Clear) if s.is_done() => S::Queued,
        (from, event) => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepEvent as E;
    use StepState as S;

    /// Every (state, event) pair and its expected outcome; `None` = illegal.
    fn expected(from: S, event: E) -> Option<S> {
        match (from, event) {
            (S::Queued, E::Start) => Some(S::Running),
            (S::Queued, E::Skip) => Some(S::Skipped),
            (S::Queued, E::MarkUpstreamFailed) => Some(S::UpstreamFailed),
            (S::Queued, E::Cancel) | (S::Running, E::Cancel) => Some(S::Cancelled),
            (S::Queued, E::Fail) | (S::Running, E::Fail) => Some(S::Failed),
            (S::Running, E::Succeed) => Some(S::Success),
            (S::Running, E::TimeOut) => Some(S::TimedOut),
            (S::Failed, E::Retry) | (S::TimedOut, E::Retry) => Some(S::Queued),
            (
                S::Success
                | S::Failed
                | S::Skipped
                | S::UpstreamFailed
                | S::Cancelled
                | S::TimedOut,
                E::Clear,
            ) => Some(S::Queued),
            _ => None,
        }
    }

    #[test]
    fn the_whole_table() {
        let mut legal = 0;
        for from in StepState::ALL {
            for event in StepEvent::ALL {
                let got = transition(from, event).ok();
                assert_eq!(got, expected(from, event), "{from} + {event:?}");
                legal += usize::from(got.is_some());
            }
        }
        assert_eq!(legal, 17);
    }

    #[test]
    fn finished_steps_stay_finished_without_retry_or_clear() {
        for from in StepState::ALL.into_iter().filter(|s| s.is_done()) {
            for event in [
                E::Start,
                E::Succeed,
                E::Fail,
                E::TimeOut,
                E::Cancel,
                E::Skip,
            ] {
                let err = transition(from, event).unwrap_err();
                assert_eq!(err, IllegalTransition { from, event });
                assert!(err.to_string().contains(from.as_str()));
            }
        }
    }

    #[test]
    fn only_failures_are_retried() {
        assert_eq!(transition(S::Failed, E::Retry), Ok(S::Queued));
        assert_eq!(transition(S::TimedOut, E::Retry), Ok(S::Queued));
        for from in [
            S::Success,
            S::Skipped,
            S::Cancelled,
            S::UpstreamFailed,
            S::Queued,
            S::Running,
        ] {
            assert!(transition(from, E::Retry).is_err(), "{from}");
        }
    }

    #[test]
    fn every_event_has_one_target_and_some_source() {
        for event in StepEvent::ALL {
            let from = event.from_states();
            assert!(!from.is_empty(), "{event:?} is never legal");
            for state in from {
                assert_eq!(transition(state, event), Ok(event.target()), "{event:?}");
            }
        }
        assert_eq!(E::Cancel.from_states(), vec![S::Queued, S::Running]);
        assert_eq!(E::Start.from_states(), vec![S::Queued]);
        assert_eq!(E::Retry.from_states(), vec![S::Failed, S::TimedOut]);
        assert_eq!(E::Clear.from_states().len(), 6);
    }

    #[test]
    fn names_round_trip() {
        for state in StepState::ALL {
            assert_eq!(state.as_str().parse::<StepState>(), Ok(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{state}\""));
        }
        assert!("done".parse::<StepState>().is_err());
    }
}

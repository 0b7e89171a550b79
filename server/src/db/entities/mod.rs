//! SeaORM entities, one file per table. The schema itself lives in the
//! `kiln-migrations` crate; these mirror it for queries.

pub mod api_token;
pub mod commit_status;
pub mod definition;
pub mod delivery;
pub mod instance_owner;
pub mod membership;
pub mod node;
pub mod repository;
pub mod run;
pub mod run_event;
pub mod schedule;
pub mod schedule_firing;
pub mod secret;
pub mod session;
pub mod step;
pub mod user;
pub mod worker_label_grant;
pub mod workflow;
pub mod workflow_version;

#[cfg(test)]
mod tests {
    use kiln_core::engine::{RunKind, RunState, RunTrigger, StepState};
    use sea_orm::sea_query::{Value, ValueType};

    /// States, triggers and kinds are columns of their own type: each is stored
    /// as its name and read back as itself; a name no Kiln wrote is an
    /// error on read, never a silent default.
    #[test]
    fn states_and_triggers_are_stored_as_their_names() {
        for state in StepState::ALL {
            let stored = Value::from(state);
            assert_eq!(stored, Value::from(state.as_str()));
            assert_eq!(<StepState as ValueType>::try_from(stored).ok(), Some(state));
        }
        for state in RunState::ALL {
            let stored = Value::from(state);
            assert_eq!(stored, Value::from(state.as_str()));
            assert_eq!(<RunState as ValueType>::try_from(stored).ok(), Some(state));
        }
        for trigger in RunTrigger::ALL {
            let stored = Value::from(trigger);
            assert_eq!(stored, Value::from(trigger.as_str()));
            assert_eq!(
                <RunTrigger as ValueType>::try_from(stored).ok(),
                Some(trigger)
            );
        }
        for kind in RunKind::ALL {
            let stored = Value::from(kind);
            assert_eq!(stored, Value::from(kind.as_str()));
            assert_eq!(<RunKind as ValueType>::try_from(stored).ok(), Some(kind));
        }
        for unknown in ["", "done", "Running", "success "] {
            assert!(<RunKind as ValueType>::try_from(Value::from(unknown)).is_err());
            assert!(<StepState as ValueType>::try_from(Value::from(unknown)).is_err());
            assert!(<RunState as ValueType>::try_from(Value::from(unknown)).is_err());
            assert!(<RunTrigger as ValueType>::try_from(Value::from(unknown)).is_err());
        }
    }
}

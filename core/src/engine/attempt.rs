//! What follows one attempt of a step: the state it ends in, and whether it
//! goes back to the queue for another try (and after how long). Pure; the
//! worker applies the answer in one transaction.

use std::time::Duration;

use super::step_state::{StepEvent, StepState, transition};

/// How an attempt ended, as the worker saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    Succeeded,
    /// Exit code, or the HTTP status, or nothing when it never started.
    Failed {
        code: Option<i32>,
        message: String,
    },
    TimedOut,
    /// Its worker stopped renewing the lease.
    WorkerLost {
        worker: String,
    },
    /// Its worker shut down and stopped it after the grace period.
    StoppedByShutdown {
        worker: String,
    },
}

impl AttemptEnd {
    /// The move that ends a running attempt this way.
    pub fn event(&self) -> StepEvent {
        match self {
            AttemptEnd::Succeeded => StepEvent::Succeed,
            AttemptEnd::TimedOut => StepEvent::TimeOut,
            AttemptEnd::Failed { .. }
            | AttemptEnd::WorkerLost { .. }
            | AttemptEnd::StoppedByShutdown { .. } => StepEvent::Fail,
        }
    }
}

/// The step's next move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Finished in this state, with this message.
    Finish { state: StepState, message: String },
    /// Back to the queue after `delay`; the message says why.
    Retry { delay: Duration, message: String },
}

/// Decides the step's next move. `retries_left` counts what remains of the
/// task's `retries:`; `delay_for` gives the wait before retry number N (1 =
/// the first retry).
pub fn after_attempt(
    end: &AttemptEnd,
    retries_left: u32,
    retries: u32,
    delay_for: impl Fn(u32) -> Duration,
) -> Next {
    // The end state comes from the state machine, like every other move.
    let ended = |event| transition(StepState::Running, event).unwrap_or(StepState::Failed);
    debug_assert_eq!(ended(end.event()), end.event().target());
    let (state, message) = match end {
        AttemptEnd::Succeeded => {
            return Next::Finish {
                state: ended(StepEvent::Succeed),
                message: String::new(),
            };
        }
        AttemptEnd::Failed { code, message } => (
            ended(StepEvent::Fail),
            match code {
                Some(code) if message.is_empty() => format!("exited with code {code}"),
                _ => message.clone(),
            },
        ),
        AttemptEnd::TimedOut => (
            ended(StepEvent::TimeOut),
            "timed out and was killed".to_owned(),
        ),
        AttemptEnd::WorkerLost { worker } => (
            ended(StepEvent::Fail),
            format!("worker {worker} was lost (it stopped renewing its lease)"),
        ),
        AttemptEnd::StoppedByShutdown { worker } => (
            ended(StepEvent::Fail),
            format!("stopped by shutdown of worker {worker}"),
        ),
    };
    if retries_left == 0 || transition(state, StepEvent::Retry).is_err() {
        return Next::Finish { state, message };
    }
    let retry_number = retries.saturating_sub(retries_left) + 1;
    let delay = delay_for(retry_number);
    Next::Retry {
        message: format!(
            "{message}; retry {retry_number} of {retries} in {} s",
            delay.as_secs()
        ),
        delay,
    }
}

/// The queue a step's job goes to: one shared queue, or one per set of
/// required worker labels (sorted, so the same set is always the same name).
pub fn queue_for(labels: &[String]) -> String {
    if labels.is_empty() {
        return QUEUE.to_owned();
    }
    let mut sorted: Vec<&str> = labels.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    format!("{QUEUE}@{}", sorted.join("+"))
}

/// Every queue a worker with `labels` serves: one per non-empty subset of
/// its labels (a task needing {gpu} runs on a {gpu, linux} worker). A
/// worker without labels serves the shared queue; one with labels does
/// not, so a labelled machine (holding a team's deploy keys) runs only
/// tasks that asked for its labels, which are granted per group — never
/// any project's unlabelled task. Labels beyond the first `MAX_LABELS` are
/// ignored, bounding the count.
pub fn queues_served(labels: &[String]) -> Vec<String> {
    let mut labels: Vec<String> = labels.to_vec();
    labels.sort_unstable();
    labels.dedup();
    labels.truncate(MAX_LABELS);
    if labels.is_empty() {
        return vec![QUEUE.to_owned()];
    }
    let mut out = Vec::new();
    for mask in 1u32..(1 << labels.len()) {
        let subset: Vec<String> = labels
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, l)| l.clone())
            .collect();
        out.push(queue_for(&subset));
    }
    out
}

pub const QUEUE: &str = "kiln.steps";
pub const MAX_LABELS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u32) -> Duration {
        Duration::from_secs(u64::from(n) * 10)
    }

    #[test]
    fn success_finishes_whatever_the_retries() {
        assert_eq!(
            after_attempt(&AttemptEnd::Succeeded, 3, 3, secs),
            Next::Finish {
                state: StepState::Success,
                message: String::new()
            }
        );
    }

    #[test]
    fn failures_retry_while_retries_remain() {
        let failed = AttemptEnd::Failed {
            code: Some(2),
            message: String::new(),
        };
        let first = after_attempt(&failed, 2, 2, secs);
        assert_eq!(
            first,
            Next::Retry {
                delay: Duration::from_secs(10),
                message: "exited with code 2; retry 1 of 2 in 10 s".into()
            }
        );
        let second = after_attempt(&AttemptEnd::TimedOut, 1, 2, secs);
        assert!(matches!(second, Next::Retry { delay, .. } if delay == Duration::from_secs(20)));
        let last = after_attempt(&failed, 0, 2, secs);
        assert_eq!(
            last,
            Next::Finish {
                state: StepState::Failed,
                message: "exited with code 2".into()
            }
        );
        let lost = after_attempt(
            &AttemptEnd::WorkerLost {
                worker: "w1".into(),
            },
            0,
            0,
            secs,
        );
        assert!(
            matches!(lost, Next::Finish { state: StepState::Failed, ref message } if message.contains("worker w1 was lost"))
        );
        let stopped = AttemptEnd::StoppedByShutdown {
            worker: "w2".into(),
        };
        assert!(matches!(
            after_attempt(&stopped, 0, 0, secs),
            Next::Finish { state: StepState::Failed, ref message } if message == "stopped by shutdown of worker w2"
        ));
        assert!(matches!(
            after_attempt(&stopped, 1, 1, secs),
            Next::Retry { ref message, .. } if message.starts_with("stopped by shutdown of worker w2; retry 1 of 1")
        ));
        let timed_out = after_attempt(&AttemptEnd::TimedOut, 0, 0, secs);
        assert!(matches!(
            timed_out,
            Next::Finish {
                state: StepState::TimedOut,
                ..
            }
        ));
    }

    #[test]
    fn queues_follow_labels() {
        assert_eq!(queue_for(&[]), "kiln.steps");
        assert_eq!(
            queue_for(&["linux".into(), "gpu".into()]),
            "kiln.steps@gpu+linux"
        );
        let served = queues_served(&["linux".into(), "gpu".into()]);
        assert_eq!(served.len(), 3);
        for needed in [vec!["gpu".to_owned()], vec!["linux".into(), "gpu".into()]] {
            assert!(served.contains(&queue_for(&needed)), "{needed:?}");
        }
        assert!(!served.contains(&queue_for(&["arm".into()])));
        assert!(
            !served.contains(&queue_for(&[])),
            "a labelled worker runs no unlabelled task"
        );
        assert_eq!(queues_served(&[]), vec![queue_for(&[])]);
        let many: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
        assert_eq!(queues_served(&many).len(), 15);
    }
}

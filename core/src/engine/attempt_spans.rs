//! When each attempt of each step ran, read back from a run's recorded
//! moves: an attempt starts when its step moves into `running` and ends
//! with the next move out of it (the state it ended in). The run page's
//! timeline draws these; every attempt, not only the last, so a retried
//! step shows its failed tries. Pure.

use super::step_state::StepState;

/// One recorded move of a step: which attempt, into what state, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepMove<'a> {
    pub task: &'a str,
    pub attempt: i32,
    pub to: StepState,
    pub at_ms: i64,
}

/// One attempt's time on a worker; `end_ms` is `None` while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSpan {
    pub task: String,
    pub attempt: i32,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    /// How it ended (`Running` while it runs).
    pub state: StepState,
}

/// The attempts in `moves` (in the order they were recorded), in the order
/// they started.
pub fn attempt_spans<'a>(moves: impl IntoIterator<Item = StepMove<'a>>) -> Vec<AttemptSpan> {
    let mut spans: Vec<AttemptSpan> = Vec::new();
    // Index in `spans` of the attempt each task is running, if any.
    let mut open: std::collections::HashMap<&'a str, usize> = std::collections::HashMap::new();
    for m in moves {
        if let Some(index) = open.remove(m.task) {
            let span = &mut spans[index];
            span.end_ms = Some(m.at_ms.max(span.start_ms));
            // Straight back to the queue (a lost worker's attempt) is a
            // failed try.
            span.state = match m.to {
                StepState::Queued | StepState::Running => StepState::Failed,
                other => other,
            };
        }
        if m.to == StepState::Running {
            open.insert(m.task, spans.len());
            spans.push(AttemptSpan {
                task: m.task.to_owned(),
                attempt: m.attempt,
                start_ms: m.at_ms,
                end_ms: None,
                state: StepState::Running,
            });
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepState::*;

    fn mv(task: &str, attempt: i32, to: StepState, at_ms: i64) -> StepMove<'_> {
        StepMove {
            task,
            attempt,
            to,
            at_ms,
        }
    }

    #[test]
    fn a_retried_step_has_one_span_per_attempt() {
        let spans = attempt_spans([
            mv("build", 1, Running, 100),
            mv("build", 1, Failed, 300),
            mv("build", 2, Queued, 310),
            mv("test", 1, Running, 320),
            mv("build", 2, Running, 400),
            mv("build", 2, Success, 900),
        ]);
        let got: Vec<(&str, i32, i64, Option<i64>, StepState)> = spans
            .iter()
            .map(|s| (s.task.as_str(), s.attempt, s.start_ms, s.end_ms, s.state))
            .collect();
        assert_eq!(
            got,
            [
                ("build", 1, 100, Some(300), Failed),
                ("test", 1, 320, None, Running),
                ("build", 2, 400, Some(900), Success),
            ]
        );
    }

    #[test]
    fn steps_that_never_ran_have_no_span() {
        let spans = attempt_spans([
            mv("a", 1, Skipped, 10),
            mv("b", 1, UpstreamFailed, 10),
            mv("c", 1, Queued, 5),
        ]);
        assert!(spans.is_empty());
    }

    #[test]
    fn a_lost_attempt_back_in_the_queue_counts_as_failed_and_clocks_never_run_backwards() {
        let spans = attempt_spans([mv("a", 1, Running, 50), mv("a", 2, Queued, 40)]);
        assert_eq!(spans[0].state, Failed);
        assert_eq!(spans[0].end_ms, Some(50));
    }
}

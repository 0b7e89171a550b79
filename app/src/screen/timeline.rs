//! Where the run page's timeline (a Gantt chart of attempts) puts its bars:
//! one row per task in the order given, one bar per attempt, placed as a
//! share of the run's time so far. Pure.

use std::collections::HashMap;

use kiln_core::engine::StepState;

/// An attempt as the page receives it: times in ms from the run's start,
/// `end` `None` while it runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub task: String,
    pub attempt: i32,
    pub start: i64,
    pub end: Option<i64>,
    pub state: StepState,
}

/// A bar: left edge and width in percent of the axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub attempt: i32,
    pub left: f64,
    pub width: f64,
    pub state: StepState,
    pub took_ms: i64,
    pub start_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub task: String,
    pub bars: Vec<Bar>,
}

/// The narrowest bar drawn, in percent, so an instant attempt still shows.
const MIN_WIDTH: f64 = 0.4;

/// Where the axis of `spans` ends, in ms from the run's start: the last
/// end (a running attempt's is `until`), and at least `until`.
pub fn axis_ms(spans: &[Span], until: i64) -> i64 {
    spans
        .iter()
        .map(|s| s.end.unwrap_or(until).max(s.start))
        .chain([until])
        .max()
        .unwrap_or(0)
        .max(1)
}

/// The rows for `tasks` (those with no attempt are left out) over an axis
/// from the run's start to `until` ms (the run's end, or now).
pub fn rows(tasks: &[String], spans: &[Span], until: i64) -> Vec<Row> {
    let axis = axis_ms(spans, until) as f64;
    // Spans by task, once: a run may have thousands of both.
    let mut by_task: HashMap<&str, Vec<&Span>> = HashMap::new();
    for span in spans {
        by_task.entry(span.task.as_str()).or_default().push(span);
    }
    tasks
        .iter()
        .filter_map(|task| {
            let bars: Vec<Bar> = by_task
                .get(task.as_str())?
                .iter()
                .map(|s| {
                    let start = s.start.max(0);
                    let end = s.end.unwrap_or(until).max(start);
                    let left = start as f64 / axis * 100.0;
                    let width = ((end - start) as f64 / axis * 100.0).max(MIN_WIDTH);
                    Bar {
                        attempt: s.attempt,
                        left: left.min(100.0 - MIN_WIDTH),
                        width: width.min(100.0 - left.min(100.0 - MIN_WIDTH)),
                        state: s.state,
                        took_ms: end - start,
                        start_ms: start,
                    }
                })
                .collect();
            (!bars.is_empty()).then(|| Row {
                task: task.clone(),
                bars,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(task: &str, attempt: i32, start: i64, end: Option<i64>, state: StepState) -> Span {
        Span {
            task: task.into(),
            attempt,
            start,
            end,
            state,
        }
    }

    #[test]
    fn bars_are_shares_of_the_run_and_retries_sit_on_their_task_row() {
        let tasks = vec!["build".to_owned(), "test".to_owned(), "never".to_owned()];
        let spans = [
            span("build", 1, 0, Some(250), StepState::Failed),
            span("build", 2, 300, Some(500), StepState::Success),
            span("test", 1, 500, None, StepState::Running),
        ];
        let rows = rows(&tasks, &spans, 1_000);
        assert_eq!(rows.len(), 2, "a task that never ran has no row");
        assert_eq!(rows[0].bars.len(), 2);
        assert_eq!(rows[0].bars[0].left, 0.0);
        assert_eq!(rows[0].bars[0].width, 25.0);
        assert_eq!(rows[0].bars[1].left, 30.0);
        assert_eq!(rows[1].bars[0].width, 50.0, "a running attempt reaches now");
        assert_eq!(rows[1].bars[0].took_ms, 500);
    }

    #[test]
    fn instant_and_odd_spans_stay_visible_and_inside_the_axis() {
        let tasks = vec!["a".to_owned(), "b".to_owned()];
        let spans = [
            span("a", 1, 1_000, Some(1_000), StepState::Success),
            span("b", 1, -5, Some(-10), StepState::Failed),
        ];
        for row in rows(&tasks, &spans, 1_000) {
            for bar in row.bars {
                assert!(bar.width >= MIN_WIDTH - 1e-9, "{bar:?}");
                assert!(
                    bar.left >= 0.0 && bar.left + bar.width <= 100.0 + 1e-9,
                    "{bar:?}"
                );
            }
        }
    }
}

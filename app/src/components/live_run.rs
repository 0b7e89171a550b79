//! Following a run live in the browser: the run's event stream
//! (`/api/v1/runs/{id}/events`), each step change set on its drawn box and
//! row (`run_patch`), the latest one also told to screen readers,
//! and the run's own change reported: its end (the page then reads its
//! server-drawn parts again once) or a reset (a re-run: the page loads
//! again, to follow the new attempts). Nothing is polled.

use leptos::prelude::*;
use serde::Deserialize;

use super::event_stream::{self, Handler};
use super::run_patch;
use crate::runs::data::StepView;

/// The latest step change in words ("t001 success"), for a polite live
/// region: it holds one change, replaced by the next.
pub type StepNews = RwSignal<String>;

/// How often the live region changes at most: the latest step change since
/// the last is told, the ones between are not (a screen reader may queue
/// every change of a polite region, and a wide run makes hundreds).
const NEWS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A step event's payload, as far as the page needs it.
#[derive(Deserialize)]
struct Change {
    step: Option<StepView>,
}

/// Follows run `run` from event `after` on: step changes go onto the
/// drawn graph and steps, and into `news`; `on_end` is called when the run
/// itself changes and `on_reset` when it is reset (the stream then
/// closes). Closed when the calling scope is cleaned up.
pub fn follow(
    run: i64,
    after: i64,
    news: StepNews,
    on_end: impl Fn() + 'static,
    on_reset: impl Fn() + 'static,
) {
    // The latest change not yet told; a timer tells it.
    let untold: StoredValue<Option<String>> = StoredValue::new(None);
    let on_step: Handler = Box::new(move |data: String| {
        if let Ok(Change { step: Some(step) }) = serde_json::from_str::<Change>(&data) {
            let text = format!("{} {}", step.task, step.state.as_str().replace('_', " "));
            let timer_set = untold.with_value(Option::is_some);
            untold.set_value(Some(text));
            if !timer_set {
                set_timeout(
                    move || {
                        let mut text = None;
                        untold.update_value(|latest| text = latest.take());
                        if let Some(text) = text {
                            news.set(text);
                        }
                    },
                    NEWS_EVERY,
                );
            }
            run_patch::step(&step);
        }
    });
    event_stream::open(
        "run",
        format!("/api/v1/runs/{run}/events?after={after}"),
        vec![
            ("step", on_step),
            ("run", Box::new(move |_| on_end())),
            ("reset", Box::new(move |_| on_reset())),
        ],
        &["run", "reset"],
        Some("after"),
    );
}

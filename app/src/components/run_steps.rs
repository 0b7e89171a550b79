//! A run's steps table, the graph's text alternative: a row per task with
//! its state, attempt, start, duration, exit code and message, a button
//! that re-runs it, and its attempts on the run's time axis (the timeline:
//! a retried step shows its failed tries). Drawn once (see `drawn_part`);
//! the run's events are patched onto the rows (`run_patch`). A big run
//! shows its first rows and a link to all of them: the graph above has
//! every task, and each box opens its log.

use std::collections::HashMap;

use kiln_core::engine::StepState;
use leptos::prelude::*;
use leptos::tachys::svg;

use super::drawn_part::drawn_part;
use super::run_state::{badge_class, duration, fill};
use crate::runs::data::{DrawnOnServer, RunDetail, StepView};
use crate::screen::timeline::{Row, axis_ms, rows};

/// Rows shown before "Show all": a page stays small for any run.
pub const FIRST_ROWS: usize = 100;

#[component]
pub fn RunSteps(
    /// Drawn by the server on a page load.
    detail: DrawnOnServer<RunDetail>,
    run: i64,
    /// Each row has a "Re-run" button.
    rerun: bool,
    /// Every row, not only the first ones.
    all: bool,
) -> impl IntoView {
    // One form for every row's "Re-run" (each button names its task):
    // a form each was most of a row's bytes.
    let rerun_form = rerun.then(|| {
        view! {
            <form id="rerun-step" method="post" action=format!("/ui/runs/{run}/retry")></form>
            <p id="rerun-step-help" class="sr-only">"Runs this step and the steps after it again"</p>
        }
    });
    let table = drawn_part(
        "steps-box",
        "mt-4",
        &detail,
        &format!("steps rerun={rerun} all={all}"),
        move |detail| steps_table(detail, run, rerun, all),
    );
    view! { {rerun_form} {table} }
}

fn steps_table(detail: &RunDetail, run: i64, rerun: bool, all: bool) -> impl IntoView + use<> {
    let shown = if all { usize::MAX } else { FIRST_ROWS };
    let tasks: Vec<String> = detail
        .steps
        .iter()
        .take(shown)
        .map(|s| s.task.clone())
        .collect();
    let timeline = rows(&tasks, &detail.spans, detail.timeline_until);
    // The bars' axis, the header's marks too (every span's, shown or not).
    let axis = axis_ms(&detail.spans, detail.timeline_until);
    let marks: Vec<String> = (0..=4)
        .map(|q| match q {
            0 => "0".to_owned(),
            q => duration(Some(axis * q / 4)),
        })
        .collect();
    let mut bars: HashMap<String, Row> =
        timeline.into_iter().map(|r| (r.task.clone(), r)).collect();
    let rows = detail
        .steps
        .iter()
        .take(shown)
        .map(|s| step_row(s, run, rerun, bars.remove(&s.task)))
        .collect_view();
    let left_out = detail
        .left_out
        .iter()
        .map(|(task, why)| {
            view! {
                // Not in the run: the event's `when:` left it out.
                <tr class="text-stone-500" data-task=task.clone() data-left-out="true">
                    <td>{task.clone()}</td>
                    <td>{badge(StepState::Skipped)}</td>
                    <td colspan="7" class="text-xs">{format!("left out by when: {why}")}</td>
                </tr>
            }
        })
        .collect_view();
    let hidden = detail.steps.len().saturating_sub(shown);
    let more = (hidden > 0).then(|| {
        // A page load: the server draws every row (the browser has no data
        // for them on a page it hydrated).
        view! {
            <p class="mt-2 text-sm" id="steps-more">
                {format!("{} of {} steps shown. ", shown, detail.steps.len())}
                <a class="underline" rel="external" href=format!("/runs/{run}?steps=all#steps")>{format!("Show all {} steps", detail.steps.len())}</a>
            </p>
        }
    });
    view! {
        <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="steps">
            <caption class="sr-only">"The run's steps, with their attempts on a timeline from the run's start"</caption>
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th class="py-2">"Task"</th><th>"State"</th><th>"Attempt"</th><th title="After the run's start">"Started"</th><th>"Took"</th><th>"Exit"</th><th>"Message"</th><th>{rerun.then(|| view! { <span class="sr-only">"Re-run"</span> })}</th>
                    <th class="min-w-48 font-normal text-stone-600 dark:text-stone-400" id="timeline">
                        <span class="sr-only">"Attempts over time, from the run's start"</span>
                        <div class="flex justify-between text-xs" aria-hidden="true" id="timeline-axis">
                            {marks.into_iter().map(|t| view! { <span>{t}</span> }).collect_view()}
                        </div>
                    </th>
                </tr>
            </thead>
            <tbody>{rows}{left_out}</tbody>
        </table></div>
        {more}
    }
}

/// A state's badge, as `StateBadge` draws it (a plain function: drawn
/// parts hold no component, see `drawn_part`).
fn badge(state: StepState) -> impl IntoView + use<> {
    view! { <span class=badge_class(state.into()) data-state=state.as_str()>{state.as_str()}</span> }
}

/// A step's row; `bars` are its attempts on the timeline, if it started.
fn step_row(s: &StepView, run: i64, rerun: bool, bars: Option<Row>) -> AnyView {
    let task = s.task.clone();
    let artifacts = s.artifacts.clone().map(|label| view! {
        <a class="artifacts ml-2 text-xs underline" download href=format!("/api/v1/runs/{run}/steps/{task}/artifacts")>
            {format!("artifacts ({label})")}
        </a>
    });
    let timeline = bars.map(|row| {
        let rects = row
            .bars
            .into_iter()
            .map(|bar| {
                let text = format!(
                    "{} attempt {}: {} from {} to {} ({})",
                    row.task,
                    bar.attempt,
                    bar.state.as_str(),
                    duration(Some(bar.start_ms)),
                    duration(Some(bar.start_ms + bar.took_ms)),
                    duration(Some(bar.took_ms)),
                );
                view! {
                    <rect class="timeline-bar" data-attempt=bar.attempt data-state=bar.state.as_str()
                        x=format!("{:.1}", bar.left * 10.0) width=format!("{:.1}", bar.width * 10.0)
                        fill=fill(bar.state.into()) role="img">
                        // Not `<title>`: the view macro would make it HTML.
                        {svg::title().child(text)}
                    </rect>
                }
            })
            .collect_view();
        view! { <svg viewBox="0 0 1000 16" preserveAspectRatio="none">{rects}</svg> }
    });
    view! {
        <tr data-task=task.clone()>
            <td><a href=format!("/runs/{run}?step={task}#log-title")>{task.clone()}</a></td>
            <td>{badge(s.state)}</td>
            <td>{s.attempt}</td>
            <td title=s.started_at.clone()>{s.start_offset_ms.map(|ms| format!("+{}", duration(Some(ms))))}</td>
            <td>{duration(s.duration_ms)}</td>
            <td>{s.exit_code}</td>
            <td class="text-xs">{s.message.clone()}{artifacts}</td>
            <td>{rerun.then(|| view! {
                <button type="submit" form="rerun-step" name="task" value=task.clone() class="rerun-step" aria-describedby="rerun-step-help">"Re-run"</button>
            })}</td>
            <td>{timeline}</td>
        </tr>
    }
    .into_any()
}

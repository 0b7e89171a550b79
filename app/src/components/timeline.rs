//! The run page's timeline: a Gantt chart with a row per task and a bar per
//! attempt (a retried step shows its failed tries), placed on the run's
//! time axis, coloured by how the attempt ended and named so on hover and
//! for screen readers. Drawn once from
//! the page's data; a running run's page reloads at the run's end.

use leptos::prelude::*;

use super::run_state::{duration, fill};
use crate::screen::timeline::{Span, rows};

#[component]
pub fn Timeline(
    /// Tasks in the steps table's order.
    tasks: Vec<String>,
    spans: Vec<Span>,
    /// Where the axis ends, in ms from the run's start.
    until: i64,
    run: i64,
) -> impl IntoView {
    let rows = rows(&tasks, &spans, until);
    if rows.is_empty() {
        return view! { <p class="text-sm text-stone-500" id="timeline-empty">"No step has started yet."</p> }
            .into_any();
    }
    let axis = rows
        .iter()
        .flat_map(|r| r.bars.iter().map(|b| b.start_ms + b.took_ms))
        .chain([until])
        .max()
        .unwrap_or(1);
    // Inline styles are refused by the pages' Content-Security-Policy:
    // bars are SVG rectangles (attributes, not styles) on a 0–1000 axis
    // stretched to the cell's width.
    let quarters: Vec<String> = (0..=4)
        .map(|q| match q {
            0 => "0".to_owned(),
            q => duration(Some(axis * q / 4)),
        })
        .collect();
    view! {
        <div tabindex="0" class="relative overflow-x-auto rounded-lg border border-stone-200 bg-white p-3 text-xs dark:border-stone-800 dark:bg-stone-900">
            <table class="w-full min-w-[36rem]" id="timeline">
                <caption class="sr-only">"Timeline of the run's attempts"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="w-40 pb-1 text-left font-medium">"Task"</th>
                        <th scope="col" class="pb-1 text-left font-normal text-stone-600 dark:text-stone-400">
                            <span class="sr-only">"Attempts over time, from the run's start"</span>
                            <div class="flex justify-between" aria-hidden="true" id="timeline-axis">
                                {quarters.into_iter().map(|t| view! { <span>{t}</span> }).collect_view()}
                            </div>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let task = row.task.clone();
                            view! {
                                <tr data-task=row.task.clone()>
                                    <th scope="row" title=row.task.clone()>
                                        <a class="hover:underline" href=format!("/runs/{run}?step={task}#log-title")>{row.task.clone()}</a>
                                    </th>
                                    <td>
                                        <svg viewBox="0 0 1000 16" preserveAspectRatio="none">
                                            {row.bars
                                                .into_iter()
                                                .map(|bar| {
                                                    let text = format!(
                                                        "{task} attempt {}: {} from {} to {} ({})",
                                                        bar.attempt,
                                                        bar.state,
                                                        duration(Some(bar.start_ms)),
                                                        duration(Some(bar.start_ms + bar.took_ms)),
                                                        duration(Some(bar.took_ms)),
                                                    );
                                                    view! {
                                                        <rect class="timeline-bar" data-attempt=bar.attempt data-state=bar.state.as_str()
                                                            x=format!("{:.2}", bar.left * 10.0) width=format!("{:.2}", bar.width * 10.0)
                                                            fill=fill(bar.state.into()) role="img">
                                                            <title>{text}</title>
                                                        </rect>
                                                    }
                                                })
                                                .collect_view()}
                                        </svg>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

//! A run's graph as SVG, in a box of its own that scrolls: fit to the
//! box's width at first (shrunk when wider, never blown up; a graph too
//! wide to read that way starts at half size), zoomed in and out with
//! buttons. Boxes sit where
//! the layered layout put them, coloured by state and marked with the
//! state's symbol (a legend says which is which), live as the run's events
//! arrive, with arrows from each dependency. A long name is cut with an
//! ellipsis and shown whole on hover; the selected task's box is outlined;
//! a box links to its log, which the page shows right below the graph.

use kiln_core::engine::StepState;
use leptos::prelude::*;

use super::live_run::{LiveSteps, current};
use super::run_state::{fill, symbol};
use crate::runs::data::{GraphView, StepView};
use crate::screen::graph_layout::{NODE_HEIGHT, NODE_WIDTH};

/// Characters of a name that fit in a box beside the state's symbol.
const LABEL_CHARS: usize = 17;

/// `name`, cut to fit a box with an ellipsis.
pub fn label(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS {
        return name.to_owned();
    }
    let mut cut: String = name.chars().take(LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Zoom steps; `None` is "fit to the box's width".
const ZOOMS: [f64; 6] = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0];

fn zoom_step(now: Option<f64>, up: bool) -> Option<f64> {
    let now = now.unwrap_or(1.0);
    let next = if up {
        ZOOMS.iter().copied().find(|z| *z > now + 1e-9)
    } else {
        ZOOMS.iter().rev().copied().find(|z| *z < now - 1e-9)
    };
    Some(next.unwrap_or(now))
}

/// Twice the page's widest content column (about 1,150 px): graphs wider
/// than this start at half size. The box's real width is not known when
/// the server draws the page, so a narrower window may still fit a graph
/// somewhat below half size.
const FIT_UP_TO: f64 = 2_300.0;

/// How a graph `width` wide is first shown: fit to the box's width, unless
/// that would shrink a wide graph's boxes far below half size (a long
/// run's labels would be specks): then at half size, scrolling inside its
/// box.
fn first_zoom(width: f64) -> Option<f64> {
    (width > FIT_UP_TO).then_some(0.5)
}

#[component]
pub fn Dag(
    graph: GraphView,
    steps: Vec<StepView>,
    run: i64,
    live: LiveSteps,
    /// The task whose log is open.
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let loaded = |task: &str| {
        steps
            .iter()
            .find(|s| s.task == task)
            .cloned()
            .unwrap_or_else(|| StepView::waiting(task))
    };
    let edges = edge_paths(&graph, "arrow");
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let now = current(live, loaded(&n.task));
            let state = move || now.get().state;
            let is_selected = {
                let task = n.task.clone();
                Signal::derive(move || selected.with(|s| s.as_deref() == Some(task.as_str())))
            };
            // Drawn once per task (a run may have thousands): where it sits
            // and what changes live are attributes here; what every box
            // shares (size, corners, fonts, the selected outline) is in the
            // stylesheet (`.dag-node`) and on the enclosing group.
            view! {
                <a href=format!("/runs/{run}?step={}#log-title", n.task)>
                    <g class="dag-node" data-task=n.task.clone() data-state=move || state().as_str() data-selected=move || is_selected.get().then_some("true")
                        transform=format!("translate({} {})", n.x, n.y)>
                        <title>{let task = n.task.clone(); move || format!("{task}: {}", state())}</title>
                        <rect fill=move || fill(state().into()) />
                        <text x="8" y="23">{label(&n.task)}</text>
                        <text x=NODE_WIDTH - 18.0 y="23" aria-hidden="true">{move || symbol(state())}</text>
                    </g>
                </a>
            }
        })
        .collect_view();
    let zoom = RwSignal::new(first_zoom(graph.width));
    let (width, height) = (graph.width, graph.height);
    let button = "rounded border border-stone-300 px-2 py-0.5 dark:border-stone-700";
    view! {
        <div class="rounded-lg border border-stone-200 bg-white dark:border-stone-800 dark:bg-stone-900">
            <div class="flex flex-wrap items-center gap-2 border-b border-stone-200 px-2 py-1 text-xs dark:border-stone-800" id="dag-controls">
                <button type="button" class=button id="dag-fit" aria-pressed=move || zoom.get().is_none().to_string() on:click=move |_| zoom.set(None)>"Fit"</button>
                <button type="button" class=button id="dag-zoom-out" aria-label="Zoom out" on:click=move |_| zoom.update(|z| *z = zoom_step(*z, false))>"−"</button>
                <button type="button" class=button id="dag-zoom-in" aria-label="Zoom in" on:click=move |_| zoom.update(|z| *z = zoom_step(*z, true))>"+"</button>
                <span class="text-stone-500" id="dag-zoom">{move || zoom.get().map_or("fit to width".to_owned(), |z| format!("{:.0}%", z * 100.0))}</span>
                <Legend />
            </div>
            <div class="max-h-[36rem] overflow-auto p-2" id="dag-box">
                <svg id="dag" role="group" aria-label=format!("Graph of the run's {} tasks and what each waits for; the steps table below lists the same", graph.nodes.len())
                    width=move || format!("{}", width * zoom.get().unwrap_or(1.0))
                    height=move || format!("{}", height * zoom.get().unwrap_or(1.0))
                    class=move || if zoom.get().is_none() { "h-auto max-w-full" } else { "max-w-none" }
                    viewBox=format!("0 0 {width} {height}")>
                    <ArrowMarker id="arrow" />
                    {edges}
                    <g fill="white" font-size="13" font-family="ui-monospace, monospace">{nodes}</g>
                </svg>
            </div>
        </div>
    }
}

/// An arrow from each dependency's box to its dependant's, ending in the
/// marker `marker` (see [`ArrowMarker`]).
pub fn edge_paths(graph: &GraphView, marker: &'static str) -> impl IntoView + use<> {
    let paths = graph
        .edges
        .iter()
        .filter_map(|&(from, to)| {
            let (a, b) = (graph.nodes.get(from)?, graph.nodes.get(to)?);
            let (x1, y1) = (a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2.0);
            let (x2, y2) = (b.x, b.y + NODE_HEIGHT / 2.0);
            let mid = (x1 + x2) / 2.0;
            Some(view! { <path d=format!("M{x1} {y1}C{mid} {y1} {mid} {y2} {x2} {y2}") /> })
        })
        .collect_view();
    // The stroke and the arrowhead are inherited from the group: a graph
    // has more edges than boxes.
    view! {
        <g fill="none" stroke="#a8a29e" stroke-width="1.5" marker-end=format!("url(#{marker})")>{paths}</g>
    }
}

/// The arrowhead the edges end in, for an SVG's `<defs>`.
#[component]
pub fn ArrowMarker(id: &'static str) -> impl IntoView {
    view! {
        <defs>
            <marker id=id viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" fill="#a8a29e" />
            </marker>
        </defs>
    }
}

/// Each state's colour and symbol, named.
#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="ml-auto flex flex-wrap gap-x-3 gap-y-1" id="dag-legend" aria-label="Legend">
            {StepState::ALL
                .into_iter()
                .map(|state| view! {
                    <li class="inline-flex items-center gap-1">
                        <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                            <rect width="16" height="16" rx="3" fill=fill(state.into()) />
                            <text x="8" y="12" text-anchor="middle" font-size="10" fill="white">{symbol(state)}</text>
                        </svg>
                        {state.as_str()}
                    </li>
                })
                .collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(label("build"), "build");
        let long = "extract_customers_from_the_warehouse";
        let cut = label(long);
        assert_eq!(cut.chars().count(), LABEL_CHARS);
        assert!(cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')));
        assert_eq!(
            label("ééééééééééééééééééééééé").chars().count(),
            LABEL_CHARS
        );
    }

    #[test]
    fn wide_graphs_start_at_half_size() {
        assert_eq!(first_zoom(900.0), None);
        assert_eq!(first_zoom(FIT_UP_TO), None);
        assert_eq!(first_zoom(5_000.0), Some(0.5));
    }

    #[test]
    fn zoom_steps_stop_at_the_ends() {
        assert_eq!(zoom_step(None, true), Some(1.5));
        assert_eq!(zoom_step(None, false), Some(0.75));
        assert_eq!(zoom_step(Some(2.0), true), Some(2.0));
        assert_eq!(zoom_step(Some(0.25), false), Some(0.25));
    }
}

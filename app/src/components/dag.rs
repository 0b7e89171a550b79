//! A run's graph as SVG, in a box of its own that scrolls: fit to the
//! box's width at first (shrunk when wider, never blown up; a graph too
//! wide to read that way starts at half size), zoomed in and out with
//! buttons. Boxes sit where
//! the layered layout put them, coloured by state and marked with the
//! state's symbol (a legend says which is which), live as the run's events
//! arrive, with arrows from each dependency. A long name is cut with an
//! ellipsis and shown whole on hover; the selected task's box is outlined;
//! a box links to its log, which the page shows right below the graph.

use std::collections::HashMap;

use kiln_core::engine::StepState;
use leptos::prelude::*;
use leptos::tachys::svg;

use super::drawn_part::drawn_part;
use super::run_patch;
use super::run_state::{fill, node_title, symbol};
use crate::runs::data::{DrawnOnServer, GraphView, RunDetail};
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

/// The graph's controls (fit, zoom, legend) and its drawing, in a box that
/// scrolls. The drawing is made once, from `detail`, by the server; zoom
/// and selection are then set on the drawn `<svg>` by the controls (an
/// island), and the run's events on its boxes (see `run_patch`).
#[component]
pub fn Dag(
    detail: DrawnOnServer<RunDetail>,
    /// The graph's natural size.
    width: f64,
    height: f64,
    run: i64,
    /// The task whose log is open.
    selected: Option<String>,
) -> impl IntoView {
    let drawing = drawn_part(
        "dag-box",
        "max-h-[36rem] overflow-auto p-2",
        &detail,
        "graph",
        |detail| graph_svg(detail, run),
    );
    view! {
        <div class="rounded-lg border border-stone-200 bg-white dark:border-stone-800 dark:bg-stone-900">
            <DagControls width height selected />
            {drawing}
        </div>
    }
}

/// Fit, zoom out and in, the zoom shown, and the legend; in the browser it
/// also outlines the `selected` task's box.
#[island]
fn DagControls(width: f64, height: f64, selected: Option<String>) -> impl IntoView {
    let zoom = RwSignal::new(first_zoom(width));
    // In the browser (effects do not run on the server); the first run
    // finds what the drawing already has.
    Effect::new(move |_| {
        let (w, h, class) = svg_size(width, height, zoom.get());
        run_patch::zoom(&w, &h, class);
    });
    // The drawing is the same for every selection (and so kept with the
    // data): the outline is set on it in the browser.
    Effect::new(move |_| run_patch::select(selected.as_deref()));
    let button = "rounded border border-stone-300 px-2 py-0.5 dark:border-stone-700";
    view! {
        <div class="flex flex-wrap items-center gap-2 border-b border-stone-200 px-2 py-1 text-xs dark:border-stone-800" id="dag-controls">
            <button type="button" class=button id="dag-fit" aria-pressed=move || zoom.get().is_none().to_string() on:click=move |_| zoom.set(None)>"Fit"</button>
            <button type="button" class=button id="dag-zoom-out" aria-label="Zoom out" on:click=move |_| zoom.update(|z| *z = zoom_step(*z, false))>"−"</button>
            <button type="button" class=button id="dag-zoom-in" aria-label="Zoom in" on:click=move |_| zoom.update(|z| *z = zoom_step(*z, true))>"+"</button>
            <span class="text-stone-500" id="dag-zoom">{move || zoom.get().map_or("fit to width".to_owned(), |z| format!("{:.0}%", z * 100.0))}</span>
            <Legend />
        </div>
    }
}

/// The `<svg>`'s width, height and class at `zoom` (`None`: fit to the
/// box's width, never blown up).
fn svg_size(width: f64, height: f64, zoom: Option<f64>) -> (String, String, &'static str) {
    let scale = zoom.unwrap_or(1.0);
    let class = if zoom.is_none() {
        "h-auto max-w-full"
    } else {
        "max-w-none"
    };
    (
        (width * scale).to_string(),
        (height * scale).to_string(),
        class,
    )
}

/// The drawing: a box per task in its state.
/// Drawn once per task (a run may have thousands): where a box sits and
/// its state are attributes here; its colour follows its state in the
/// stylesheet, and what every box shares (size, corners, fonts, the
/// selected outline) is there too or on the enclosing group.
fn graph_svg(detail: &RunDetail, run: i64) -> impl IntoView + use<> {
    let graph = &detail.graph;
    let states: HashMap<&str, StepState> = detail
        .steps
        .iter()
        .map(|s| (s.task.as_str(), s.state))
        .collect();
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let state = states
                .get(n.task.as_str())
                .copied()
                .unwrap_or(StepState::Queued);
            view! {
                // Wrapped in a group: built in the browser, a top-level `<a>`
                // would be an HTML link, which no `<svg>` draws.
                <g>
                    <a href=format!("/runs/{run}?step={}#log-title", n.task)>
                        <g class="dag-node" data-task=n.task.clone() data-state=state.as_str()
                            transform=format!("translate({} {})", n.x, n.y)>
                            // The builder: the view macro makes any `<title>`
                            // here an HTML one, which is no SVG title.
                            {svg::title().child(node_title(&n.task, state))}
                            <rect />
                            <text x="8" y="23">{label(&n.task)}</text>
                            <text x=NODE_WIDTH - 18.0 y="23" aria-hidden="true">{symbol(state)}</text>
                        </g>
                    </a>
                </g>
            }
            .into_any()
        })
        .collect_view();
    let zoom = first_zoom(graph.width);
    let (width, height, class) = svg_size(graph.width, graph.height, zoom);
    view! {
        <svg id="dag" role="group" aria-label=format!("Graph of the run's {} tasks and what each waits for; the steps table below lists the same", graph.nodes.len())
            width=width height=height class=class viewBox=format!("0 0 {} {}", graph.width, graph.height)>
            {arrow_marker("arrow")}
            {edge_paths(graph, "arrow")}
            <g fill="white" font-size="13" font-family="ui-monospace, monospace">{nodes}</g>
        </svg>
    }
}

/// An arrow from each dependency's box to its dependant's, ending in the
/// marker `marker` (see [`arrow_marker`]): one path per dependant, since
/// its arrows all end in the same point, level, under one arrowhead.
pub fn edge_paths(graph: &GraphView, marker: &'static str) -> impl IntoView + use<> {
    let paths = edge_data(graph)
        .into_iter()
        .map(|d| view! { <path d=d /> })
        .collect_view();
    // The stroke and the arrowhead are inherited from the group: a graph
    // has more edges than boxes.
    view! {
        <g fill="none" stroke="#a8a29e" stroke-width="1.5" marker-end=format!("url(#{marker})")>{paths}</g>
    }
}

/// Each dependant's path data: a curve from each of its dependencies,
/// drawn relative to its start (shorter than absolute points).
fn edge_data(graph: &GraphView) -> Vec<String> {
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for &(from, to) in &graph.edges {
        if from < graph.nodes.len() && to < graph.nodes.len() {
            into[to].push(from);
        }
    }
    let mut paths = Vec::new();
    for (to, froms) in into.iter().enumerate() {
        let b = &graph.nodes[to];
        let mut d = String::new();
        for &from in froms {
            let a = &graph.nodes[from];
            let (x1, y1) = (a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2.0);
            let (dx, dy) = (b.x - x1, b.y + NODE_HEIGHT / 2.0 - y1);
            let half = dx / 2.0;
            d.push_str(&format!("M{x1} {y1}c{half} 0 {half} {dy} {dx} {dy}"));
        }
        if !d.is_empty() {
            paths.push(d);
        }
    }
    paths
}

/// The arrowhead the edges end in, for an SVG's `<defs>` (a plain
/// function: drawn parts hold no component, see `drawn_part`).
pub fn arrow_marker(id: &'static str) -> impl IntoView {
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
    fn a_dependants_arrows_share_one_path_and_end_in_its_box() {
        let node = |task: &str, x: f64, y: f64| crate::runs::data::GraphNode {
            task: task.into(),
            x,
            y,
        };
        let graph = GraphView {
            nodes: vec![
                node("a", 0.0, 0.0),
                node("b", 0.0, 56.0),
                node("c", 220.0, 28.0),
            ],
            edges: vec![(0, 2), (1, 2), (7, 2)],
            width: 380.0,
            height: 92.0,
        };
        // Out-of-range edges are dropped; both arrows into c are one path,
        // each from its dependency's right side to c's left side.
        assert_eq!(
            edge_data(&graph),
            vec!["M160 18c30 0 30 28 60 28M160 74c30 0 30 -28 60 -28".to_owned()]
        );
    }

    #[test]
    fn zoom_steps_stop_at_the_ends() {
        assert_eq!(zoom_step(None, true), Some(1.5));
        assert_eq!(zoom_step(None, false), Some(0.75));
        assert_eq!(zoom_step(Some(2.0), true), Some(2.0));
        assert_eq!(zoom_step(Some(0.25), false), Some(0.25));
    }
}

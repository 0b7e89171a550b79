//! A run's graph as SVG: boxes where the layered layout put them, coloured
//! by state (live, as the run's events arrive), with arrows from each
//! dependency; a box links to its log.

use leptos::prelude::*;

use super::live_run::{LiveSteps, current};
use super::run_state::fill;
use crate::engine_data::{GraphView, StepView};
use crate::screen::graph_layout::{NODE_HEIGHT, NODE_WIDTH};

#[component]
pub fn Dag(graph: GraphView, steps: Vec<StepView>, run: i64, live: LiveSteps) -> impl IntoView {
    let loaded = |task: &str| {
        steps
            .iter()
            .find(|s| s.task == task)
            .cloned()
            .unwrap_or_else(|| StepView::waiting(task))
    };
    let edges = graph
        .edges
        .iter()
        .filter_map(|&(from, to)| {
            let (a, b) = (graph.nodes.get(from)?, graph.nodes.get(to)?);
            let (x1, y1) = (a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2.0);
            let (x2, y2) = (b.x, b.y + NODE_HEIGHT / 2.0);
            let mid = (x1 + x2) / 2.0;
            Some(view! {
                <path d=format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}")
                    fill="none" stroke="#a8a29e" stroke-width="1.5" marker-end="url(#arrow)" />
            })
        })
        .collect_view();
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let now = current(live, loaded(&n.task));
            let state = move || now.get().state;
            let label: String = n.task.chars().take(20).collect();
            let task = n.task.clone();
            view! {
                <a href=format!("/runs/{run}?step={}", n.task)>
                    <g class="dag-node" data-task=n.task.clone() data-state=move || state().as_str()>
                        <title>{move || format!("{task}: {}", state())}</title>
                        <rect x=n.x y=n.y width=NODE_WIDTH height=NODE_HEIGHT rx="6" fill=move || fill(state().into()) />
                        <text x=n.x + 10.0 y=n.y + 23.0 fill="white" font-size="13" font-family="ui-monospace, monospace">{label}</text>
                    </g>
                </a>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-stone-200 bg-white p-2 dark:border-stone-800 dark:bg-stone-900">
            <svg id="dag" role="group" aria-label=format!("Graph of the run's {} tasks and what each waits for", graph.nodes.len()) width=graph.width height=graph.height viewBox=format!("0 0 {} {}", graph.width, graph.height)>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#a8a29e" />
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
        </div>
    }
}

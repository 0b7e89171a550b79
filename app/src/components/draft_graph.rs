//! The graph of the workflow in the editor, before any run: the same
//! layered drawing as a run's graph, in a neutral colour (nothing has a
//! state yet), fit to its box's width and scrolling inside it, with each
//! task's dependencies spelled out for screen readers.

use leptos::prelude::*;

use super::dag::label;
use crate::runs::data::GraphView;
use crate::screen::graph_layout::{NODE_HEIGHT, NODE_WIDTH};

#[component]
pub fn DraftGraph(graph: GraphView) -> impl IntoView {
    let needs_of = |to: usize| -> Vec<String> {
        graph
            .edges
            .iter()
            .filter(|(_, t)| *t == to)
            .filter_map(|(from, _)| graph.nodes.get(*from).map(|n| n.task.clone()))
            .collect()
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
                    fill="none" stroke="#a8a29e" stroke-width="1.5" marker-end="url(#draft-arrow)" />
            })
        })
        .collect_view();
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let needs = needs_of(i);
            let title = if needs.is_empty() {
                format!("{}: needs nothing", n.task)
            } else {
                format!("{}: needs {}", n.task, needs.join(", "))
            };
            view! {
                <g data-task=n.task.clone()>
                    <title>{title}</title>
                    <rect x=n.x y=n.y width=NODE_WIDTH height=NODE_HEIGHT rx="6" fill="#57534e" />
                    <text x=n.x + 8.0 y=n.y + 23.0 fill="white" font-size="13" font-family="ui-monospace, monospace">{label(&n.task)}</text>
                </g>
            }
        })
        .collect_view();
    let (width, height, count) = (graph.width, graph.height, graph.nodes.len());
    view! {
        <h2 class="mb-2 mt-6 font-medium" id="draft-graph-title">"Graph"</h2>
        <div class="max-h-[28rem] overflow-auto rounded-lg border border-stone-200 bg-white p-2 dark:border-stone-800 dark:bg-stone-900" tabindex="0">
            <svg id="draft-graph" role="img" aria-labelledby="draft-graph-title" aria-describedby="draft-graph-text"
                width=width height=height class="h-auto max-w-full" viewBox=format!("0 0 {width} {height}")>
                <defs>
                    <marker id="draft-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#a8a29e" />
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
        </div>
        <p class="sr-only" id="draft-graph-text">
            {format!("{count} tasks; each box's title says what it needs.")}
        </p>
    }
}

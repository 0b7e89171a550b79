//! The graph of the workflow in the editor, before any run: the same
//! layered drawing as a run's graph, in a neutral colour (nothing has a
//! state yet), fit to its box's width and scrolling inside it, with each
//! task's dependencies spelled out in a list for screen readers (the
//! drawing itself is one image to them).

use leptos::prelude::*;

use super::dag::{arrow_marker, edge_paths, label};
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
    let edges = edge_paths(&graph, "draft-arrow");
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
    let spelled: Vec<String> = (0..graph.nodes.len())
        .map(|i| {
            let needs = needs_of(i);
            let task = &graph.nodes[i].task;
            if needs.is_empty() {
                format!("{task}: needs nothing")
            } else {
                format!("{task}: needs {}", needs.join(", "))
            }
        })
        .collect();
    let (width, height) = (graph.width, graph.height);
    view! {
        <h2 class="mb-2 mt-6 font-medium" id="draft-graph-title">"Graph"</h2>
        <div class="max-h-[28rem] overflow-auto rounded-lg border border-stone-200 bg-white p-2 dark:border-stone-800 dark:bg-stone-900" tabindex="0">
            <svg id="draft-graph" role="img" aria-labelledby="draft-graph-title" aria-describedby="draft-graph-text"
                width=width height=height class="h-auto max-w-full" viewBox=format!("0 0 {width} {height}")>
                {arrow_marker("draft-arrow")}
                {edges}
                {nodes}
            </svg>
        </div>
        <ul class="sr-only" id="draft-graph-text">
            {spelled.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
        </ul>
    }
}

//! The workflows section of a project's page: each workflow with its
//! version, its newest run and a Run button, and the ways to write a new
//! one and to see the runs, pipelines and schedules.

use leptos::prelude::*;

use crate::components::empty_state::EmptyState;
use crate::components::workflow_table::WorkflowTable;
use crate::runs::load::load_workflows;

#[component]
pub fn ProjectWorkflows(project: i64, can_edit: bool) -> impl IntoView {
    let data = Resource::new(move || project, load_workflows);
    view! {
        <div class="mb-2 mt-6 flex flex-wrap items-baseline gap-3">
            <h2 class="font-medium">"Workflows"</h2>
            <a class="text-sm underline" id="project-runs" href=format!("/projects/{project}/runs")>"Runs"</a>
            <a class="text-sm underline" id="project-pipelines" href=format!("/projects/{project}/pipelines")>"Pipelines"</a>
            <a class="text-sm underline" id="project-schedules" href=format!("/projects/{project}/schedules")>"Schedules"</a>
            {can_edit.then(|| view! {
                <a class="text-sm underline" id="new-workflow" href=format!("/projects/{project}/new-workflow")>"New workflow"</a>
            })}
        </div>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(workflows)) if !workflows.is_empty() => view! {
                        <WorkflowTable workflows show_project=false can_run=can_edit />
                    }.into_any(),
                    _ => view! { <EmptyState message="No workflows yet." /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

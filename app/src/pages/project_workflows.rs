//! The workflows section of a project's page: each workflow with its
//! version, and the ways to write a new one and to see the runs.

use leptos::prelude::*;

use crate::components::empty_state::EmptyState;
use crate::server_fns::load_workflows;

#[component]
pub fn ProjectWorkflows(project: i64, can_edit: bool) -> impl IntoView {
    let data = Resource::new(move || project, load_workflows);
    view! {
        <div class="mb-2 mt-6 flex items-baseline gap-3">
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
                    Ok(Ok(list)) if !list.is_empty() => view! {
                        <ul id="workflows" class="divide-y divide-stone-200 rounded-lg border border-stone-200 bg-white dark:divide-stone-800 dark:border-stone-800 dark:bg-stone-900">
                            {list
                                .into_iter()
                                .map(|w| view! {
                                    <li class="flex items-center justify-between px-4 py-3">
                                        <a class="font-mono hover:underline" href=format!("/projects/{project}/workflows/{}", w.name)>{w.name.clone()}</a>
                                        <span class="text-xs text-stone-500">{format!("version {} · {}", w.version, w.updated_at)}</span>
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                    }.into_any(),
                    _ => view! { <EmptyState message="No workflows yet." /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

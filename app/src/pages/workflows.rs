//! `/workflows`: every workflow of the projects the viewer can see, by
//! project, each with its version, its newest run's state and time, and the
//! way to run it (its page's form, which asks for its params).

use leptos::prelude::*;

use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::run_state::{StateBadge, Tone};
use crate::home_data::{WorkflowAcross, WorkflowsAcrossPage};
use crate::server_fns::load_workflows_across;

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_workflows_across());
    view! {
        <PageHeader title="Workflows" description="Airflow-style DAGs of tasks, kept per project, with how each last ran." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Workflows page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Workflows(page: WorkflowsAcrossPage) -> impl IntoView {
    let WorkflowsAcrossPage { workflows, cut } = page;
    if workflows.is_empty() {
        return view! { <EmptyState message="No workflows yet: write one on a project's page." /> }
            .into_any();
    }
    view! {
        <div class="overflow-x-auto">
            <table class="w-full text-left text-sm" id="workflows">
                <caption class="sr-only">"Workflows"</caption>
                <thead>
                    <tr class="border-b border-stone-200 dark:border-stone-800">
                        <th scope="col" class="py-2 pr-4">"Workflow"</th>
                        <th scope="col" class="pr-4">"Project"</th>
                        <th scope="col" class="pr-4">"Version"</th>
                        <th scope="col" class="pr-4">"Last run"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    {workflows.into_iter().map(|w| view! { <Row workflow=w /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {cut.then(|| view! { <p class="mt-3 text-sm text-stone-500">"Only the first 500 are listed; each project's page has all of its own."</p> })}
    }
    .into_any()
}

#[component]
fn Row(workflow: WorkflowAcross) -> impl IntoView {
    let href = format!(
        "/projects/{}/workflows/{}",
        workflow.project_id, workflow.name
    );
    let last = match workflow.last_run {
        None => view! { <span class="text-stone-500">"never run"</span> }.into_any(),
        Some(run) => {
            let badge = if run.waiting {
                view! { <StateBadge name="waiting" tone=Tone::Waiting /> }.into_any()
            } else {
                view! { <StateBadge name=run.state.as_str() tone=run.state.into() /> }.into_any()
            };
            view! {
                <span class="inline-flex items-center gap-2">
                    {badge}
                    <a class="underline" href=format!("/runs/{}", run.id)>{format!("#{}", run.id)}</a>
                    <time datetime=run.created_at.clone() title=run.created_at>{run.ago}</time>
                </span>
            }
            .into_any()
        }
    };
    view! {
        <tr class="border-b border-stone-100 dark:border-stone-900" data-workflow=workflow.name.clone()>
            <td class="py-2 pr-4"><a class="font-medium hover:underline" href=href.clone()>{workflow.name.clone()}</a></td>
            <td class="pr-4"><a class="hover:underline" href=format!("/p/{}", workflow.project)>{workflow.project.clone()}</a></td>
            <td class="pr-4">{workflow.version}</td>
            <td class="pr-4">{last}</td>
            <td><a class="rounded-md border border-stone-300 px-2 py-1 text-xs dark:border-stone-700" href=format!("{href}#run-form")>"Run…"</a></td>
        </tr>
    }
}

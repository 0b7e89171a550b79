//! `/workflows`: every workflow of the projects the viewer can see, by
//! project, each with its version, its newest run's state and time, and a
//! Run button (its page's form asks for params).

use leptos::prelude::*;

use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::workflow_table::WorkflowTable;
use crate::home::data::WorkflowsAcrossPage;
use crate::home::load::load_workflows_across;

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
        <WorkflowTable workflows show_project=true can_run=true />
        {cut.then(|| view! { <p class="mt-3 text-sm text-stone-500">"Only the first 500 are listed; each project's page has all of its own."</p> })}
    }
    .into_any()
}

//! The Workflows page: workflows live in projects, so it lists the
//! viewer's projects with the way into each one's.

use leptos::prelude::*;

use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::server_fns::load_tree;

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    view! {
        <PageHeader title="Workflows" description="Airflow-style DAGs of tasks, kept per project." />
        <ProjectLinks />
    }
}

#[component]
fn ProjectLinks() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_tree());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(tree)) if tree.projects.is_empty() => view! { <EmptyState message="No projects yet." /> }.into_any(),
                    Ok(Ok(tree)) => view! {
                        <ul class="divide-y divide-stone-200 rounded-lg border border-stone-200 bg-white dark:divide-stone-800 dark:border-stone-800 dark:bg-stone-900">
                            {tree.projects
                                .into_iter()
                                .map(|p| {
                                    let href = p.href();
                                    view! {
                                        <li class="px-4 py-3"><a class="font-medium hover:underline" href=href>{p.full_path}</a></li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

//! The top of the tree: the groups and projects the viewer can see, and a
//! form to start a new top-level group (for those who may: instance admins,
//! or everyone when the operator allows it).

use leptos::prelude::*;

use crate::accounts::data::{NodeView, TreePage};
use crate::accounts::load::load_tree;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::forms::{Choice, Field, FormAlert, FormCard, Submit};
use crate::components::page_header::PageHeader;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_tree());
    view! {
        <PageHeader title="Projects" description="Groups and projects, with roles inherited down the tree." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Tree page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NodeList(nodes: Vec<NodeView>, empty: &'static str) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <EmptyState message=empty /> }.into_any();
    }
    view! {
        <ul class="divide-y divide-stone-200 rounded-lg border border-stone-200 bg-white dark:divide-stone-800 dark:border-stone-800 dark:bg-stone-900">
            {nodes
                .into_iter()
                .map(|n| {
                    view! {
                        <li class="flex items-center justify-between px-4 py-3">
                            <a href=n.href() class="font-medium hover:underline">{n.full_path.clone()}</a>
                            <span class="text-xs text-stone-500">
                                {n.visibility.clone()} {n.role.map(|r| format!(" · {r}"))}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Tree(page: TreePage) -> impl IntoView {
    view! {
        <div class="grid gap-6 lg:grid-cols-3">
            <div class="lg:col-span-2">
                <h2 class="mb-2 font-medium">"Groups"</h2>
                <NodeList nodes=page.groups empty="No groups yet." />
                <h2 class="mb-2 mt-6 font-medium">"Projects"</h2>
                <NodeList nodes=page.projects empty="No projects you can see." />
            </div>
            {page.can_create_groups.then(|| view! {
                <FormCard title="New group" action="/ui/groups".to_owned()>
                    <FormAlert form="group" />
                    <Field form="group" name="slug" label="Slug (a-z, 0-9, - _ .)" required=true />
                    <Field form="group" name="name" label="Name" />
                    <Choice form="group" name="visibility" label="Visibility" options=&["private", "internal"] />
                    <Submit label="Create group" />
                </FormCard>
            })}
        </div>
    }
}

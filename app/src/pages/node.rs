//! A group's page (subgroups, projects) and a project's page (workflows
//! first, with their last runs and Run), at `/g/{path}` and `/p/{path}`;
//! their members, settings and delete on a tab of their own at
//! `{path}/-/settings` (GitLab's `/-/`: no slug is `-`, so no tree path
//! collides). Controls appear only when the viewer's role allows them; the
//! server checks again anyway.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::accounts::data::{MemberView, NodePage, NodeView, Permissions};
use crate::accounts::load::load_node;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::forms::{Choice, Field, FormAlert, FormCard, Submit};
use crate::pages::project_workflows::ProjectWorkflows;
use crate::pages::projects::NodeList;

#[component]
pub fn GroupPage() -> impl IntoView {
    view! { <NodePageView kind="group" /> }
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    view! { <NodePageView kind="project" /> }
}

/// The tabs of a group's or project's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Settings,
}

const SETTINGS_SUFFIX: &str = "/-/settings";

/// The node's path and the tab a page path asks for.
fn split_tab(raw: &str) -> (String, Tab) {
    match raw.trim_end_matches('/').strip_suffix(SETTINGS_SUFFIX) {
        Some(path) => (path.to_owned(), Tab::Settings),
        None => (raw.trim_end_matches('/').to_owned(), Tab::Overview),
    }
}

#[component]
fn NodePageView(kind: &'static str) -> impl IntoView {
    let params = use_params_map();
    let path = move || split_tab(&params.read().get("path").unwrap_or_default());
    let data = Resource::new(path, move |(path, _)| load_node(kind.to_owned(), path));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tab = path().1;
                match data.await {
                    Ok(Ok(page)) => view! { <Node page tab /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Node(page: NodePage, tab: Tab) -> impl IntoView {
    let NodePage {
        node,
        crumbs,
        subgroups,
        projects,
        members,
        can,
    } = page;
    let is_group = node.kind == "group";
    let base = format!("/ui/nodes/{}", node.id);
    let title = node.name.clone();
    let page_path = format!("/{}/{}", if is_group { "g" } else { "p" }, node.full_path);
    let body = match tab {
        Tab::Overview if is_group => view! {
            <GroupOverview subgroups projects can_create=can.create_children base=base.clone() />
        }
        .into_any(),
        Tab::Overview => view! {
            <ProjectWorkflows project=node.id can_edit=can.edit_definitions />
        }
        .into_any(),
        Tab::Settings => view! {
            <SettingsTab node=node.clone() members can base=base.clone() />
        }
        .into_any(),
    };
    let tab_class = |on: bool| {
        if on {
            "border-b-2 border-orange-600 px-1 pb-2 font-medium"
        } else {
            "border-b-2 border-transparent px-1 pb-2 text-stone-600 hover:text-stone-900 dark:text-stone-400 dark:hover:text-stone-100"
        }
    };
    let overview_on = tab == Tab::Overview;
    view! {
        <Title text=if overview_on { title.clone() } else { format!("Settings · {title}") } />
        <Breadcrumbs crumbs />
        <div class="mb-4 flex flex-wrap items-baseline gap-3">
            <h1 class="text-2xl font-semibold tracking-tight" id="node-title">{title}</h1>
            <span class="rounded bg-stone-200 px-2 py-0.5 text-xs dark:bg-stone-800">{node.kind.clone()}</span>
            <span class="text-xs text-stone-500">{node.visibility.clone()}</span>
            <span class="text-xs text-stone-500" id="node-role">
                {node.role.clone().map(|r| format!("your role: {r}")).unwrap_or_else(|| "no role here".into())}
            </span>
        </div>
        {(!node.description.is_empty()).then(|| view! { <p class="mb-4 text-sm">{node.description.clone()}</p> })}
        <nav aria-label="Sections" class="mb-6 flex gap-4 border-b border-stone-200 text-sm dark:border-stone-800" id="node-tabs">
            <a href=page_path.clone() class=tab_class(overview_on) aria-current=overview_on.then_some("page") id="tab-overview">
                {if is_group { "Overview" } else { "Workflows" }}
            </a>
            <a href=format!("{page_path}{SETTINGS_SUFFIX}") class=tab_class(!overview_on) aria-current=(!overview_on).then_some("page") id="tab-settings">
                "Members and settings"
            </a>
        </nav>
        {body}
    }
}

#[component]
fn GroupOverview(
    subgroups: Vec<NodeView>,
    projects: Vec<NodeView>,
    can_create: bool,
    base: String,
) -> impl IntoView {
    view! {
        <div class="grid gap-6 lg:grid-cols-3">
            <div class="lg:col-span-2">
                <h2 class="mb-2 font-medium">"Projects"</h2>
                <NodeList nodes=projects empty="No projects in this group." />
                <h2 class="mb-2 mt-6 font-medium">"Subgroups"</h2>
                <NodeList nodes=subgroups empty="No subgroups." />
            </div>
            <div>
                {can_create.then(|| view! {
                    <FormCard title="New project" action=format!("{base}/projects")>
                        <FormAlert form="project" />
                        <Field form="project" name="slug" label="Slug" required=true />
                        <Field form="project" name="name" label="Name" />
                        <Submit label="Create project" />
                    </FormCard>
                    <FormCard title="New subgroup" action=format!("{base}/groups")>
                        <FormAlert form="subgroup" />
                        <Field form="subgroup" name="slug" label="Slug" required=true />
                        <Field form="subgroup" name="name" label="Name" />
                        <Submit label="Create subgroup" />
                    </FormCard>
                })}
            </div>
        </div>
    }
}

#[component]
fn SettingsTab(
    node: NodeView,
    members: Vec<MemberView>,
    can: Permissions,
    base: String,
) -> impl IntoView {
    let is_group = node.kind == "group";
    let delete_path = node.full_path.clone();
    view! {
        <div class="grid gap-6 lg:grid-cols-3">
            <div class="lg:col-span-2">
                <h2 class="mb-2 font-medium">"Members"</h2>
                <Members members can_manage=can.manage_members base=base.clone() />
            </div>
            <div>
                {can.manage_members
                    .then(|| {
                        view! {
                            <FormCard title="Add member" action=format!("{base}/members")>
                                <FormAlert form="member" />
                                <Field form="member" name="username" label="Username" required=true />
                                <Choice form="member" name="role" label="Role" options=&["viewer", "developer", "maintainer", "owner"] />
                                <Submit label="Add member" />
                            </FormCard>
                        }
                        .into_any()
                    })}
                {can.edit_settings
                    .then(|| {
                        view! {
                            <FormCard title="Settings" action=format!("{base}/settings")>
                                <FormAlert form="settings" />
                                <Field form="settings" name="name" label="Name" value=node.name.clone() />
                                <Field form="settings" name="description" label="Description" value=node.description.clone() />
                                <Submit label="Save" />
                            </FormCard>
                        }
                        .into_any()
                    })}
                {can.delete
                    .then(|| {
                        view! {
                            <FormCard title="Delete" action=format!("{base}/delete")>
                                <FormAlert form="delete" />
                                <p class="mb-3 text-sm">
                                    {if is_group {
                                        "Deletes this group for good. It must be empty first."
                                    } else {
                                        "Deletes this project for good, with its workflows, runs, schedules and secrets."
                                    }}
                                    " Type "<code class="font-mono" id="delete-path">{delete_path.clone()}</code>" to confirm."
                                </p>
                                <Field form="delete" name="confirm" label="Full path" required=true />
                                <button type="submit" id="delete-node" class="rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white">"Delete"</button>
                            </FormCard>
                        }
                        // Erased: the page's view type otherwise nests past
                        // the compiler's limit in the WASM release build.
                        .into_any()
                    })}
            </div>
        </div>
    }
}

#[component]
fn Members(members: Vec<MemberView>, can_manage: bool, base: String) -> impl IntoView {
    view! {
        <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="members">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th class="py-2">"User"</th><th>"Role"</th><th>"From"</th><th></th>
                </tr>
            </thead>
            <tbody>
                {members
                    .into_iter()
                    .map(|m| {
                        let remove = format!("{base}/members/{}/remove", m.user_id);
                        view! {
                            <tr class="border-b border-stone-100 dark:border-stone-900">
                                <td class="py-2">{m.username}</td>
                                <td>{m.role}</td>
                                <td>{if m.inherited { m.granted_on } else { "here".to_owned() }}</td>
                                <td>
                                    {(can_manage && !m.inherited)
                                        .then(|| view! {
                                            <form method="post" action=remove>
                                                <button type="submit" class="text-red-700 underline dark:text-red-300">"Remove"</button>
                                            </form>
                                        })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_tab_is_a_suffix_no_slug_can_make() {
        assert_eq!(split_tab("a/b"), ("a/b".to_owned(), Tab::Overview));
        assert_eq!(
            split_tab("a/b/-/settings"),
            ("a/b".to_owned(), Tab::Settings)
        );
        assert_eq!(
            split_tab("a/b/-/settings/"),
            ("a/b".to_owned(), Tab::Settings)
        );
        assert_eq!(
            split_tab("a/-/settings/x"),
            ("a/-/settings/x".to_owned(), Tab::Overview)
        );
    }
}

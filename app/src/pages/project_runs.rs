//! A project's runs, newest first, filtered by state, workflow and trigger
//! (a plain GET form, so a filtered list has its own URL).

use kiln_core::engine::{RunState, RunTrigger};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::run_state::{StateBadge, duration};
use crate::runs::data::{RunFilterView, RunsPage};
use crate::runs::load::load_runs;

#[component]
pub fn ProjectRunsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let project = params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0);
        let q = query.read();
        let filter = RunFilterView {
            state: q.get("state"),
            workflow: q.get("workflow"),
            trigger: q.get("trigger"),
        };
        (project, filter)
    };
    let data = Resource::new(key, |(project, filter)| load_runs(project, filter));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Runs page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn select(name: &'static str, options: Vec<String>, chosen: Option<String>) -> impl IntoView {
    let chosen = chosen.unwrap_or_default();
    view! {
        <select name=name aria-label=format!("Filter by {name}") class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900">
            <option value="" selected=chosen.is_empty()>{format!("any {name}")}</option>
            {options
                .into_iter()
                .map(|o| view! { <option value=o.clone() selected=o == chosen>{o.clone()}</option> })
                .collect_view()}
        </select>
    }
}

#[component]
fn Runs(page: RunsPage) -> impl IntoView {
    let RunsPage {
        project,
        crumbs,
        runs,
        workflows,
        filter,
    } = page;
    let states = RunState::ALL.map(|s| s.as_str().to_owned()).to_vec();
    let triggers = RunTrigger::ALL.map(|t| t.as_str().to_owned()).to_vec();
    view! {
        <Title text=format!("Runs of {}", project.name) />
        <Breadcrumbs crumbs />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">{format!("Runs of {}", project.name)}</h1>
        <form method="get" class="mb-4 flex flex-wrap gap-2 text-sm" id="run-filters">
            {select("state", states, filter.state)}
            {select("workflow", workflows, filter.workflow)}
            {select("trigger", triggers, filter.trigger)}
            <button type="submit" class="rounded-md border border-stone-300 px-3 py-1 dark:border-stone-700">"Filter"</button>
        </form>
        {if runs.is_empty() {
            view! { <EmptyState message="No runs match." /> }.into_any()
        } else {
            view! {
                <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="runs">
                    <thead>
                        <tr class="border-b border-stone-200 dark:border-stone-800">
                            <th class="py-2">"Run"</th><th>"Workflow"</th><th>"Trigger"</th><th>"State"</th><th>"Started"</th><th>"Took"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {runs
                            .into_iter()
                            .map(|r| view! {
                                <tr class="border-b border-stone-100 dark:border-stone-900">
                                    <td class="py-2"><a class="underline" href=format!("/runs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                                    <td>{r.workflow.unwrap_or_else(|| "(deleted)".into())}</td>
                                    <td>{r.trigger.as_str()}</td>
                                    <td><StateBadge name=r.state.as_str() tone=r.state.into() /></td>
                                    <td>{r.created_at}</td>
                                    <td>{duration(r.duration_ms)}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table></div>
            }
            .into_any()
        }}
    }
}

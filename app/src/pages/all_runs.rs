//! `/runs`: every run the viewer can see, newest first, filtered by
//! project, state, kind, trigger and who started it (a plain GET form, so a
//! filtered list has its own URL), a page at a time, read again as runs
//! change (live, over the runs' event stream).

use kiln_core::engine::{RunState, RunTrigger};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::run_table::RunTable;
use crate::components::runs_live::keep_current;
use crate::home::data::{AllRunsFilter, AllRunsPage};
use crate::home::load::load_all_runs;

#[component]
pub fn EveryRunPage() -> impl IntoView {
    let query = use_query_map();
    let filter = {
        let q = query.read_untracked();
        AllRunsFilter {
            project: q.get("project"),
            state: q.get("state"),
            kind: q.get("kind"),
            trigger: q.get("trigger"),
            who: q.get("who"),
            cursor: q.get("cursor"),
        }
    };
    let data = Resource::new(|| (), move |_| load_all_runs(filter.clone()));
    view! {
        <PageHeader title="Runs" description="Every run of the projects you can see, newest first." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <LiveRuns page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The list, read again with the same filter as runs change (an island).
#[island]
fn LiveRuns(page: AllRunsPage) -> impl IntoView {
    let filter = page.filter.clone();
    let page = RwSignal::new(page);
    keep_current(page, move || {
        let filter = filter.clone();
        async move { load_all_runs(filter).await.ok()?.ok() }
    });
    move || view! { <Runs page=page.get() /> }
}

/// A labelled select of `options` (value, label), "any" first.
fn select(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    chosen: Option<String>,
) -> impl IntoView {
    let chosen = chosen.unwrap_or_default();
    let id = format!("runs-{name}");
    view! {
        <label for=id.clone() class="sr-only">{label}</label>
        <select id=id name=name class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900">
            <option value="" selected=chosen.is_empty()>{format!("any {}", label.to_lowercase())}</option>
            {options
                .into_iter()
                .map(|(value, text)| view! { <option value=value.clone() selected=value == chosen>{text}</option> })
                .collect_view()}
        </select>
    }
}

fn same(values: Vec<&str>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|v| (v.to_owned(), v.to_owned()))
        .collect()
}

/// The address of the next page: the same filters, the cursor moved on.
fn next_href(filter: &AllRunsFilter, cursor: &str) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("project", &filter.project),
        ("state", &filter.state),
        ("kind", &filter.kind),
        ("trigger", &filter.trigger),
        ("who", &filter.who),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            let clean: String = value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            parts.push(format!("{name}={clean}"));
        }
    }
    parts.push(format!("cursor={cursor}"));
    format!("/runs?{}", parts.join("&"))
}

#[component]
fn Runs(page: AllRunsPage) -> impl IntoView {
    let AllRunsPage {
        runs,
        filter,
        projects,
        next_cursor,
    } = page;
    let projects = projects
        .into_iter()
        .map(|(id, path)| (id.to_string(), path))
        .collect();
    let states = same(RunState::ALL.map(|s| s.as_str()).to_vec());
    let triggers = same(RunTrigger::ALL.map(|t| t.as_str()).to_vec());
    let kinds = same(vec!["workflow", "pipeline"]);
    let who = vec![("me".to_owned(), "started by me".to_owned())];
    let next = next_cursor.map(|cursor| next_href(&filter, &cursor));
    view! {
        <form method="get" action="/runs" class="mb-4 flex flex-wrap gap-2 text-sm" id="all-run-filters">
            {select("project", "Project", projects, filter.project.clone())}
            {select("state", "State", states, filter.state.clone())}
            {select("kind", "Kind", kinds, filter.kind.clone())}
            {select("trigger", "Trigger", triggers, filter.trigger.clone())}
            {select("who", "Starter", who, filter.who.clone())}
            <button type="submit" class="rounded-md border border-stone-300 px-3 py-1 dark:border-stone-700">"Filter"</button>
        </form>
        {if runs.is_empty() {
            view! { <EmptyState message="No runs match." /> }.into_any()
        } else {
            view! { <RunTable runs id="all-runs" caption="Runs" /> }.into_any()
        }}
        {next.map(|href| view! {
            <a href=href id="older-runs" class="mt-4 inline-block text-sm font-medium text-orange-700 hover:underline dark:text-orange-400">"Older runs"</a>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_keeps_the_filters_and_nothing_else() {
        let filter = AllRunsFilter {
            project: Some("7".into()),
            state: Some("failed".into()),
            kind: Some(String::new()),
            who: Some("me\"&x=<y>".into()),
            ..AllRunsFilter::default()
        };
        assert_eq!(
            next_href(&filter, "41"),
            "/runs?project=7&state=failed&who=mexy&cursor=41"
        );
    }
}

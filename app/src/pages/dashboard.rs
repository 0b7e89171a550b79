//! The landing page. Signed in: what runs now, what failed lately and the
//! newest runs across every project the viewer can see, read again as runs
//! change (live, over the runs' event stream). Otherwise one card per
//! section with what it is for.

use crate::screen::Section;
use leptos::prelude::*;

use crate::accounts::data::Denied;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::run_table::RunTable;
use crate::components::runs_live::keep_current;
use crate::home::data::{HomePage, RunAcross};
use crate::home::load::load_home;

fn blurb(section: Section) -> &'static str {
    match section {
        Section::Projects => "Groups and projects, with roles inherited down the tree.",
        Section::Runs => "Every pipeline, workflow and schedule execution, with live logs.",
        Section::Workflows => "DAGs of tasks with trigger rules, retries and outputs.",
        Section::Schedules => "Cron schedules that fire exactly once per tick, in any time zone.",
        Section::Admin => "Users, workers and the health of this instance.",
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_home());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(home)) => view! { <LiveHome home /> }.into_any(),
                    Ok(Err(Denied::SignIn)) => view! { <Sections /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The signed-in home, read again as runs change (an island: the lists
/// stay on screen until the new ones are read).
#[island]
fn LiveHome(home: HomePage) -> impl IntoView {
    let home = RwSignal::new(home);
    keep_current(home, || async { load_home().await.ok()?.ok() });
    move || view! { <Home home=home.get() /> }
}

#[component]
fn Home(home: HomePage) -> impl IntoView {
    let HomePage {
        running,
        failures,
        recent,
        projects,
    } = home;
    view! {
        <PageHeader title="Home" description="Runs across your projects: what runs now, what failed lately, what ran last." />
        {(projects == 0).then(|| view! {
            <div class="mb-6"><EmptyState message="You can see no project yet: create a group and a project under Projects, or ask to be added to one." /></div>
        })}
        <Part title="Running" id="home-running" runs=running empty="Nothing is running." />
        <Part title="Recent failures" id="home-failures" runs=failures empty="Nothing failed lately." />
        <Part title="Recent runs" id="home-recent" runs=recent empty="No runs yet." />
        <a href="/runs" class="text-sm font-medium text-orange-700 hover:underline dark:text-orange-400">"All runs, with filters"</a>
    }
}

#[component]
fn Part(
    title: &'static str,
    id: &'static str,
    runs: Vec<RunAcross>,
    empty: &'static str,
) -> impl IntoView {
    view! {
        <section class="mb-8" aria-labelledby=format!("{id}-title")>
            <h2 class="mb-2 font-medium" id=format!("{id}-title")>{title}</h2>
            {if runs.is_empty() {
                view! { <p class="text-sm text-stone-500 dark:text-stone-400" id=id>{empty}</p> }.into_any()
            } else {
                view! { <RunTable runs id caption=title /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Sections() -> impl IntoView {
    view! {
        <PageHeader title="Dashboard" description="CI/CD pipelines, schedules and workflows in one place." />
        <div class="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
            {Section::ALL
                .into_iter()
                .map(|section| {
                    view! {
                        <a
                            href=section.path()
                            class="block rounded-lg border border-stone-200 bg-white p-5 shadow-sm transition hover:border-orange-400 dark:border-stone-800 dark:bg-stone-900"
                        >
                            <h2 class="font-medium">{section.label()}</h2>
                            <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">{blurb(section)}</p>
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}

//! The landing page: one card per section with what it is for.

use crate::screen::Section;
use leptos::prelude::*;

use crate::components::page_header::PageHeader;

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

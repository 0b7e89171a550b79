//! The path from the tree's root to the current group or project.

use leptos::prelude::*;

use crate::accounts::data::Crumb;

#[component]
pub fn Breadcrumbs(crumbs: Vec<Crumb>) -> impl IntoView {
    let last = crumbs.len().saturating_sub(1);
    view! {
        <nav aria-label="Breadcrumb" class="mb-2 text-sm text-stone-600 dark:text-stone-400">
            <a href="/projects" class="hover:underline">"Projects"</a>
            {crumbs
                .into_iter()
                .enumerate()
                .map(|(i, crumb)| {
                    view! {
                        <span class="mx-1">"/"</span>
                        <a
                            href=crumb.href
                            class="hover:underline"
                            aria-current=(i == last).then_some("page")
                        >
                            {crumb.label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

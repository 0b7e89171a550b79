//! What a list page shows while it has nothing to list.

use leptos::prelude::*;

#[component]
pub fn EmptyState(message: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-stone-300 p-10 text-center text-sm text-stone-500 dark:border-stone-700 dark:text-stone-400">
            {message}
        </div>
    }
}

//! A page's title (also the document title) and a one-line description.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PageHeader(title: &'static str, description: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">{description}</p>
        </div>
    }
}

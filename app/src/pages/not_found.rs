//! The page for any UI path no route matches; answered with status 404.

use leptos::prelude::*;

use crate::components::page_header::PageHeader;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <PageHeader title="Page not found" description="There is nothing at this address." />
        <a href="/" class="text-sm font-medium text-orange-700 hover:underline dark:text-orange-400">
            "Back to the dashboard"
        </a>
    }
}

//! The Projects page. It lists nothing yet: the feature that fills it is still to come.

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    view! {
        <PageHeader title="Projects" description="Groups and projects you can see." />
        <EmptyState message="No projects yet." />
    }
}

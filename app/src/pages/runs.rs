//! The Runs page. It lists nothing yet: the feature that fills it is still to come.

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn RunsPage() -> impl IntoView {
    view! {
        <PageHeader title="Runs" description="Pipeline, workflow and schedule runs, newest first." />
        <EmptyState message="No runs yet." />
    }
}

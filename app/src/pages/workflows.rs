//! The Workflows page. It lists nothing yet: the feature that fills it is still to come.

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    view! {
        <PageHeader title="Workflows" description="Airflow-style DAGs of tasks." />
        <EmptyState message="No workflows yet." />
    }
}

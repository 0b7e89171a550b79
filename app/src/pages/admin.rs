//! The Admin page. It lists nothing yet: the feature that fills it is still to come.

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <PageHeader title="Admin" description="Users, workers and instance health." />
        <EmptyState message="Nothing to administer yet." />
    }
}

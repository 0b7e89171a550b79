//! The Schedules page. It lists nothing yet: the feature that fills it is still to come.

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn SchedulesPage() -> impl IntoView {
    view! {
        <PageHeader title="Schedules" description="Cron schedules and their firings." />
        <EmptyState message="No schedules yet." />
    }
}

//! Kiln's Leptos UI, shared by the server (feature `ssr`, renders HTML) and
//! the browser (feature `hydrate`, attaches behaviour to that HTML).
//!
//! `shell` is the HTML document; `App` is the router with the dashboard
//! layout around every page.

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::components::layout::Layout;
use crate::pages::{
    admin::AdminPage, dashboard::DashboardPage, not_found::NotFoundPage, projects::ProjectsPage,
    runs::RunsPage, schedules::SchedulesPage, workflows::WorkflowsPage,
};

/// The HTML document every page is rendered into.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 16 16%22%3E%3Crect width=%2216%22 height=%2216%22 rx=%223%22 fill=%22%23ea580c%22/%3E%3C/svg%3E" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-stone-50 text-stone-900 antialiased dark:bg-stone-950 dark:text-stone-100">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="kiln-css" href="/pkg/kiln.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Kiln".to_owned() } else { format!("{page} · Kiln") }
        } />
        <Router>
            <Routes fallback=|| view! { <Layout><NotFoundPage /></Layout> }>
                <ParentRoute path=path!("") view=LayoutOutlet>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("projects") view=ProjectsPage />
                    <Route path=path!("runs") view=RunsPage />
                    <Route path=path!("workflows") view=WorkflowsPage />
                    <Route path=path!("schedules") view=SchedulesPage />
                    <Route path=path!("admin") view=AdminPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn LayoutOutlet() -> impl IntoView {
    view! {
        <Layout>
            <leptos_router::components::Outlet />
        </Layout>
    }
}

//! Kiln's Leptos UI, shared by the server (feature `ssr`, renders HTML) and
//! the browser (feature `hydrate`, attaches behaviour to that HTML).
//!
//! `shell` is the HTML document; `App` is the router with the dashboard
//! layout around every page. Pages are drawn by the server alone; only
//! the parts that act in the browser are islands (`#[island]`), hydrated
//! by the WASM (the browser has no router: a link loads its page).

pub mod accounts;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod bundle;
pub mod components;
pub mod home;
pub mod pages;
pub mod pipelines;
#[cfg(feature = "ssr")]
mod port_context;
pub mod runs;
pub mod schedules;
pub mod screen;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::bundle::{BundleScripts, BundleStylesheet, Head};
use crate::components::layout::Layout;
use crate::pages::{
    account::AccountPageView,
    admin::AdminPage,
    all_runs::EveryRunPage,
    api_reference::ApiReferencePage,
    dashboard::DashboardPage,
    deliveries::DeliveriesPageView,
    login::{LoginPage, RegisterPage},
    node::{GroupPage, ProjectPage},
    not_found::NotFoundPage,
    pipelines::PipelinesPageView,
    project_runs::ProjectRunsPage,
    projects::ProjectsPage,
    run::RunPageView,
    schedules::{ProjectSchedulesPage, ScheduleDetailPage, SchedulesPage},
    workflow_editor::{NewWorkflowPage, WorkflowEditorPage},
    workflows::WorkflowsPage,
};

/// The HTML document every page is rendered into. Routes render in
/// `SsrMode::Async`: the server waits for the page's data and sends it whole,
/// so every page (and its forms) works before, or without, the WASM.
/// `head` names the bundle (worked out once, at start).
pub fn shell(head: std::sync::Arc<Head>) -> impl IntoView {
    let theme = chosen_theme();
    let bundle = head.bundle.clone();
    let reload = head
        .watch
        .clone()
        .map(|options| view! { <AutoReload options /> });
    view! {
        <!DOCTYPE html>
        <html lang="en" class=theme.html_class()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 16 16%22%3E%3Crect width=%2216%22 height=%2216%22 rx=%223%22 fill=%22%23ea580c%22/%3E%3C/svg%3E" />
                {reload}
                <BundleStylesheet bundle=bundle.clone() id="kiln-css" />
                <BundleScripts bundle />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-stone-50 text-stone-900 antialiased dark:bg-stone-950 dark:text-stone-100">
                <App />
            </body>
        </html>
    }
}

/// The colour scheme the request's cookie chose (rendering on the server).
fn chosen_theme() -> components::theme::Theme {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
                Some(components::theme::Theme::from_cookies(header))
            })
            .unwrap_or(components::theme::Theme::System)
    }
    #[cfg(not(feature = "ssr"))]
    components::theme::Theme::System
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Kiln".to_owned() } else { format!("{page} · Kiln") }
        } />
        <Router>
            <Routes fallback=|| view! { <Layout><NotFoundPage /></Layout> }>
                <ParentRoute path=path!("") view=LayoutOutlet ssr=SsrMode::Async>
                    <Route path=path!("") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("projects") view=ProjectsPage ssr=SsrMode::Async />
                    <Route path=path!("runs") view=EveryRunPage ssr=SsrMode::Async />
                    <Route path=path!("workflows") view=WorkflowsPage ssr=SsrMode::Async />
                    <Route path=path!("schedules") view=SchedulesPage ssr=SsrMode::Async />
                    <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("account") view=AccountPageView ssr=SsrMode::Async />
                    <Route path=path!("docs/api") view=ApiReferencePage ssr=SsrMode::Async />
                    <Route path=path!("g/*path") view=GroupPage ssr=SsrMode::Async />
                    <Route path=path!("p/*path") view=ProjectPage ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/workflows/:name") view=WorkflowEditorPage ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/new-workflow") view=NewWorkflowPage ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/runs") view=ProjectRunsPage ssr=SsrMode::Async />
                    <Route path=path!("runs/:id") view=RunPageView ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/schedules") view=ProjectSchedulesPage ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/pipelines") view=PipelinesPageView ssr=SsrMode::Async />
                    <Route path=path!("projects/:id/deliveries") view=DeliveriesPageView ssr=SsrMode::Async />
                    <Route path=path!("schedules/:id") view=ScheduleDetailPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// In the browser, right after the islands' set-up: marks the frame live
/// (`data-hydrated="true"`) once every island of the page has hydrated.
/// The islands hydrate one after another in promise callbacks, and their
/// first effects run the same way, so a timer set now fires after all of
/// them.
#[cfg(feature = "hydrate")]
pub fn mark_live() {
    set_timeout(
        || {
            if let Ok(Some(frame)) = document().query_selector("[data-hydrated]") {
                let _ = frame.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

#[component]
fn LayoutOutlet() -> impl IntoView {
    view! {
        <Layout>
            <leptos_router::components::Outlet />
        </Layout>
    }
}

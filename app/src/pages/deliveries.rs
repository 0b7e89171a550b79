//! A project's webhook deliveries (`/projects/{id}/deliveries`, maintainers):
//! newest first, each with its event, outcome, what every pipeline decided
//! and the runs it started, and Replay, which hands the event to the
//! pipelines again as a new delivery.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::forms::FormAlert;
use crate::pipelines::data::{DecisionView, DeliveriesPage, DeliveryRow};
use crate::pipelines::load::load_deliveries;

#[component]
pub fn DeliveriesPageView() -> impl IntoView {
    let params = use_params_map();
    let project = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let data = Resource::new(project, load_deliveries);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Deliveries page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Deliveries(page: DeliveriesPage) -> impl IntoView {
    let DeliveriesPage {
        project,
        crumbs,
        rows,
    } = page;
    let id = project.id;
    view! {
        <Title text=format!("Deliveries of {}", project.name) />
        <Breadcrumbs crumbs />
        <div class="mb-4 flex items-baseline gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">{format!("Deliveries of {}", project.name)}</h1>
            <a class="text-sm underline" href=format!("/projects/{id}/pipelines")>"Pipelines and repository"</a>
        </div>
        <FormAlert form="replay" />
        {if rows.is_empty() {
            view! { <EmptyState message="No webhook has been received yet." /> }.into_any()
        } else {
            view! {
                <ul id="deliveries" class="space-y-3">
                    {rows.into_iter().map(|row| view! { <Delivery project=id row /> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

#[component]
fn Delivery(project: i64, row: DeliveryRow) -> impl IntoView {
    let replay = format!("/ui/projects/{project}/deliveries/{}/replay", row.id);
    let replayed = row.replay_of.clone().map(|of| {
        format!(
            "replay of {of}{}",
            row.replayed_by
                .clone()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default()
        )
    });
    let key = row.delivery.clone();
    view! {
        <li class="rounded-lg border border-stone-200 bg-white p-4 text-sm dark:border-stone-800 dark:bg-stone-900" data-delivery=key>
            <div class="flex flex-wrap items-baseline gap-2">
                <span class="rounded bg-stone-200 px-2 py-0.5 text-xs dark:bg-stone-800">{row.event}</span>
                <span class="font-mono text-xs">{row.delivery}</span>
                <span class="text-xs text-stone-500">{format!("{} · {}", row.provider, row.received_at)}</span>
                {replayed.map(|r| view! { <span class="text-xs text-stone-500">{r}</span> })}
                <span class="grow"></span>
                {if row.replayable {
                    view! {
                        <form method="post" action=replay>
                            <button type="submit" class="replay rounded-md border border-stone-300 px-3 py-1 dark:border-stone-700">"Replay"</button>
                        </form>
                    }
                    .into_any()
                } else {
                    view! { <span class="text-xs text-stone-500">"cannot be replayed (recorded before Replay)"</span> }.into_any()
                }}
            </div>
            <p class="mt-2 outcome">{row.outcome}</p>
            {(!row.decisions.is_empty()).then(|| view! {
                <ul class="mt-2 pl-2">
                    {row.decisions.into_iter().map(|d| view! { <Decision d /> }).collect_view()}
                </ul>
            })}
        </li>
    }
}

#[component]
fn Decision(d: DecisionView) -> impl IntoView {
    let verdict = if d.start {
        "started".to_owned()
    } else {
        match (d.rule, d.reason) {
            (Some(rule), Some(reason)) => format!("left out ({rule}): {reason}"),
            (None, Some(reason)) => format!("not started: {reason}"),
            (Some(rule), None) => format!("left out ({rule})"),
            (None, None) => "not started".to_owned(),
        }
    };
    let key = d.name.clone();
    view! {
        <li data-pipeline=key>
            <span class="font-mono">{d.name}</span>
            {format!(" · {verdict}")}
            {d.run.map(|run| view! {
                {" · "}<a class="underline" href=format!("/runs/{run}")>{format!("run #{run}")}</a>
            })}
        </li>
    }
}

//! A run's page: its state, who started it and how long ago, the DAG
//! coloured by step state, the steps with when each started and how long it
//! took and a timeline of every attempt, cancel and re-run, a fork's
//! approval, an invalid pipeline file's errors, and the selected step's log
//! (any of its attempts). The graph and the steps are drawn once, by the
//! server on a page load (and not sent again as data). While the run is
//! going the browser follows its event stream: each step's row and box
//! change as events arrive, and the run's own end reloads the page once.

use kiln_core::engine::RunState;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::dag::Dag;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::forms::FormAlert;
use crate::components::live_run::{StepNews, follow};
use crate::components::log_view::LogView;
use crate::components::run_patch;
use crate::components::run_state::{StateBadge, duration};
use crate::components::run_steps::RunSteps;
use crate::runs::data::{ForkApproval, RunPage};
use crate::runs::load::load_run;

#[component]
pub fn RunPageView() -> impl IntoView {
    // Drawn by the server alone: the address is read once.
    let params = use_params_map();
    let query = use_query_map();
    let run = params
        .read_untracked()
        .get("id")
        .and_then(|id| id.parse::<i64>().ok())
        .unwrap_or(0);
    // The task whose log is open: its box is outlined in the graph.
    let selected = query.read_untracked().get("step");
    // The server draws the graph and steps into the markup.
    let data = Resource::new(|| (), move |_| load_run(run, true));
    // The log sits between the graph and the tables, outside both.
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let selected = selected.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(Ok(page)) => view! { <Run page selected /> }.into_any(),
                        Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                        Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                    }
                })
            }}
        </Suspense>
        <SelectedLog run />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <RunTables page /> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// The selected step's log (`?step=`, any `?attempt=`), shown right under
/// the graph: with hundreds of steps, the table and timeline below would
/// push it out of sight.
#[component]
fn SelectedLog(run: i64) -> impl IntoView {
    let query = use_query_map();
    let q = query.read_untracked();
    let attempt = q.get("attempt").and_then(|a| a.parse::<i32>().ok());
    q.get("step").map(|task| {
        view! {
            <h2 class="mt-6 scroll-mt-4 font-medium" id="log-title">{format!("Log of {task}")}</h2>
            <LogView run task attempt />
        }
    })
}

/// The parts of the page the run's end changes, read again from the
/// server then: the head (state, times, buttons) and the tables.
const REDRAWN: &[&str] = &["run-head", "run-tables"];

/// The live region telling screen readers of step changes. While the run
/// goes on (`live`), the browser follows its event stream from event
/// `after`: each step change goes on its drawn box and row and is told
/// here; the run's end redraws the head and the tables (the log being
/// read stays as it is), and a reset (a re-run) loads the page again.
#[island]
fn RunFollower(run: i64, after: i64, live: bool) -> impl IntoView {
    let news: StepNews = RwSignal::new(String::new());
    if live {
        // In the browser only (effects do not run on the server).
        Effect::new(move |_| {
            follow(
                run,
                after,
                news,
                || run_patch::refresh_parts(REDRAWN),
                || {
                    let _ = window().location().reload();
                },
            );
        });
    }
    view! {
        <p id="step-news" role="status" aria-live="polite" aria-atomic="true" class="sr-only">{move || news.get()}</p>
    }
}

#[component]
fn Run(page: RunPage, selected: Option<String>) -> impl IntoView {
    let RunPage {
        project,
        crumbs,
        run,
        started_by,
        created_ago,
        params,
        graph_width,
        graph_height,
        detail,
        can_run,
        allowed_failures,
        fork,
        errors,
        waiting_for,
        last_event,
        ..
    } = page;
    let id = run.id;
    let workflow = run
        .workflow
        .clone()
        .unwrap_or_else(|| "(deleted workflow)".into());
    let workflow_link = run
        .workflow
        .clone()
        .map(|w| format!("/projects/{}/workflows/{w}", project.id));
    let running = run.state == RunState::Running;
    let failed = matches!(run.state, RunState::Failed | RunState::Cancelled);
    view! {
        <Title text=format!("Run #{id}") />
        <Breadcrumbs crumbs />
        <RunFollower run=id after=last_event live=running />
        <div id="run-head">
            <div class="mb-4 flex flex-wrap items-center gap-3">
                <h1 class="text-2xl font-semibold tracking-tight">{format!("Run #{id}")}</h1>
                <span id="run-state" role="status" aria-live="polite" aria-label="Run state"><StateBadge name=run.state.as_str() tone=run.state.into() /></span>
                {allowed_failures.then(|| view! {
                    <span id="allowed-failures" class="text-sm text-amber-700 dark:text-amber-300">"passed with allowed failures"</span>
                })}
                <a class="text-sm underline" href=workflow_link.unwrap_or_default()>{workflow}</a>
                <span class="text-sm text-stone-600 dark:text-stone-400" id="run-started">
                    {match &started_by {
                        Some(who) => format!("{} by {who} · ", run.trigger),
                        None => format!("{} · ", run.trigger),
                    }}
                    <time datetime=run.created_at.clone() title=run.created_at.clone()>{created_ago}</time>
                    {format!(" · took {}", duration(run.duration_ms))}
                </span>
            </div>
            {(!params.is_empty()).then(|| view! {
                <p class="mb-4 font-mono text-xs text-stone-600 dark:text-stone-400">
                    {params.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("  ")}
                </p>
            })}
            <FormAlert form="run" />
            {fork.map(|fork| view! { <Fork fork run=id /> })}
            {waiting_for.map(|group| view! {
                <p id="group-wait" role="status" class="mb-4 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm dark:border-sky-800 dark:bg-sky-950">
                    {format!("Waiting for its turn in concurrency group {group}: another run of the group goes first.")}
                </p>
            })}
            {(!errors.is_empty()).then(|| view! {
                <div id="pipeline-errors" role="alert" class="mb-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm dark:border-red-800 dark:bg-red-950">
                    <p class="font-medium">"The pipeline file does not load; nothing ran."</p>
                    <ul class="mt-1 list-disc pl-5 font-mono text-xs">
                        {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                </div>
            })}
            {can_run.then(|| view! {
                <div class="mb-4 flex gap-2">
                    {running.then(|| view! {
                        <form method="post" action=format!("/ui/runs/{id}/cancel")>
                            <button type="submit" id="cancel-run" class="rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white">"Cancel"</button>
                        </form>
                    })}
                    {failed.then(|| view! {
                        <form method="post" action=format!("/ui/runs/{id}/retry")>
                            <input type="hidden" name="steps" value="failed" />
                            <button type="submit" id="rerun-failed" class="rounded-md bg-orange-700 px-3 py-1.5 text-sm font-medium text-white">"Re-run failed"</button>
                        </form>
                    })}
                    {(!running).then(|| view! {
                        <form method="post" action=format!("/ui/runs/{id}/retry")>
                            <input type="hidden" name="steps" value="all" />
                            <button type="submit" id="rerun-all" class="rounded-md border border-stone-300 px-3 py-1.5 text-sm dark:border-stone-700">"Re-run all"</button>
                        </form>
                    })}
                </div>
            })}
        </div>
        <Dag detail width=graph_width height=graph_height run=id selected />
    }
}

/// Below the log: the steps table with their timeline (the graph's text
/// alternative, with re-run per step); `?steps=all` shows every row.
#[component]
fn RunTables(page: RunPage) -> impl IntoView {
    let query = use_query_map();
    let all = query.read_untracked().get("steps").as_deref() == Some("all");
    let RunPage {
        run,
        detail,
        can_run,
        ..
    } = page;
    let running = run.state == RunState::Running;
    view! {
        <div id="run-tables">
            <RunSteps detail run=run.id rerun=can_run && !running all />
        </div>
    }
}

/// Where a run of a pull request from a fork stands: its steps get no
/// secrets until a maintainer approves it here.
#[component]
fn Fork(fork: ForkApproval, run: i64) -> impl IntoView {
    let request = fork.pr_number.map_or_else(
        || "A pull request".to_owned(),
        |n| format!("Pull request #{n}"),
    );
    let note = match &fork.approved_by {
        Some(who) => format!(
            "{request} from a fork, approved by {who}: its steps get the project's secrets."
        ),
        None => format!(
            "{request} from a fork: its steps get none of the project's secrets and no labelled worker (a step that asks fails) until a maintainer approves this run."
        ),
    };
    let commit = fork.commit.clone();
    view! {
        <div id="fork-approval" role="status" class="mb-4 flex flex-wrap items-center gap-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm dark:border-amber-700 dark:bg-amber-950">
            <span>{note}</span>
            <span class="font-mono text-xs" title="The commit this run executes">{format!("commit {}", fork.commit)}</span>
            {fork.can_approve.then(|| view! {
                <form method="post" action=format!("/ui/runs/{run}/approve")>
                    <input type="hidden" name="commit" value=commit />
                    <button type="submit" id="approve-run" class="rounded-md bg-amber-700 px-3 py-1.5 text-sm font-medium text-white" title="Review this commit first: its code will see the secrets">"Approve this commit and give it the secrets"</button>
                </form>
            })}
        </div>
    }
}

//! A run's page: its state, who started it and how long ago, the DAG
//! coloured by step state, the steps with when each started and how long it
//! took, a timeline of every attempt, cancel and re-run, a fork's approval,
//! an invalid pipeline file's errors, and the selected step's log (any of
//! its attempts). While
//! the run is going the browser follows its event stream: each step's row
//! and box change as events arrive, and the run's own end reloads the page
//! once.

use std::collections::HashMap;

use kiln_core::engine::{RunState, StepState};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::dag::Dag;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::forms::FormAlert;
use crate::components::live_run::{LiveSteps, StepNews, current, follow};
use crate::components::log_view::LogView;
use crate::components::run_state::{StateBadge, duration};
use crate::components::timeline::Timeline;
use crate::runs::data::{ForkApproval, RunPage, StepView};
use crate::runs::load::load_run;

#[component]
pub fn RunPageView() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let run = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let reload = RwSignal::new(0u32);
    // The task whose log is open: its box is outlined in the graph.
    let selected = Memo::new(move |_| query.read().get("step"));
    // The steps' live states, shared by the graph above the log and the
    // tables below it; emptied when fresh data arrives (it is newer than
    // anything heard), before either part is drawn from it.
    let live: LiveSteps = RwSignal::new(HashMap::new());
    let data = Resource::new(
        move || (run(), reload.get()),
        move |(run, _)| async move {
            let page = load_run(run).await;
            live.update_untracked(HashMap::clear);
            page
        },
    );
    // The log sits between the graph and the tables, outside both: the
    // run's end reloads them, and the log being read stays as it is.
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Run page reload selected live /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
        <SelectedLog run=Signal::derive(run) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <RunTables page live /> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}

/// The selected step's log (`?step=`, any `?attempt=`), shown right under
/// the graph: with hundreds of steps, the table and timeline below would
/// push it out of sight.
#[component]
fn SelectedLog(run: Signal<i64>) -> impl IntoView {
    let query = use_query_map();
    move || {
        let run = run.get();
        let q = query.read();
        let attempt = q.get("attempt").and_then(|a| a.parse::<i32>().ok());
        q.get("step").map(|task| {
            view! {
                <h2 class="mt-6 scroll-mt-4 font-medium" id="log-title">{format!("Log of {task}")}</h2>
                <LogView run task attempt />
            }
        })
    }
}

#[component]
fn Run(
    page: RunPage,
    reload: RwSignal<u32>,
    selected: Memo<Option<String>>,
    live: LiveSteps,
) -> impl IntoView {
    let RunPage {
        project,
        crumbs,
        run,
        started_by,
        created_ago,
        params,
        steps,
        graph,
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
    let news: StepNews = RwSignal::new(String::new());
    if running {
        // In the browser only (effects do not run on the server).
        Effect::new(move |_| {
            follow(id, last_event, live, news, move || {
                reload.update(|n| *n += 1)
            });
        });
    }
    view! {
        <Title text=format!("Run #{id}") />
        <Breadcrumbs crumbs />
        <div class="mb-4 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">{format!("Run #{id}")}</h1>
            <span id="run-state" role="status" aria-live="polite" aria-label="Run state"><StateBadge name=run.state.as_str() tone=run.state.into() /></span>
            <p id="step-news" role="status" aria-live="polite" aria-atomic="true" class="sr-only">{move || news.get()}</p>
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
        <Dag graph steps run=id live selected />
    }
}

/// Below the log: the steps table (the graph's text alternative, with
/// re-run per step) and the timeline.
#[component]
fn RunTables(page: RunPage, live: LiveSteps) -> impl IntoView {
    let RunPage {
        run,
        steps,
        spans,
        timeline_until,
        can_run,
        left_out,
        ..
    } = page;
    let id = run.id;
    let running = run.state == RunState::Running;
    view! {
        <Steps steps=steps.clone() run=id live rerun=can_run && !running left_out />
        <h2 class="mt-6 mb-2 font-medium" id="timeline-title">"Timeline"</h2>
        <Timeline tasks=steps.iter().map(|s| s.task.clone()).collect() spans until=timeline_until run=id />
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

/// The steps table; with `rerun`, each step has a button that runs it (and
/// what follows it) again, all through one form.
#[component]
fn Steps(
    steps: Vec<StepView>,
    run: i64,
    live: LiveSteps,
    rerun: bool,
    left_out: Vec<(String, String)>,
) -> impl IntoView {
    // One form for every row's "Re-run" (each button names its task):
    // a run has a row per task, and a form each was most of a row's bytes.
    let rerun_form = rerun.then(|| {
        view! {
            <form id="rerun-step" method="post" action=format!("/ui/runs/{run}/retry")></form>
            <p id="rerun-step-help" class="sr-only">"Runs this step and the steps after it again"</p>
        }
    });
    view! {
        {rerun_form}
        <div class="relative overflow-x-auto" tabindex="0"><table class="mt-4 w-full text-left text-sm" id="steps">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th class="py-2">"Task"</th><th>"State"</th><th>"Attempt"</th><th title="After the run's start">"Started"</th><th>"Took"</th><th>"Exit"</th><th>"Message"</th><th>{rerun.then(|| view! { <span class="sr-only">"Re-run"</span> })}</th>
                </tr>
            </thead>
            <tbody>
                {steps
                    .into_iter()
                    .map(|s| {
                        let task = s.task.clone();
                        let artifacts = s.artifacts.clone().map(|label| view! {
                            <a class="artifacts ml-2 text-xs underline" download href=format!("/api/v1/runs/{run}/steps/{task}/artifacts")>
                                {format!("artifacts ({label})")}
                            </a>
                        });
                        let s_started = s.started_at.clone().unwrap_or_default();
                        let start_offset = s.start_offset_ms;
                        let now = current(live, s);
                        view! {
                            <tr data-task=task.clone()>
                                <td><a href=format!("/runs/{run}?step={task}#log-title")>{task.clone()}</a></td>
                                <td>{move || {
                                    let state = now.get().state;
                                    view! { <StateBadge name=state.as_str() tone=state.into() /> }
                                }}</td>
                                <td>{move || now.get().attempt}</td>
                                <td title=s_started.clone()>{start_offset.map(|ms| format!("+{}", duration(Some(ms)))).unwrap_or_default()}</td>
                                <td>{move || duration(now.get().duration_ms)}</td>
                                <td>{move || now.get().exit_code.map(|c| c.to_string()).unwrap_or_default()}</td>
                                <td class="text-xs">{move || now.get().message}{artifacts}</td>
                                <td>{rerun.then(|| view! {
                                    <button type="submit" form="rerun-step" name="task" value=task.clone() class="rerun-step" aria-describedby="rerun-step-help">"Re-run"</button>
                                })}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
                // Not in the run: the event's `when:` left them out.
                {left_out
                    .into_iter()
                    .map(|(task, why)| view! {
                        <tr class="text-stone-500" data-task=task.clone() data-left-out="true">
                            <td>{task.clone()}</td>
                            <td><StateBadge name=StepState::Skipped.as_str() tone=StepState::Skipped.into() /></td>
                            <td colspan="6" class="text-xs">{format!("left out by when: {why}")}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
}

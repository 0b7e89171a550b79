//! A project's pipelines page (`/projects/{id}/pipelines`): each pipeline's
//! last run per branch, the linked repository with the hook to paste into
//! the git host (maintainers), and the dry-run form, a plain GET form whose
//! answer says per pipeline and step whether it would start and which rule
//! left it out.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::forms::FormAlert;
use crate::components::repository_card::RepositoryCard;
use crate::components::run_state::StateBadge;
use crate::pipelines::data::{
    BranchStatusRow, DryRunQuery, DryRunView, PipelineVerdictView, PipelinesPage,
};
use crate::pipelines::load::load_pipelines;

/// Events the dry-run form offers.
const EVENTS: [&str; 5] = ["push", "pull_request", "tag", "manual", "schedule"];

#[component]
pub fn PipelinesPageView() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let project = params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0);
        let q = query.read();
        let text = |name: &str| q.get(name).unwrap_or_default();
        let asked = DryRunQuery {
            event: text("event"),
            branch: text("branch"),
            tag: text("tag"),
            paths: text("paths"),
            before: text("before"),
            after: text("after"),
        };
        (project, asked)
    };
    let data = Resource::new(key, |(project, asked)| load_pipelines(project, asked));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Pipelines page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Pipelines(page: PipelinesPage) -> impl IntoView {
    let PipelinesPage {
        project,
        crumbs,
        statuses,
        repository,
        can_edit_settings,
        can_run,
        known,
        query,
        dry_run,
    } = page;
    let id = project.id;
    view! {
        <Title text=format!("Pipelines of {}", project.name) />
        <Breadcrumbs crumbs />
        <div class="mb-4 flex items-baseline gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">{format!("Pipelines of {}", project.name)}</h1>
            {can_edit_settings.then(|| view! {
                <a class="text-sm underline" id="project-deliveries" href=format!("/projects/{id}/deliveries")>"Deliveries"</a>
            })}
        </div>
        <div class="grid gap-6 lg:grid-cols-3">
            <div class="min-w-0 lg:col-span-2">
                <h2 class="mb-2 font-medium">"Last run per branch"</h2>
                <StatusTable rows=statuses />
                {can_run.then(|| view! { <RunPipelineForm project=id known /> })}
                <h2 class="mb-2 mt-6 font-medium">"Dry run"</h2>
                <p class="mb-3 text-sm text-stone-600 dark:text-stone-400">
                    "Which pipelines and steps an event would start, and which rule leaves the others out. Nothing runs."
                </p>
                <DryRunForm query />
                {dry_run.map(|answer| view! { <DryRunAnswer answer /> })}
            </div>
            <div class="min-w-0">
                {can_edit_settings.then(|| view! { <RepositoryCard project=id repository /> })}
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn StatusTable(rows: Vec<BranchStatusRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <EmptyState message="No pipeline has run yet." /> }.into_any();
    }
    view! {
        <div class="relative overflow-x-auto" tabindex="0">
            <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="pipeline-statuses">
                <thead>
                    <tr class="border-b border-stone-200 dark:border-stone-800">
                        <th scope="col" class="py-2">"Pipeline"</th>
                        <th scope="col">"Branch"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Commit"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Run"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let (pipeline, reference) = (r.pipeline.clone(), r.reference.clone());
                            view! {
                            <tr class="border-b border-stone-100 dark:border-stone-900" data-pipeline=pipeline data-ref=reference>
                                <td class="py-2 font-mono">{r.pipeline}</td>
                                <td class="font-mono">{r.reference}</td>
                                <td><StateBadge name=r.state.as_str() tone=r.state.into() /></td>
                                <td class="font-mono">{r.sha}</td>
                                <td>{r.event}</td>
                                <td>
                                    <a class="underline" href=format!("/runs/{}", r.run_id) title=r.created_at>{format!("#{}", r.run_id)}</a>
                                </td>
                            </tr>
                        }})
                        .collect_view()}
                </tbody>
            </table></div>
        </div>
    }
    .into_any()
}

/// Starts a pipeline by hand on a branch, a tag or a commit (its
/// `when.event` must list `manual`).
#[component]
fn RunPipelineForm(project: i64, known: Vec<String>) -> impl IntoView {
    view! {
        <form method="post" action=format!("/ui/projects/{project}/pipelines/run") id="run-pipeline" class="mt-4 rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900">
            <h3 class="mb-3 font-medium">"Run a pipeline"</h3>
            <FormAlert form="run-pipeline" />
            <div class="grid gap-3 sm:grid-cols-4">
                <div>
                    <label for="run-pipeline-name" class="mb-1 block text-sm font-medium">"Pipeline"</label>
                    <input id="run-pipeline-name" name="pipeline" type="text" required=true list="known-pipelines" class=INPUT />
                    <datalist id="known-pipelines">
                        {known.into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
                    </datalist>
                </div>
                {text_input("run-pipeline", "branch", "Branch (empty: the default)", String::new())}
                {text_input("run-pipeline", "tag", "or a tag", String::new())}
                {text_input("run-pipeline", "commit", "or a commit", String::new())}
            </div>
            <button type="submit" class="mt-3 rounded-md bg-orange-700 px-4 py-2 text-sm font-medium text-white hover:bg-orange-800">"Run"</button>
        </form>
    }
    .into_any()
}

const INPUT: &str = "w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900";

/// A labelled text input of the dry-run form.
fn text_input(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    value: String,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    view! {
        <div>
            <label for=id.clone() class="mb-1 block text-sm font-medium">{label}</label>
            <input id=id name=name type="text" value=value class=INPUT />
        </div>
    }
}

#[component]
fn DryRunForm(query: DryRunQuery) -> impl IntoView {
    let chosen = if query.event.is_empty() {
        "push".to_owned()
    } else {
        query.event.clone()
    };
    view! {
        <form method="get" id="dry-run" class="mb-4 rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900">
            <div class="grid gap-3 sm:grid-cols-3">
                <div>
                    <label for="dry-run-event" class="mb-1 block text-sm font-medium">"Event"</label>
                    <select id="dry-run-event" name="event" class=INPUT>
                        {EVENTS
                            .iter()
                            .map(|e| view! { <option value=*e selected=*e == chosen>{*e}</option> })
                            .collect_view()}
                    </select>
                </div>
                {text_input("dry-run", "branch", "Branch (a pull request: its target)", query.branch)}
                {text_input("dry-run", "tag", "Tag", query.tag)}
            </div>
            <div class="mt-3">
                <label for="dry-run-paths" class="mb-1 block text-sm font-medium">"Changed files, one per line (empty: ask git for before..after)"</label>
                <textarea id="dry-run-paths" name="paths" rows="4" class=format!("{INPUT} font-mono")>{query.paths}</textarea>
            </div>
            <div class="mt-3 grid gap-3 sm:grid-cols-2">
                {text_input("dry-run", "before", "Before (commit; all zeros: a new branch)", query.before)}
                {text_input("dry-run", "after", "After (commit; empty: the branch's head)", query.after)}
            </div>
            <button type="submit" class="mt-3 rounded-md bg-orange-700 px-4 py-2 text-sm font-medium text-white hover:bg-orange-800">"Dry run"</button>
        </form>
    }
    .into_any()
}

#[component]
fn DryRunAnswer(answer: DryRunView) -> impl IntoView {
    if let Some(error) = answer.error {
        return view! {
            <p role="alert" id="dry-run-error" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">{error}</p>
        }
        .into_any();
    }
    let changed = match (&answer.changed, answer.changed_count) {
        (None, _) => "Paths are not evaluated for this event.".to_owned(),
        (Some(_), count) => format!("{count} changed file(s)"),
    };
    let compared = answer
        .compared_with
        .map(|c| format!(", compared with {}", short(&c)))
        .unwrap_or_default();
    view! {
        <section id="dry-run-answer" aria-live="polite">
            <p class="mb-2 text-sm">
                {format!("Commit {}: {changed}{compared}.", short(&answer.commit))}
            </p>
            {answer.changed.filter(|files| !files.is_empty()).map(|files| view! {
                <details class="mb-3 text-sm">
                    <summary>"Changed files"</summary>
                    <ul class="ml-4 list-disc font-mono">
                        {files.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                    </ul>
                </details>
            })}
            {if answer.pipelines.is_empty() {
                view! { <EmptyState message="No pipeline files at this commit (.kiln/*.yml or .kiln.yml)." /> }.into_any()
            } else {
                view! {
                    <ul class="space-y-2">
                        {answer.pipelines.into_iter().map(|p| view! { <Verdict p /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn Verdict(p: PipelineVerdictView) -> impl IntoView {
    let (badge, tone) = if p.start {
        ("starts", crate::components::run_state::Tone::Good)
    } else {
        ("left out", crate::components::run_state::Tone::Muted)
    };
    let why = p
        .reason
        .map(|r| match &p.rule {
            Some(rule) => format!("{rule}: {r}"),
            None => r,
        })
        .unwrap_or_default();
    let key = p.name.clone();
    view! {
        <li class="rounded-lg border border-stone-200 bg-white p-3 text-sm dark:border-stone-800 dark:bg-stone-900" data-pipeline=key data-starts=p.start.to_string()>
            <div class="flex flex-wrap items-baseline gap-2">
                <span class="font-mono font-medium">{p.name}</span>
                <span class="text-xs text-stone-500">{p.file}</span>
                <StateBadge name=badge tone />
                <span class="text-stone-600 dark:text-stone-400">{why}</span>
            </div>
            {(!p.errors.is_empty()).then(|| view! {
                <ul class="mt-2 list-disc pl-5 font-mono text-red-700 dark:text-red-300">
                    {p.errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            })}
            // A pipeline that does not start runs none of its steps.
            {(p.start && !p.steps.is_empty()).then(|| view! {
                <ul class="mt-2 pl-2">
                    {p.steps.into_iter().map(|s| {
                        let key = s.name.clone();
                        view! {
                            <li data-step=key data-starts=s.start.to_string()>
                                <span class="font-mono">{s.name}</span>
                                {if s.start { " · runs".to_owned() } else { format!(" · skipped: {}", s.reason.unwrap_or_default()) }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}

/// The first 12 characters of a commit id.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

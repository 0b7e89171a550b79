//! A table of workflows (`/workflows` across projects, a project's page):
//! each with its version, how its newest run went (state, how long it took,
//! how long ago) and a Run button that starts it in one click. A workflow
//! with a param that has no default is refused with the param named; its
//! own page has the form that asks for params.

use leptos::prelude::*;

use crate::components::forms::FormAlert;
use crate::components::run_state::{StateBadge, Tone, duration};
use crate::home::data::WorkflowAcross;

#[component]
pub fn WorkflowTable(
    workflows: Vec<WorkflowAcross>,
    /// The project column (off on a project's own page).
    show_project: bool,
    /// Whether to offer Run (the server checks the role anyway).
    can_run: bool,
) -> impl IntoView {
    view! {
        <FormAlert form="run" any_field=true />
        <div class="relative overflow-x-auto" tabindex="0">
            <table class="w-full text-left text-sm" id="workflows">
                <caption class="sr-only">"Workflows"</caption>
                <thead>
                    <tr class="border-b border-stone-200 dark:border-stone-800">
                        <th scope="col" class="py-2 pr-4">"Workflow"</th>
                        {show_project.then(|| view! { <th scope="col" class="pr-4">"Project"</th> })}
                        <th scope="col" class="pr-4">"Version"</th>
                        <th scope="col" class="pr-4">"Last run"</th>
                        <th scope="col" class="pr-4">"Took"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {workflows
                        .into_iter()
                        .map(|w| view! { <Row workflow=w show_project can_run /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(workflow: WorkflowAcross, show_project: bool, can_run: bool) -> impl IntoView {
    let href = format!(
        "/projects/{}/workflows/{}",
        workflow.project_id, workflow.name
    );
    let took = workflow
        .last_run
        .as_ref()
        .map(|run| duration(run.duration_ms))
        .unwrap_or_default();
    let last = match workflow.last_run {
        None => view! { <span class="text-stone-500">"never run"</span> }.into_any(),
        Some(run) => {
            let badge = if run.waiting {
                view! { <StateBadge name="waiting" tone=Tone::Waiting /> }.into_any()
            } else {
                view! { <StateBadge name=run.state.as_str() tone=run.state.into() /> }.into_any()
            };
            view! {
                <span class="inline-flex items-center gap-2">
                    {badge}
                    <a class="underline" href=format!("/runs/{}", run.id)>{format!("#{}", run.id)}</a>
                    <time datetime=run.created_at.clone() title=run.created_at>{run.ago}</time>
                </span>
            }
            .into_any()
        }
    };
    let run_label = format!("Run {}", workflow.name);
    view! {
        <tr class="border-b border-stone-100 dark:border-stone-900" data-workflow=workflow.name.clone()>
            <td class="py-2 pr-4"><a class="font-medium hover:underline" href=href.clone()>{workflow.name.clone()}</a></td>
            {show_project.then(|| view! {
                <td class="pr-4"><a class="hover:underline" href=format!("/p/{}", workflow.project)>{workflow.project.clone()}</a></td>
            })}
            <td class="pr-4">{workflow.version}</td>
            <td class="pr-4">{last}</td>
            <td class="pr-4">{took}</td>
            <td class="whitespace-nowrap py-1">
                {can_run.then(|| view! {
                    <form method="post" action=format!("{href}/run").replacen("/projects/", "/ui/projects/", 1) class="inline">
                        <button type="submit" class="run-now rounded-md bg-orange-700 px-2 py-1 text-xs font-medium text-white hover:bg-orange-800" aria-label=run_label>"Run"</button>
                    </form>
                })}
                <a class="ml-2 text-xs underline" href=format!("{href}#run-form")>"With params…"</a>
            </td>
        </tr>
    }
}

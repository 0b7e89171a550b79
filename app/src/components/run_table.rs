//! A table of runs across projects (the home page, every run): each with
//! its project, what it ran, who or what started it, its state, how long it
//! took and how long ago, the exact time on hover.

use leptos::prelude::*;

use crate::components::run_state::{StateBadge, Tone, duration};
use crate::home::data::RunAcross;

#[component]
pub fn RunTable(runs: Vec<RunAcross>, id: &'static str, caption: &'static str) -> impl IntoView {
    view! {
        <div class="relative overflow-x-auto" tabindex="0">
            <table class="w-full text-left text-sm" id=id>
                <caption class="sr-only">{caption}</caption>
                <thead>
                    <tr class="border-b border-stone-200 dark:border-stone-800">
                        <th scope="col" class="py-2 pr-4">"State"</th>
                        <th scope="col" class="pr-4">"Run"</th>
                        <th scope="col" class="pr-4">"Project"</th>
                        <th scope="col" class="pr-4">"Ran"</th>
                        <th scope="col" class="pr-4">"Started by"</th>
                        <th scope="col" class="pr-4">"Took"</th>
                        <th scope="col">"When"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.into_iter().map(|r| view! { <Row run=r /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(run: RunAcross) -> impl IntoView {
    let state = if run.waiting {
        view! { <StateBadge name="waiting" tone=Tone::Waiting /> }.into_any()
    } else {
        view! { <StateBadge name=run.state.as_str() tone=run.state.into() /> }.into_any()
    };
    view! {
        <tr class="border-b border-stone-100 dark:border-stone-900" data-run=run.id>
            <td class="py-2 pr-4">{state}</td>
            <td class="pr-4"><a class="underline" href=format!("/runs/{}", run.id)>{format!("#{}", run.id)}</a></td>
            <td class="pr-4"><a class="hover:underline" href=format!("/p/{}", run.project)>{run.project.clone()}</a></td>
            <td class="max-w-xs truncate pr-4" title=run.what.clone()>{run.what.clone()}</td>
            <td class="pr-4">{run.started_by}</td>
            <td class="pr-4">{duration(run.duration_ms)}</td>
            <td><time datetime=run.created_at.clone() title=run.created_at>{run.ago}</time></td>
        </tr>
    }
}

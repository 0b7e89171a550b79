//! A workflow's saved versions under its editor: newest first, who saved
//! each and when, a link to each one's changes from the one before, a
//! form to compare any two (a plain GET form: it works without the WASM),
//! and the comparison itself as a unified diff with both line numbers.

use leptos::prelude::*;

use crate::runs::data::{DiffLineView, VersionCompare, VersionRow};

#[component]
pub fn VersionHistory(
    /// The editor page's own address, for links that only change the query.
    page: String,
    versions: Vec<VersionRow>,
    compare: Option<VersionCompare>,
) -> impl IntoView {
    if versions.is_empty() {
        return ().into_any();
    }
    let newest = versions.first().map_or(1, |v| v.version);
    let (from, to) = compare
        .as_ref()
        .map_or((newest - 1, newest), |c| (c.from, c.to));
    // The versions listed, and the two compared (which may be older).
    let mut numbers: Vec<i32> = versions.iter().map(|v| v.version).collect();
    numbers.extend([from, to].into_iter().filter(|n| *n >= 1 && *n <= newest));
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    numbers.dedup();
    let options = move |selected: i32| {
        numbers
            .iter()
            .map(|&n| view! { <option value=n selected=n == selected>{format!("version {n}")}</option> })
            .collect_view()
    };
    let rows = versions
        .into_iter()
        .map(|v| {
            let changes = (v.version > 1).then(|| {
                let href = format!("{page}?from={}&to={}#changes", v.version - 1, v.version);
                view! { <a class="underline" href=href>"changes"</a> }
            });
            view! {
                <tr class="border-b border-stone-100 dark:border-stone-900" data-version=v.version>
                    <td class="py-1 pr-4 font-mono">{format!("version {}", v.version)}</td>
                    <td class="pr-4">{if v.saved_by.is_empty() { "a deleted account".to_owned() } else { v.saved_by }}</td>
                    <td class="pr-4"><time datetime=v.saved_at.clone() title=v.saved_at>{v.ago}</time></td>
                    <td>{changes}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="mt-8" aria-labelledby="versions-title">
            <h2 id="versions-title" class="mb-2 font-medium">"Versions"</h2>
            <div class="relative max-h-64 overflow-auto" tabindex="0">
                <table class="w-full text-left text-sm" id="versions">
                    <thead>
                        <tr class="border-b border-stone-200 dark:border-stone-800">
                            <th class="py-1 pr-4">"Version"</th><th class="pr-4">"Saved by"</th><th class="pr-4">"When"</th><th>"Compare"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {(newest > 1).then(|| view! {
                <form method="get" action=page.clone() class="mt-3 flex flex-wrap items-center gap-2 text-sm" id="compare-form">
                    <label>"From " <select name="from" class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900">{options(from)}</select></label>
                    <label>"to " <select name="to" class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900">{options(to)}</select></label>
                    <button type="submit" class="rounded-md border border-stone-300 px-3 py-1 dark:border-stone-700">"Compare"</button>
                </form>
            })}
            {compare.map(|c| view! { <Changes compare=c /> })}
        </section>
    }
    .into_any()
}

#[component]
fn Changes(compare: VersionCompare) -> impl IntoView {
    let title = format!(
        "Changes from version {} to version {}",
        compare.from, compare.to
    );
    let body = match compare.hunks {
        None => view! {
            <p class="text-sm">"These versions differ in too many lines to compare line by line."</p>
        }
        .into_any(),
        Some(hunks) if hunks.is_empty() => {
            let text = if compare.same_text {
                "No differences."
            } else {
                "The lines are the same; only line endings or the final newline differ."
            };
            view! { <p class="text-sm">{text}</p> }.into_any()
        }
        Some(hunks) => view! {
            <div class="relative overflow-x-auto rounded-lg border border-stone-200 dark:border-stone-800" tabindex="0">
                <table class="w-full font-mono text-xs leading-5" id="diff">
                    <caption class="sr-only">"Removed lines are marked with a minus, added lines with a plus."</caption>
                    <thead class="sr-only">
                        <tr><th scope="col">"Old line"</th><th scope="col">"New line"</th><th scope="col">"Line"</th></tr>
                    </thead>
                    {hunks.into_iter().enumerate().map(|(i, hunk)| view! {
                        <tbody>
                            {(i > 0).then(|| view! { <tr><td colspan="3" class="bg-stone-100 px-2 text-stone-500 dark:bg-stone-900">"⋯"</td></tr> })}
                            {hunk.into_iter().map(|line| view! { <Line line /> }).collect_view()}
                        </tbody>
                    }).collect_view()}
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <h3 id="changes" class="mt-4 mb-2 text-sm font-medium">{title}</h3>
        {body}
    }
}

#[component]
fn Line(line: DiffLineView) -> impl IntoView {
    let (class, sign) = match line.change {
        '-' => (
            "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-100",
            "-",
        ),
        '+' => (
            "bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-100",
            "+",
        ),
        _ => ("", " "),
    };
    // No text at all when a side has no line (an empty string is drawn as
    // a space by the server).
    let number = |n: Option<usize>| n.map(|n| n.to_string());
    view! {
        <tr class=class data-change=sign>
            <td class="w-10 select-none px-2 text-right text-stone-500">{number(line.old)}</td>
            <td class="w-10 select-none px-2 text-right text-stone-500">{number(line.new)}</td>
            <td class="whitespace-pre px-2">{format!("{sign} {}", line.text)}</td>
        </tr>
    }
}

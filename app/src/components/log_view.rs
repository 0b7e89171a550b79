//! A step's log: lines with their time and stream, ANSI colours rendered,
//! filtered by a search box, following the end while the step runs (the
//! first screenful comes with the page; the rest over the log's event
//! stream, from where the page stopped, until its `end` event).

use crate::screen::ansi::segments;
use leptos::prelude::*;

use super::event_stream::{self, Handler};
use crate::server_fns::load_log;

fn colour_class(colour: Option<u8>, bold: bool) -> &'static str {
    match (colour, bold) {
        (None, false) => "",
        (None, true) => "font-bold",
        (Some(0 | 8), _) => "text-stone-400",
        (Some(1 | 9), _) => "text-red-400",
        (Some(2 | 10), _) => "text-green-400",
        (Some(3 | 11), _) => "text-yellow-300",
        (Some(4 | 12), _) => "text-blue-400",
        (Some(5 | 13), _) => "text-fuchsia-400",
        (Some(6 | 14), _) => "text-cyan-300",
        (Some(_), _) => "text-stone-100",
    }
}

/// One stored line: `TIME STREAM text`.
fn line_view(line: String) -> impl IntoView {
    let mut parts = line.splitn(3, ' ');
    let (time, stream, text) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let text_class = match stream.as_str() {
        "E" => "text-red-300",
        "K" => "italic text-amber-300",
        _ => "",
    };
    let short_time = time.get(11..23).unwrap_or(&time).to_owned();
    view! {
        <div class="log-line whitespace-pre-wrap break-all">
            <span class="select-none pr-3 text-stone-500">{short_time}</span>
            <span class=text_class>
                {segments(&text)
                    .into_iter()
                    .map(|s| view! { <span class=colour_class(s.colour, s.bold)>{s.text}</span> })
                    .collect_view()}
            </span>
        </div>
    }
}

#[component]
pub fn LogView(run: i64, task: String) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let offset = RwSignal::new(0u64);
    let done = RwSignal::new(false);
    let search = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    let pre = NodeRef::<leptos::html::Div>::new();
    let first = {
        let task = task.clone();
        Resource::new(|| (), move |_| load_log(run, task.clone(), 0))
    };
    // Set once the first screenful is in: the stream goes on from there.
    let loaded = RwSignal::new(false);
    {
        let task = task.clone();
        Effect::new(move |_| {
            if !loaded.get() || done.get_untracked() {
                return;
            }
            let append: Handler = Box::new(move |lines: String| {
                text.update(|t| {
                    t.push_str(&lines);
                    t.push('\n');
                });
            });
            event_stream::open(
                "log",
                format!(
                    "/api/v1/runs/{run}/steps/{task}/log?offset={}",
                    offset.get_untracked()
                ),
                vec![
                    ("message", append),
                    ("end", Box::new(move |_| done.set(true))),
                ],
                &["end"],
            );
        });
    }
    Effect::new(move |_| {
        text.track();
        if follow.get_untracked()
            && let Some(el) = pre.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    view! {
        <div class="mt-3">
            <div class="mb-2 flex items-center gap-3 text-sm">
                <input type="search" placeholder="Search the log" id="log-search" aria-label="Search the log"
                    class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                    on:input=move |ev| search.set(event_target_value(&ev)) />
                <label class="flex items-center gap-1">
                    <input type="checkbox" checked=true on:change=move |ev| follow.set(event_target_checked(&ev)) />
                    "Follow"
                </label>
                <a class="underline" href=format!("/api/v1/runs/{run}/steps/{task}/log")>"Raw"</a>
            </div>
            <Suspense fallback=|| view! { <p>"Loading the log…"</p> }>
                {move || Suspend::new(async move {
                    if let Ok(Ok(chunk)) = first.await
                        && offset.get_untracked() == 0
                    {
                        text.set(chunk.text);
                        offset.set(chunk.next_offset);
                        done.set(chunk.done);
                        loaded.set(true);
                    }
                    view! {
                        <div node_ref=pre id="log" class="max-h-[32rem] overflow-y-auto rounded-lg bg-stone-950 p-3 font-mono text-xs leading-5 text-stone-100">
                            {move || {
                                let query = search.get().to_lowercase();
                                text.get()
                                    .lines()
                                    .filter(|l| query.is_empty() || l.to_lowercase().contains(&query))
                                    .map(|l| line_view(l.to_owned()))
                                    .collect_view()
                            }}
                        </div>
                    }
                })}
            </Suspense>
        </div>
    }
}

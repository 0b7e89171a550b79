//! A step's log: numbered lines (each a link, `#L120`, highlighted when it
//! is the address's target), their time and stream, ANSI colours rendered;
//! search that marks and counts matches and steps through them (or keeps
//! only matching lines); every attempt of a retried step; download of the
//! raw log; a full-screen view; following the end while the step runs (the
//! first screenful comes with the page, the rest over the log's event
//! stream until its `end` event). A step that never ran says why it has no
//! log.

use kiln_core::engine::StepState;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::reactive::computed::Selector;
use leptos::wasm_bindgen::JsCast;

use super::event_stream::{self, Handler};
use crate::runs::data::LogChunk;
use crate::runs::load::load_log;
use crate::screen::ansi::segments;
use crate::screen::log_search::{count, mark};

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

/// The stored line's text without its `TIME STREAM ` prefix.
fn text_of(line: &str) -> &str {
    line.splitn(3, ' ').nth(2).unwrap_or_default()
}

/// The text a reader sees of a stored line: no prefix, no colour codes
/// (what search counts is what it marks).
fn shown_text(line: &str) -> String {
    segments(text_of(line))
        .into_iter()
        .map(|s| s.text)
        .collect()
}

/// One stored line (`TIME STREAM text`) and its number, 1-based. Shared,
/// not copied, between the list and each row that shows it.
#[derive(Clone)]
struct Line {
    number: usize,
    raw: Arc<str>,
}

/// Appends `chunk`'s lines to `lines`, numbered on from the last.
fn push_lines(lines: &mut Vec<Line>, chunk: &str) {
    for raw in chunk.lines() {
        let number = lines.len() + 1;
        lines.push(Line {
            number,
            raw: raw.into(),
        });
    }
}

/// One row: its number (a link to itself), time and text, matches of the
/// search marked. The row is made once; a new search re-marks its text and
/// stepping to a match restyles the two rows concerned, nothing else.
fn line_view(
    line: Line,
    search: RwSignal<String>,
    current: Selector<Option<usize>>,
) -> impl IntoView {
    let Line { number, raw } = line;
    let mut parts = raw.splitn(3, ' ');
    let (time, stream) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let text_class = match stream {
        "E" => "text-red-300",
        "K" => "italic text-amber-300",
        _ => "",
    };
    let short_time = time.get(11..23).unwrap_or(time).to_owned();
    let id = format!("L{number}");
    let is_current = {
        let current = current.clone();
        move || current.selected(&Some(number))
    };
    view! {
        <div class={
                let is_current = is_current.clone();
                move || if is_current() { "log-line flex whitespace-pre-wrap break-all bg-stone-700 target:bg-yellow-900" } else { "log-line flex whitespace-pre-wrap break-all target:bg-yellow-900" }
            }
            id=id.clone() data-current=move || is_current().then_some("true")>
            <a href=format!("#{id}") class="line-no w-12 shrink-0 select-none pr-3 text-right text-stone-400 hover:text-stone-100" aria-label=format!("line {number}")>{number}</a>
            <span class="select-none pr-3 text-stone-400">{short_time}</span>
            <span class=text_class>
                {move || search.with(|query| {
                    mark(segments(text_of(&raw)), query)
                        .into_iter()
                        .map(|p| {
                            let class = colour_class(p.colour, p.bold);
                            if p.marked {
                                view! { <mark class=format!("{class} rounded-sm bg-yellow-300 text-stone-950")>{p.text}</mark> }.into_any()
                            } else {
                                view! { <span class=class>{p.text}</span> }.into_any()
                            }
                        })
                        .collect_view()
                })}
            </span>
        </div>
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Why a step has no log, for the states where that is expected.
pub fn why_no_log(state: StepState, message: &str) -> Option<String> {
    let because = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    match state {
        StepState::Skipped => Some(format!(
            "Skipped{because}: its trigger rule or a condition decided it would not run, so it printed nothing."
        )),
        StepState::UpstreamFailed => Some(format!(
            "Not run{because}: a step it needs failed, and its trigger rule runs it only when they succeed."
        )),
        StepState::Queued => Some("Not started yet: its log appears here when it starts.".into()),
        StepState::Cancelled => Some(format!("Cancelled{because} before it printed anything.")),
        _ => None,
    }
}

#[component]
pub fn LogView(run: i64, task: String, attempt: Option<i32>) -> impl IntoView {
    let first = {
        let task = task.clone();
        Resource::new(|| (), move |_| load_log(run, task.clone(), attempt, 0))
    };
    view! {
        <Suspense fallback=|| view! { <p>"Loading the log…"</p> }>
            {move || {
                let task = task.clone();
                Suspend::new(async move {
                    match first.await {
                        Ok(Ok(chunk)) => view! { <Log run task chunk /> }.into_any(),
                        _ => view! { <p class="text-sm text-stone-500">"This log cannot be read."</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The log itself, live in the browser (an island): its first chunk comes
/// with the page, as the island's data.
#[island]
fn Log(run: i64, task: String, chunk: LogChunk) -> impl IntoView {
    let LogChunk {
        text: first_text,
        next_offset,
        done: first_done,
        attempt,
        attempts,
        state,
        message,
    } = chunk;
    let lines = RwSignal::new({
        let mut lines = Vec::new();
        push_lines(&mut lines, &first_text);
        lines
    });
    let done = RwSignal::new(first_done);
    let search = RwSignal::new(String::new());
    let only_matching = RwSignal::new(false);
    // Which matching line is current; none until the first step.
    let current = RwSignal::new(None::<usize>);
    let follow = RwSignal::new(true);
    let full = RwSignal::new(false);
    let pre = NodeRef::<leptos::html::Div>::new();
    let log_url = format!("/api/v1/runs/{run}/steps/{task}/log?attempt={attempt}");
    if !first_done {
        let url = format!("{log_url}&offset={next_offset}");
        // In the browser only (effects do not run on the server).
        Effect::new(move |_| {
            let append: Handler = Box::new(move |chunk: String| {
                lines.update(|lines| push_lines(lines, &chunk));
            });
            event_stream::open(
                "log",
                url.clone(),
                vec![
                    ("message", append),
                    ("end", Box::new(move |_| done.set(true))),
                ],
                &["end"],
                Some("offset"),
            );
        });
    }
    Effect::new(move |_| {
        lines.track();
        if follow.get_untracked()
            && search.get_untracked().is_empty()
            && let Some(el) = pre.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    // The line numbers holding a match, and how many matches in all.
    let matches = Memo::new(move |_| {
        let query = search.get();
        if query.is_empty() {
            return (Vec::new(), 0);
        }
        let mut found = Vec::new();
        let mut total = 0;
        lines.with(|lines| {
            for line in lines {
                let n = count(&shown_text(&line.raw), &query);
                if n > 0 {
                    found.push(line.number);
                    total += n;
                }
            }
        });
        (found, total)
    });
    let go = move |step: isize| {
        let lines = matches.with(|(lines, _)| lines.clone());
        if lines.is_empty() {
            return;
        }
        let len = lines.len() as isize;
        let next = match current.get_untracked() {
            None if step > 0 => 0,
            None => lines.len() - 1,
            Some(at) => (at as isize + step).rem_euclid(len) as usize,
        };
        current.set(Some(next));
        follow.set(false);
        // The box is the lines' offset parent (`relative`): a line's
        // offset is its place in the box's content.
        if let Some(el) = pre.get()
            && let Ok(Some(line)) = el.query_selector(&format!("#L{}", lines[next]))
        {
            let line = line.unchecked_into::<leptos::web_sys::HtmlElement>();
            el.set_scroll_top(line.offset_top() - el.client_height() / 3);
        }
    };
    let attempt_links = (attempts > 1).then(|| {
        let task = task.clone();
        view! {
            <nav aria-label="Attempts" class="flex items-center gap-1" id="log-attempts">
                <span class="text-stone-500">"Attempt"</span>
                {(1..=attempts)
                    .map(|n| {
                        let on = n == attempt;
                        view! {
                            <a href=format!("/runs/{run}?step={task}&attempt={n}")
                                class=if on { "rounded bg-stone-800 px-2 text-white dark:bg-stone-200 dark:text-stone-900" } else { "rounded px-2 underline" }
                                aria-current=on.then_some("page")>{n}</a>
                        }
                    })
                    .collect_view()}
            </nav>
        }
    });
    // The matching line stepped to, as a selector: a step restyles the
    // line left and the line reached only.
    let at = Selector::new(move || {
        current
            .get()
            .and_then(|c| matches.with(|(lines, _)| lines.get(c).copied()))
    });
    let download_name = format!("run-{run}-{task}-attempt-{attempt}.log");
    let empty_note = why_no_log(state, &message);
    view! {
        <div id="log-box" class=move || if full.get() { "fixed inset-0 z-50 flex flex-col bg-stone-900 p-4 text-stone-100" } else { "mt-3" }
            on:keydown=move |ev| if ev.key() == "Escape" { full.set(false) }>
            <div class="mb-2 flex flex-wrap items-center gap-3 text-sm">
                <input type="search" placeholder="Search the log" id="log-search" aria-label="Search the log"
                    class="rounded-md border border-stone-300 px-2 py-1 text-stone-900 dark:border-stone-700 dark:bg-stone-900 dark:text-stone-100"
                    on:input=move |ev| { search.set(event_target_value(&ev)); current.set(None); }
                    on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); go(if ev.shift_key() { -1 } else { 1 }); } />
                <span id="log-matches" role="status" aria-live="polite" class="text-stone-500">
                    {move || matches.with(|(lines, total)| {
                        if search.get().is_empty() {
                            String::new()
                        } else if *total == 0 {
                            "no match".to_owned()
                        } else {
                            let found = format!("{total} {} on {} {}", plural(*total, "match", "matches"), lines.len(), plural(lines.len(), "line", "lines"));
                            match current.get() {
                                Some(at) => format!("line {} of {} · {found}", at.min(lines.len().saturating_sub(1)) + 1, lines.len()),
                                None => found,
                            }
                        }
                    })}
                </span>
                <button type="button" id="log-prev" class="rounded border border-stone-300 px-2 dark:border-stone-700" aria-label="Previous match" on:click=move |_| go(-1)>"↑"</button>
                <button type="button" id="log-next" class="rounded border border-stone-300 px-2 dark:border-stone-700" aria-label="Next match" on:click=move |_| go(1)>"↓"</button>
                <label class="flex items-center gap-1">
                    <input type="checkbox" id="log-only-matching" on:change=move |ev| only_matching.set(event_target_checked(&ev)) />
                    "Only matching lines"
                </label>
                <label class="flex items-center gap-1">
                    <input type="checkbox" id="log-follow" prop:checked=move || follow.get() on:change=move |ev| follow.set(event_target_checked(&ev)) />
                    "Follow"
                </label>
                {attempt_links}
                <a class="underline" id="log-download" download=download_name href=log_url.clone()>"Download"</a>
                <a class="underline" href=log_url.clone()>"Raw"</a>
                <button type="button" id="log-full" class="rounded border border-stone-300 px-2 dark:border-stone-700"
                    aria-pressed=move || full.get().to_string()
                    on:click=move |_| full.update(|f| *f = !*f)>
                    {move || if full.get() { "Exit full screen" } else { "Full screen" }}
                </button>
            </div>
            <div node_ref=pre id="log" tabindex="0" aria-label="Log"
                class=move || if full.get() { "relative flex-1 overflow-y-auto rounded-lg bg-stone-950 p-3 font-mono text-xs leading-5 text-stone-100" } else { "relative max-h-[32rem] overflow-y-auto rounded-lg bg-stone-950 p-3 font-mono text-xs leading-5 text-stone-100" }>
                {move || (lines.with(Vec::is_empty) && done.get()).then(|| {
                    let note = empty_note.clone().unwrap_or_else(|| "It printed nothing.".to_owned());
                    view! { <p id="log-empty" class="text-stone-400">{note}</p> }
                })}
                // Keyed by line number: a new chunk adds its rows and leaves
                // the others alone, however long the log.
                <For
                    each=move || {
                        // Only matching lines: the search's own list of them
                        // (in order), not a second search.
                        let only = only_matching.get() && !search.with(String::is_empty);
                        lines.with(|lines| {
                            if !only {
                                return lines.clone();
                            }
                            matches.with(|(found, _)| {
                                lines
                                    .iter()
                                    .filter(|l| found.binary_search(&l.number).is_ok())
                                    .cloned()
                                    .collect::<Vec<_>>()
                            })
                        })
                    }
                    key=|line| line.number
                    children=move |line| line_view(line, search, at.clone())
                />
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_that_never_ran_say_why() {
        let skipped = why_no_log(StepState::Skipped, "").unwrap();
        assert!(skipped.starts_with("Skipped:"), "{skipped}");
        let upstream = why_no_log(StepState::UpstreamFailed, "build failed").unwrap();
        assert!(upstream.contains("build failed") && upstream.contains("a step it needs failed"));
        assert!(why_no_log(StepState::Success, "").is_none());
    }

    #[test]
    fn chunks_number_their_lines_on_from_the_last() {
        let mut lines = Vec::new();
        push_lines(&mut lines, "t O one\nt O two\n");
        push_lines(&mut lines, "t O three");
        push_lines(&mut lines, "");
        let seen: Vec<(usize, &str)> = lines.iter().map(|l| (l.number, &*l.raw)).collect();
        assert_eq!(seen, [(1, "t O one"), (2, "t O two"), (3, "t O three")]);
    }

    #[test]
    fn the_text_of_a_stored_line_leaves_its_prefix() {
        assert_eq!(
            text_of("2026-01-01T00:00:00.000Z O hello world"),
            "hello world"
        );
        assert_eq!(text_of("short"), "");
    }
}

//! A light code editor: a plain textarea (it posts with its form, works
//! without JavaScript) beside a gutter of line numbers that follows its
//! scrolling and its line count, with the lines a problem points at marked.
//! No editor bundle: the numbers and the marks are all it adds (an island).

use leptos::prelude::*;

/// Lines in `text` as an editor counts them (a last empty line counts).
pub fn line_count(text: &str) -> usize {
    text.split('\n').count().max(1)
}

#[island]
pub fn CodeEditor(
    /// The form field's name.
    name: String,
    id: String,
    label: String,
    source: String,
    readonly: bool,
    /// 1-based lines to mark (where problems were found).
    marked: Vec<usize>,
    /// The id of the text that describes the problems, if any.
    described_by: Option<String>,
) -> impl IntoView {
    let lines = RwSignal::new(line_count(&source));
    let rows = line_count(&source).clamp(12, 40);
    let gutter = NodeRef::<leptos::html::Pre>::new();
    let invalid = !marked.is_empty();
    view! {
        <div class="flex overflow-hidden rounded-lg border border-stone-300 bg-white font-mono text-sm leading-6 focus-within:ring-2 focus-within:ring-orange-500 dark:border-stone-700 dark:bg-stone-900">
            <pre node_ref=gutter aria-hidden="true" id=format!("{id}-gutter")
                class="m-0 select-none overflow-hidden border-r border-stone-200 bg-stone-50 py-3 pr-2 pl-3 text-right text-stone-500 dark:border-stone-800 dark:bg-stone-950">
                {move || {
                    (1..=lines.get())
                        .map(|n| {
                            let bad = marked.contains(&n);
                            view! {
                                <span class=if bad { "block bg-red-200 font-bold text-red-900 dark:bg-red-900 dark:text-red-100" } else { "block" }
                                    data-line=n data-problem=bad.then_some("true")>{n}</span>
                            }
                        })
                        .collect_view()
                }}
            </pre>
            <textarea name=name id=id aria-label=label rows=rows spellcheck="false" wrap="off" readonly=readonly
                aria-invalid=invalid.then_some("true") aria-describedby=described_by
                class="min-w-0 flex-1 resize-y whitespace-pre bg-transparent p-3 leading-6 outline-none"
                on:input=move |ev| {
                    lines.set(line_count(&event_target_value(&ev)));
                }
                on:scroll=move |ev| {
                    let area = event_target::<leptos::web_sys::HtmlTextAreaElement>(&ev);
                    if let Some(g) = gutter.get() {
                        g.set_scroll_top(area.scroll_top());
                    }
                }>
                {source}
            </textarea>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_an_editor_shows_them() {
        assert_eq!(line_count(""), 1);
        assert_eq!(line_count("a"), 1);
        assert_eq!(line_count("a\n"), 2);
        assert_eq!(line_count("a\nb\nc"), 3);
    }
}

//! How states look: one colour per run or step state, the same in badges,
//! graph nodes and the duration chart. Class names are written out whole so
//! Tailwind finds them.

use leptos::prelude::*;

/// Badge classes of a state.
pub fn badge_class(state: &str) -> &'static str {
    match state {
        "success" => {
            "rounded px-2 py-0.5 text-xs font-medium bg-green-100 text-green-800 dark:bg-green-900 dark:text-green-100"
        }
        "failed" | "timed_out" => {
            "rounded px-2 py-0.5 text-xs font-medium bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-100"
        }
        "upstream_failed" => {
            "rounded px-2 py-0.5 text-xs font-medium bg-orange-100 text-orange-800 dark:bg-orange-900 dark:text-orange-100"
        }
        "running" => {
            "rounded px-2 py-0.5 text-xs font-medium bg-sky-100 text-sky-800 dark:bg-sky-900 dark:text-sky-100"
        }
        "cancelled" | "skipped" => {
            "rounded px-2 py-0.5 text-xs font-medium bg-stone-200 text-stone-700 dark:bg-stone-800 dark:text-stone-200"
        }
        _ => {
            "rounded px-2 py-0.5 text-xs font-medium bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100"
        }
    }
}

/// SVG fill of a state.
pub fn fill(state: &str) -> &'static str {
    match state {
        "success" => "#16a34a",
        "failed" | "timed_out" => "#dc2626",
        "upstream_failed" => "#ea580c",
        "running" => "#0284c7",
        "cancelled" | "skipped" => "#a8a29e",
        _ => "#d97706",
    }
}

#[component]
pub fn StateBadge(state: String) -> impl IntoView {
    view! { <span class=badge_class(&state) data-state=state.clone()>{state.clone()}</span> }
}

/// "1.2 s", "3 min 4 s", or "—".
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

//! How states look: one tone per run or step state, the same in badges,
//! graph nodes and the duration chart. Class names are written out whole so
//! Tailwind finds them.

use kiln_core::engine::{RunState, StepState};
use leptos::prelude::*;

/// The colour family a state is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    /// Not run because something before it failed.
    Knock,
    Active,
    Muted,
    Waiting,
}

impl From<StepState> for Tone {
    fn from(state: StepState) -> Self {
        match state {
            StepState::Success => Tone::Good,
            StepState::Failed | StepState::TimedOut => Tone::Bad,
            StepState::UpstreamFailed => Tone::Knock,
            StepState::Running => Tone::Active,
            StepState::Cancelled | StepState::Skipped => Tone::Muted,
            StepState::Queued => Tone::Waiting,
        }
    }
}

impl From<RunState> for Tone {
    fn from(state: RunState) -> Self {
        match state {
            RunState::Success => Tone::Good,
            RunState::Failed => Tone::Bad,
            RunState::Running => Tone::Active,
            RunState::Cancelled => Tone::Muted,
        }
    }
}

/// Badge classes of a tone.
pub fn badge_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => {
            "rounded px-2 py-0.5 text-xs font-medium bg-green-100 text-green-800 dark:bg-green-900 dark:text-green-100"
        }
        Tone::Bad => {
            "rounded px-2 py-0.5 text-xs font-medium bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-100"
        }
        Tone::Knock => {
            "rounded px-2 py-0.5 text-xs font-medium bg-orange-100 text-orange-800 dark:bg-orange-900 dark:text-orange-100"
        }
        Tone::Active => {
            "rounded px-2 py-0.5 text-xs font-medium bg-sky-100 text-sky-800 dark:bg-sky-900 dark:text-sky-100"
        }
        Tone::Muted => {
            "rounded px-2 py-0.5 text-xs font-medium bg-stone-200 text-stone-700 dark:bg-stone-800 dark:text-stone-200"
        }
        Tone::Waiting => {
            "rounded px-2 py-0.5 text-xs font-medium bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100"
        }
    }
}

/// SVG fill of a tone.
pub fn fill(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => "#16a34a",
        Tone::Bad => "#dc2626",
        Tone::Knock => "#ea580c",
        Tone::Active => "#0284c7",
        Tone::Muted => "#a8a29e",
        Tone::Waiting => "#d97706",
    }
}

/// A state's symbol, so that states differ by more than their colour
/// (queued and upstream_failed are both shades of orange).
pub fn symbol(state: StepState) -> &'static str {
    match state {
        StepState::Queued => "○",
        StepState::Running => "▶",
        StepState::Success => "✓",
        StepState::Failed => "✗",
        StepState::Skipped => "↷",
        StepState::UpstreamFailed => "⊘",
        StepState::Cancelled => "■",
        StepState::TimedOut => "◷",
    }
}

/// A state's name in its tone's badge.
#[component]
pub fn StateBadge(name: &'static str, tone: Tone) -> impl IntoView {
    view! { <span class=badge_class(tone) data-state=name>{name}</span> }
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

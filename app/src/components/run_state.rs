//! How states look: one tone per run or step state, the same in badges,
//! graph nodes and the duration chart. A badge's classes name its tone;
//! the stylesheet (style/main.css) says how each tone looks.

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

/// Badge classes of a tone: `.badge` and the tone's own, styled once in
/// the stylesheet (a run's steps table has a badge a row).
pub fn badge_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => "badge good",
        Tone::Bad => "badge bad",
        Tone::Knock => "badge knock",
        Tone::Active => "badge active",
        Tone::Muted => "badge muted",
        Tone::Waiting => "badge waiting",
    }
}

/// SVG fill of a tone. The stylesheet repeats these for the graph's boxes
/// (`.dag-node[data-state=…]`), which a test holds to these.
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

/// A graph box's hover text and accessible name: the whole name and the
/// state (drawn on the server, and patched live in the browser).
pub fn node_title(task: &str, state: StepState) -> String {
    format!("{task}: {}", state.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_colours_each_states_box_as_its_tone() {
        let css = include_str!("../../../style/main.css");
        for state in StepState::ALL {
            let selector = format!(".dag-node[data-state=\"{}\"] rect", state.as_str());
            let at = css
                .find(&selector)
                .unwrap_or_else(|| panic!("no rule for {selector}"));
            let rule = &css[at..at + css[at..].find('}').unwrap()];
            assert!(
                rule.contains(&format!("fill: {};", fill(state.into()))),
                "{rule}"
            );
        }
    }
}

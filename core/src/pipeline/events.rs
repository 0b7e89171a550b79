//! The kinds of event a pipeline's `when.event` names.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Commits pushed to a branch (a new branch included).
    Push,
    /// A pull (merge) request opened, reopened or updated.
    PullRequest,
    /// A tag pushed.
    Tag,
    /// Started by hand from the dashboard or the API.
    Manual,
    /// Fired by a schedule.
    Schedule,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Push,
        EventKind::PullRequest,
        EventKind::Tag,
        EventKind::Manual,
        EventKind::Schedule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Push => "push",
            EventKind::PullRequest => "pull_request",
            EventKind::Tag => "tag",
            EventKind::Manual => "manual",
            EventKind::Schedule => "schedule",
        }
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| {
                format!(
                    "unknown event {raw:?}; expected push, pull_request, tag, manual or schedule"
                )
            })
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

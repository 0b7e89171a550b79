//! One delivery's meaning, the same whichever host sent it. Kept as JSON
//! with the delivery, so that it can be replayed.

use serde::{Deserialize, Serialize};

/// The head commit as the payload describes it (shown on the run page and
/// given to steps as data, never as code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub message: String,
    pub author: String,
}

/// Commits pushed to a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub branch: String,
    /// The branch's commit before the push; `None` for a new branch.
    pub before: Option<String>,
    pub after: String,
    pub head: Commit,
}

/// A pull (merge) request opened, reopened or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    /// The commit to build: the request's head.
    pub head_sha: String,
    pub head_branch: String,
    /// The branch it would merge into (what `when.branch` matches).
    pub target_branch: String,
    pub author: String,
    pub head: Commit,
    /// From another repository: runs without secrets until approved.
    pub from_fork: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum HookEvent {
    /// The host checking the hook: answered, nothing started.
    Ping,
    Push(Push),
    Tag {
        tag: String,
        sha: String,
        head: Commit,
    },
    /// A branch or tag removed: nothing starts.
    Deleted {
        name: String,
    },
    PullRequest(PullRequest),
    /// Recorded with the reason; nothing starts.
    Ignored(String),
}

impl HookEvent {
    /// The event's name as recorded on the Deliveries page.
    pub fn kind(&self) -> &'static str {
        match self {
            HookEvent::Ping => "ping",
            HookEvent::Push(_) => "push",
            HookEvent::Tag { .. } => "tag",
            HookEvent::Deleted { .. } => "delete",
            HookEvent::PullRequest(_) => "pull_request",
            HookEvent::Ignored(_) => "ignored",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_its_json() {
        let head = Commit {
            message: "fix $(id)\n\n[skip ci]".into(),
            author: "ann".into(),
        };
        let events = [
            HookEvent::Ping,
            HookEvent::Push(Push {
                branch: "main".into(),
                before: None,
                after: "a".repeat(40),
                head: head.clone(),
            }),
            HookEvent::Tag {
                tag: "v1".into(),
                sha: "b".repeat(40),
                head: head.clone(),
            },
            HookEvent::Deleted { name: "old".into() },
            HookEvent::PullRequest(PullRequest {
                number: 7,
                title: "t".into(),
                head_sha: "c".repeat(40),
                head_branch: "topic".into(),
                target_branch: "main".into(),
                author: "bob".into(),
                head,
                from_fork: true,
            }),
            HookEvent::Ignored("issues".into()),
        ];
        for event in events {
            let text = serde_json::to_string(&event).expect("serialises");
            let back: HookEvent = serde_json::from_str(&text).expect("reads back");
            assert_eq!(back, event, "{text}");
        }
    }
}

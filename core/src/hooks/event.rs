//! One delivery's meaning, the same whichever host sent it.

/// The head commit as the payload describes it (shown on the run page and
/// given to steps as data, never as code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    pub message: String,
    pub author: String,
}

/// Commits pushed to a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub branch: String,
    /// The branch's commit before the push; `None` for a new branch.
    pub before: Option<String>,
    pub after: String,
    pub head: Commit,
}

/// A pull (merge) request opened, reopened or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
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

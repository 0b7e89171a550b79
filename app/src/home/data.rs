//! What the home page, the list of every run and the list of every
//! workflow show: runs and workflows across the viewer's projects, as
//! plain serialisable types.

use kiln_core::engine::RunState;
use serde::{Deserialize, Serialize};

/// One run in a list across projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAcross {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    /// What it ran: the workflow's name, or the pipeline's with its branch
    /// or tag.
    pub what: String,
    /// Who or what started it: "alice", "schedule", "webhook", …
    pub started_by: String,
    pub state: RunState,
    /// Exact, RFC 3339 in UTC.
    pub created_at: String,
    /// "3 min ago", as of when the page was made.
    pub ago: String,
    pub duration_ms: Option<i64>,
    /// A running run that waits for its concurrency group.
    pub waiting: bool,
}

/// The signed-in home page: what runs now, what failed lately, and the
/// newest runs, across every project the viewer can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomePage {
    pub running: Vec<RunAcross>,
    pub failures: Vec<RunAcross>,
    pub recent: Vec<RunAcross>,
    /// Whether the viewer can see any project (0: say how to begin);
    /// counted only when there are no runs to show.
    pub projects: usize,
}

/// The filters of the list of every run; empty = any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllRunsFilter {
    pub project: Option<String>,
    pub state: Option<String>,
    pub kind: Option<String>,
    pub trigger: Option<String>,
    /// `me`: only the viewer's own runs.
    pub who: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllRunsPage {
    pub runs: Vec<RunAcross>,
    pub filter: AllRunsFilter,
    /// The projects to filter by: (id, full path).
    pub projects: Vec<(i64, String)>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// A workflow in the list across projects, with its newest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowAcross {
    pub project_id: i64,
    pub project: String,
    pub name: String,
    pub version: i32,
    pub last_run: Option<RunAcross>,
}

/// `/workflows`: every workflow of the projects the viewer can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowsAcrossPage {
    pub workflows: Vec<WorkflowAcross>,
    /// More workflows exist than the page shows.
    pub cut: bool,
}

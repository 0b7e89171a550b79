//! What the schedule pages show, as plain serialisable types: lists of
//! schedules, one schedule with its history, and the live preview of an
//! expression (computed on the server, which knows the time zones).

use serde::{Deserialize, Serialize};

use crate::accounts::data::{Crumb, NodeView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRow {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    /// "workflow build", or "pipeline ci on main".
    pub target: String,
    pub paused: bool,
    /// The next instant, RFC 3339 UTC (none while paused), and how far off
    /// it was when the page was made ("in 3 min").
    pub next: Option<String>,
    pub next_in: Option<String>,
    pub last_outcome: Option<String>,
    pub last_run: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulesPage {
    /// The project, on a project's schedules page; `None` across projects.
    pub project: Option<NodeView>,
    pub crumbs: Vec<Crumb>,
    pub rows: Vec<ScheduleRow>,
    pub can_edit: bool,
    /// The project's workflows, for the new schedule form.
    pub workflows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringRow {
    pub instant: String,
    pub fired_at: String,
    pub lateness_ms: i64,
    pub outcome: String,
    pub run_id: Option<i64>,
    pub manual: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    pub row: ScheduleRow,
    pub concurrency: String,
    pub catchup: String,
    pub starting_deadline: Option<String>,
    /// The next five instants, RFC 3339 UTC.
    pub next: Vec<String>,
    /// Newest first.
    pub firings: Vec<FiringRow>,
    pub can_edit: bool,
    pub can_run: bool,
}

/// The next instants of an expression, or why it is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    /// (in the zone, in UTC), RFC 3339.
    pub instants: Vec<(String, String)>,
    pub error: Option<String>,
}

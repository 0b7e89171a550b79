//! What the workflow and run pages show, as plain serialisable types.

use kiln_core::engine::{RunState, RunTrigger, StepState};
use serde::{Deserialize, Serialize};

pub use super::drawn::DrawnOnServer;
use crate::accounts::data::{Crumb, NodeView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamView {
    pub name: String,
    /// string, integer, number or boolean.
    pub kind: String,
    pub default: Option<String>,
    pub description: String,
}

/// A problem in a workflow file, at its line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemView {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One of a workflow's recent runs, for the duration chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunBar {
    pub id: i64,
    pub state: RunState,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowPage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    /// `None` while writing a new one.
    pub name: Option<String>,
    pub version: Option<i32>,
    /// The text in the editor: the saved version, or a draft that did not
    /// save (with its problems).
    pub source: String,
    pub problems: Vec<ProblemView>,
    pub params: Vec<ParamView>,
    /// Oldest first, at most 50.
    pub recent: Vec<RunBar>,
    pub can_edit: bool,
    pub can_run: bool,
    /// The newest saved versions, newest first (empty for a new one).
    pub versions: Vec<VersionRow>,
    /// Two versions compared, when the page asked for it.
    pub compare: Option<VersionCompare>,
    /// The drawing of the text in the editor, when it loads.
    pub graph: Option<GraphView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: i64,
    pub workflow: Option<String>,
    pub trigger: RunTrigger,
    pub state: RunState,
    pub created_at: String,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilterView {
    pub state: Option<String>,
    pub workflow: Option<String>,
    pub trigger: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunsPage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    pub runs: Vec<RunRow>,
    pub workflows: Vec<String>,
    pub filter: RunFilterView,
}

/// A step as the run page shows it. Empty fields are left out of the
/// page's hydration data (a run page carries one of these per task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub task: String,
    pub state: StepState,
    pub attempt: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When its latest attempt started, in ms from the run's start (not
    /// in the run's live events: they leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_offset_ms: Option<i64>,
    /// What its saved artifacts hold ("3 files, 12.0 KB"), when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<String>,
}

/// A task's box in the drawn graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    pub task: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphView {
    pub nodes: Vec<GraphNode>,
    /// Indexes into `nodes`, from dependency to dependant.
    pub edges: Vec<(usize, usize)>,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    pub run: RunRow,
    /// Who started it (a user's name), when a user did.
    pub started_by: Option<String>,
    /// How long ago it was created ("3 min ago").
    pub created_ago: String,
    pub params: Vec<(String, String)>,
    /// The graph's natural size, for its zoom.
    pub graph_width: f64,
    pub graph_height: f64,
    pub can_run: bool,
    /// The run succeeded although `allow_failure` steps failed.
    pub allowed_failures: bool,
    /// A run of a pull request from a fork, and where it stands.
    pub fork: Option<ForkApproval>,
    /// The failed run of a pipeline file that does not load: each error
    /// with its line and column.
    pub errors: Vec<String>,
    /// The concurrency group the run waits for, when the page was made.
    pub waiting_for: Option<String>,
    /// The run's newest event when the page was made: the live stream
    /// starts after it.
    pub last_event: i64,
    /// The graph, the steps and their timeline: on a page load, drawn by
    /// the server and not sent again as data.
    pub detail: DrawnOnServer<RunDetail>,
}

/// A run's big parts: a box, a row and a timeline bar per task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub steps: Vec<StepView>,
    pub graph: GraphView,
    /// Every attempt of every step, in ms from the run's start.
    pub spans: Vec<crate::screen::timeline::Span>,
    /// Where the timeline's axis ends: the run's end, or now.
    pub timeline_until: i64,
    /// A pipeline run's steps its event's `when:` left out, with why.
    pub left_out: Vec<(String, String)>,
}

/// A run of a pull request from a fork: its steps get no secrets until a
/// maintainer approves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkApproval {
    /// The commit it runs: the one to review before approving.
    pub commit: String,
    pub pr_number: Option<u64>,
    /// Who approved it, or `None` while secrets are withheld.
    pub approved_by: Option<String>,
    /// The viewer may approve it (a maintainer, and not yet approved).
    pub can_approve: bool,
}

/// A piece of a step's log, from `offset` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogChunk {
    pub text: String,
    pub next_offset: u64,
    /// The attempt is over and everything was read.
    pub done: bool,
    /// The attempt shown, of `attempts`.
    pub attempt: i32,
    pub attempts: i32,
    /// The step's state (for an earlier attempt: failed, it was retried).
    pub state: StepState,
    /// The step's message (why it ended as it did).
    pub message: String,
}

/// A saved version of a workflow, for its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: i32,
    /// Who saved it (empty when the account is gone).
    pub saved_by: String,
    pub saved_at: String,
    pub ago: String,
}

/// Two versions of a workflow, compared line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCompare {
    pub from: i32,
    pub to: i32,
    /// The changes with three lines of context around each; `None` when
    /// the versions differ too much to show line by line.
    pub hunks: Option<Vec<Vec<DiffLineView>>>,
    /// Whether the two texts are byte for byte the same.
    pub same_text: bool,
}

/// One line of a comparison: `change` is `' '`, `'-'` or `'+'`, as in a
/// unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLineView {
    pub change: char,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_leaves_its_empty_fields_out_and_reads_them_back() {
        let waiting = StepView {
            task: "build".into(),
            state: StepState::Queued,
            attempt: 1,
            duration_ms: None,
            exit_code: None,
            message: String::new(),
            started_at: None,
            start_offset_ms: None,
            artifacts: None,
        };
        let json = serde_json::to_string(&waiting).unwrap();
        assert_eq!(json, r#"{"task":"build","state":"queued","attempt":1}"#);
        assert_eq!(serde_json::from_str::<StepView>(&json).unwrap(), waiting);
        // Written out in full, nulls and all, it reads the same.
        let full = r#"{"task":"build","state":"queued","attempt":1,"duration_ms":null,"exit_code":null,"message":"","started_at":null,"start_offset_ms":null,"artifacts":null}"#;
        assert_eq!(serde_json::from_str::<StepView>(full).unwrap(), waiting);
        let ran = StepView {
            duration_ms: Some(8),
            exit_code: Some(0),
            message: "done".into(),
            ..waiting
        };
        let back: StepView = serde_json::from_str(&serde_json::to_string(&ran).unwrap()).unwrap();
        assert_eq!(back, ran);
    }
}

//! What the pipeline pages show, as plain serialisable types: a project's
//! pipelines with their last run per branch, its linked repository with the
//! hook to paste into the git host, the dry-run form and its answer, and the
//! webhook deliveries with what each decided.

use kiln_core::engine::RunState;
use serde::{Deserialize, Serialize};

use crate::accounts::data::{Crumb, NodeView};

/// The linked repository, as maintainers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryView {
    /// Any password in it replaced by `***`.
    pub url: String,
    pub provider: String,
    pub default_branch: String,
    pub hook_url: String,
    pub hook_secret: String,
    pub has_status_token: bool,
    pub api_url: Option<String>,
}

/// A pipeline's last run on one branch (or tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchStatusRow {
    pub pipeline: String,
    /// `main`, or `tag v1.2`.
    pub reference: String,
    pub run_id: i64,
    pub state: RunState,
    pub sha: String,
    pub event: String,
    pub created_at: String,
}

/// What the dry-run form asks, as typed (all text, for putting back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunQuery {
    pub event: String,
    pub branch: String,
    pub tag: String,
    /// One path a line; empty: git is asked (`before`..`after`).
    pub paths: String,
    pub before: String,
    pub after: String,
}

impl DryRunQuery {
    /// Whether the form was sent (the page then shows the answer).
    pub fn is_asked(&self) -> bool {
        !self.event.trim().is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepVerdictView {
    pub name: String,
    pub start: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineVerdictView {
    pub file: String,
    pub name: String,
    pub start: bool,
    pub reason: Option<String>,
    pub rule: Option<String>,
    pub errors: Vec<String>,
    pub steps: Vec<StepVerdictView>,
}

/// The dry run's answer, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunView {
    pub error: Option<String>,
    pub commit: String,
    /// The first changed files; `None` where paths are not evaluated.
    pub changed: Option<Vec<String>>,
    pub changed_count: usize,
    pub compared_with: Option<String>,
    pub pipelines: Vec<PipelineVerdictView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelinesPage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    pub statuses: Vec<BranchStatusRow>,
    /// Shown to maintainers only (it carries the hook secret).
    pub repository: Option<RepositoryView>,
    /// Whether the viewer may link the repository and see deliveries.
    pub can_edit_settings: bool,
    /// Whether the viewer may start a pipeline by hand.
    pub can_run: bool,
    /// Pipelines that have run here, to suggest in the run form.
    pub known: Vec<String>,
    pub query: DryRunQuery,
    pub dry_run: Option<DryRunView>,
}

/// One pipeline's decision in a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub name: String,
    pub start: bool,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub run: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub delivery: String,
    pub provider: String,
    pub event: String,
    pub outcome: String,
    pub received_at: String,
    pub decisions: Vec<DecisionView>,
    pub runs: Vec<i64>,
    /// The delivery this one replays, and who replayed it.
    pub replay_of: Option<String>,
    pub replayed_by: Option<String>,
    /// Whether its event was kept (older deliveries cannot be replayed).
    pub replayable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveriesPage {
    pub project: NodeView,
    pub crumbs: Vec<Crumb>,
    pub rows: Vec<DeliveryRow>,
}

//! `kiln_runs`: one execution of a graph of steps, what started it, with
//! which params, and how it ended.

use kiln_core::engine::{RunKind, RunState, RunTrigger};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub workflow_id: Option<i64>,
    pub version_id: Option<i64>,
    /// The definition it executed (immutable; outlives its workflow).
    pub definition_id: Option<i64>,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    /// JSON object: param name → value as text.
    #[sea_orm(column_type = "Text")]
    pub params: String,
    pub state: RunState,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    /// A pipeline run's pipeline name; `None` for workflow runs.
    pub pipeline: Option<String>,
    /// A pipeline run's commit, JSON (see `engine::start::CommitInfo`).
    #[sea_orm(column_type = "Text", nullable)]
    pub commit_info: Option<String>,
    /// A pipeline run's concurrency group: runs of one group in one
    /// project do not overlap.
    pub concurrency_group: Option<String>,
    /// Who let a run of a pull request from a fork have the project's
    /// secrets, and when (`None` until then).
    pub approved_by: Option<i64>,
    pub approved_at_ms: Option<i64>,
    /// A pipeline run's steps its event's `when:` left out, with why:
    /// JSON `[[step, reason], …]`.
    #[sea_orm(column_type = "Text", nullable)]
    pub left_out: Option<String>,
    /// Since when the run waits for its concurrency group; `None` while it
    /// may run (the group's other runs go first until then).
    pub waiting_since_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `kiln_commit_statuses`: the commit status a pipeline run owes its git
//! host (the run state to report, the last one the host accepted) and the
//! schedule of its tries.

use kiln_core::engine::RunState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_commit_statuses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: i64,
    /// The run state to report.
    pub state: RunState,
    /// The last state the host accepted.
    pub reported: Option<RunState>,
    /// Failed tries of `state` so far.
    pub attempts: i32,
    pub next_at_ms: i64,
    /// Held by the server sending it until then.
    pub lease_until_ms: Option<i64>,
    /// Why the last try failed, or why nothing is sent.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `kiln_steps`: one task of one run: its state, current attempt, lease
//! while a worker holds it, and outputs once it succeeded.

use kiln_core::engine::StepState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub task: String,
    pub position: i32,
    pub state: StepState,
    pub attempt: i32,
    pub retries_left: i32,
    pub queue: String,
    pub queued_at_ms: i64,
    pub dispatched_at_ms: Option<i64>,
    pub not_before_ms: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub exit_code: Option<i32>,
    pub worker: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub message: String,
    /// JSON object of the task's outputs.
    #[sea_orm(column_type = "Text", nullable)]
    pub outputs: Option<String>,
    /// A pipeline step's saved artifacts, JSON (`engine::artifacts::Stored`).
    #[sea_orm(column_type = "Text", nullable)]
    pub artifacts: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::run::Entity",
        from = "Column::RunId",
        to = "super::run::Column::Id"
    )]
    Run,
}

/// A worker reads a step and its run in one query when it claims it.
impl Related<super::run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Run.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

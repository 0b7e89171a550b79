//! `kiln_run_events`: one change of a run's or a step's state, appended in
//! the transaction that made it; `step_id` is absent for the run's own.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_run_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub step_id: Option<i64>,
    pub task: Option<String>,
    pub attempt: Option<i32>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `kiln_workflow_versions`: every saved text of a workflow, never changed;
//! a run points at the version it ran.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_workflow_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workflow_id: i64,
    pub version: i32,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

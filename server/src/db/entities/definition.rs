//! `kiln_definitions`: the source of a graph some run executed, stored once
//! per kind and content hash, never changed or deleted.

use kiln_core::engine::RunKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_definitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What it is the source of: a workflow, or a pipeline envelope.
    pub kind: RunKind,
    /// SHA-256 of the source, hex.
    pub hash: String,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

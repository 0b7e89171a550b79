//! `kiln_deliveries`: webhook deliveries a project received (signed ones
//! only), one per host delivery id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub provider: String,
    pub delivery_id: String,
    pub event: String,
    /// JSON object of the headers, signatures and tokens left out.
    #[sea_orm(column_type = "Text")]
    pub headers: String,
    #[sea_orm(column_type = "Text")]
    pub outcome: String,
    /// JSON list: per pipeline, whether it starts and why not.
    #[sea_orm(column_type = "Text")]
    pub decisions: String,
    /// JSON list of run ids.
    #[sea_orm(column_type = "Text")]
    pub runs: String,
    pub received_at_ms: i64,
    /// JSON of the event as read (`HookEvent`), for Replay; `None` for
    /// deliveries recorded before it was kept.
    #[sea_orm(column_type = "Text", nullable)]
    pub event_json: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

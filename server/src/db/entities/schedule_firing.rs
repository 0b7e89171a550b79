//! `kiln_schedule_firings`: what became of one instant of a schedule (or
//! of a "run now"): fired, skipped while the previous run ran, replaced
//! it, missed, or failed to start; unique per (schedule, instant).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_schedule_firings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub schedule_id: i64,
    pub instant_ms: i64,
    pub fired_at_ms: i64,
    pub lateness_ms: i64,
    /// A `FiringOutcome` name.
    pub outcome: String,
    pub run_id: Option<i64>,
    /// Started by "run now", not by the clock.
    pub manual: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! The record of a step's saved artifacts on its row (`kiln_steps.artifacts`).

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::step;

/// Writes what attempt `attempt` of step `step_id` saved (JSON); nothing
/// when the step has moved on to another attempt meanwhile.
pub async fn record(
    db: &impl ConnectionTrait,
    step_id: i64,
    attempt: i32,
    stored: &str,
) -> Result<(), DbErr> {
    step::Entity::update_many()
        .col_expr(step::Column::Artifacts, Expr::value(stored))
        .filter(step::Column::Id.eq(step_id))
        .filter(step::Column::Attempt.eq(attempt))
        .exec(db)
        .await
        .map(drop)
}

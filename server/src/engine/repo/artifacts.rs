//! The record of a step's saved artifacts on its row (`kiln_steps.artifacts`),
//! and the steps of a run that saved some.

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

/// The steps of run `run_id` that recorded saved artifacts.
pub async fn saved_in_run(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::Artifacts.is_not_null())
        .all(db)
        .await
}

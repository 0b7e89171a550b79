//! A step's short log in its row (`kiln_steps.short_log`): the whole log of
//! its current attempt when that attempt ended having printed little. The
//! column is no field of `step::Model`, so reading steps never carries it;
//! it is written with the step's end (`finish`), read on its own, and moved
//! out before the row goes on to another attempt (a re-run).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::moves::StepUpdate;
use crate::db::entities::step;

fn column() -> impl IntoIden {
    Alias::new("short_log")
}

/// `update` also keeps `log` as the step's short log.
pub fn keep(update: StepUpdate, log: &[u8]) -> StepUpdate {
    update.col_expr(column(), Expr::value(log.to_vec()))
}

/// `update` also drops the step's short log.
pub fn drop(update: StepUpdate) -> StepUpdate {
    update.col_expr(column(), Expr::value(Option::<Vec<u8>>::None))
}

/// The short log of attempt `attempt` of step `step_id`, if its row keeps it.
pub async fn of_attempt(
    db: &impl ConnectionTrait,
    step_id: i64,
    attempt: i32,
) -> Result<Option<Vec<u8>>, DbErr> {
    let found: Option<Option<Vec<u8>>> = step::Entity::find()
        .select_only()
        .column_as(Expr::col(column()), "short_log")
        .filter(step::Column::Id.eq(step_id))
        .filter(step::Column::Attempt.eq(attempt))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.flatten())
}

/// The steps among `ids` that keep a short log: id, attempt and log.
pub async fn of_steps(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<(i64, i32, Vec<u8>)>, DbErr> {
    step::Entity::find()
        .select_only()
        .column(step::Column::Id)
        .column(step::Column::Attempt)
        .column_as(Expr::col(column()), "short_log")
        .filter(step::Column::Id.is_in(ids))
        .filter(Expr::col(column()).is_not_null())
        .into_tuple()
        .all(db)
        .await
}

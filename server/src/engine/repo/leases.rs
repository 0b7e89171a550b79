//! Leases of running steps and the jobs of waiting ones: stamping steps
//! dispatched, renewing a lease (the heartbeat), finding expired ones (the
//! sweeper), finding dispatched steps whose job may have gone missing and
//! taking them again, and what is running among given steps (leftover
//! files).

use std::collections::HashSet;

use kiln_core::engine::StepState;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::db::entities::step;

/// Extends attempt `attempt` of step `step_id` to `until_ms` if it is still
/// running; false when it is not (cancelled, or declared lost).
pub async fn renew(
    db: &impl ConnectionTrait,
    step_id: i64,
    attempt: i32,
    until_ms: i64,
) -> Result<bool, DbErr> {
    let renewed = step::Entity::update_many()
        .col_expr(step::Column::LeaseUntilMs, Expr::value(until_ms))
        .filter(step::Column::Id.eq(step_id))
        .filter(step::Column::Attempt.eq(attempt))
        .filter(step::Column::State.eq(StepState::Running))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected > 0)
}

/// Running steps whose lease ran out before `now_ms`, at most `limit`.
pub async fn expired(
    db: &impl ConnectionTrait,
    now_ms: i64,
    limit: u64,
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::State.eq(StepState::Running))
        .filter(step::Column::LeaseUntilMs.lt(now_ms))
        .limit(limit)
        .all(db)
        .await
}

/// Queued steps dispatched before `stale_ms` (and not waiting for a later
/// retry): their job may be lost. At most `limit`.
pub async fn dispatched_before(
    db: &impl ConnectionTrait,
    stale_ms: i64,
    limit: u64,
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::State.eq(StepState::Queued))
        .filter(step::Column::DispatchedAtMs.lt(stale_ms))
        .filter(
            step::Column::NotBeforeMs
                .is_null()
                .or(step::Column::NotBeforeMs.lt(stale_ms)),
        )
        .limit(limit)
        .all(db)
        .await
}

/// Stamps `row` dispatched again at `now_ms` if nobody changed it since it
/// was read; true when this call took it.
pub async fn redispatch(
    db: &impl ConnectionTrait,
    row: &step::Model,
    now_ms: i64,
) -> Result<bool, DbErr> {
    let taken = step::Entity::update_many()
        .col_expr(step::Column::DispatchedAtMs, Expr::value(now_ms))
        .col_expr(step::Column::NotBeforeMs, Expr::value(Option::<i64>::None))
        .filter(step::Column::Id.eq(row.id))
        .filter(step::Column::Attempt.eq(row.attempt))
        .filter(step::Column::State.eq(StepState::Queued))
        .filter(step::Column::DispatchedAtMs.eq(row.dispatched_at_ms))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Marks `ids` dispatched at `now_ms` (each only if it was not yet) and
/// returns the ids this call took. Under the run lock all are taken;
/// should another writer have taken some, only ours are returned (read
/// back by their stamp), so no step is pushed twice.
pub async fn stamp_dispatched(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
    now_ms: i64,
) -> Result<Vec<i64>, DbErr> {
    let taken = step::Entity::update_many()
        .col_expr(step::Column::DispatchedAtMs, Expr::value(now_ms))
        .filter(step::Column::Id.is_in(ids.iter().copied()))
        .filter(step::Column::DispatchedAtMs.is_null())
        .exec(db)
        .await?;
    if taken.rows_affected == ids.len() as u64 {
        return Ok(ids);
    }
    tracing::warn!(
        wanted = ids.len(),
        taken = taken.rows_affected,
        "some steps were dispatched by another writer"
    );
    step::Entity::find()
        .select_only()
        .column(step::Column::Id)
        .filter(step::Column::Id.is_in(ids))
        .filter(step::Column::DispatchedAtMs.eq(now_ms))
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// Steps waiting in a queue for a worker.
pub async fn queue_depth(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    step::Entity::find()
        .filter(step::Column::State.eq(StepState::Queued))
        .filter(step::Column::DispatchedAtMs.is_not_null())
        .count(db)
        .await
}

/// Which of the steps `ids` run now, as (step, attempt).
pub async fn running_among(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashSet<(i64, i32)>, DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(step::Entity::find()
        .select_only()
        .column(step::Column::Id)
        .column(step::Column::Attempt)
        .filter(step::Column::Id.is_in(ids))
        .filter(step::Column::State.eq(StepState::Running))
        .into_tuple::<(i64, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

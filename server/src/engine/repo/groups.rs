//! Concurrency groups' SQL: the lock that makes a project's group
//! decisions one at a time, the running runs of a group with since when
//! each waits (if it does), the groups that have running runs, and
//! marking a run as waiting or not.

use kiln_core::engine::RunState;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use sea_orm::sea_query::Expr;

use crate::db::entities::{repository, run};

/// Holds project `project`'s repository row until the transaction ends:
/// two runs of one group created at once (PostgreSQL and MySQL do not see
/// each other's uncommitted rows) then decide one after the other, and
/// their ids follow that order. SQLite writes one at a time anyway.
pub async fn hold(db: &impl ConnectionTrait, project: i64) -> Result<(), DbErr> {
    repository::Entity::update_many()
        .col_expr(
            repository::Column::UpdatedAtMs,
            Expr::col(repository::Column::UpdatedAtMs),
        )
        .filter(repository::Column::ProjectId.eq(project))
        .exec(db)
        .await?;
    Ok(())
}

/// Project `project`'s running runs in `group`, oldest first: (id, since
/// when it waits for its turn, `None` when it runs).
pub async fn running_in(
    db: &impl ConnectionTrait,
    project: i64,
    group: &str,
) -> Result<Vec<(i64, Option<i64>)>, DbErr> {
    run::Entity::find()
        .select_only()
        .column(run::Column::Id)
        .column(run::Column::WaitingSinceMs)
        .filter(run::Column::ProjectId.eq(project))
        .filter(run::Column::ConcurrencyGroup.eq(group))
        .filter(run::Column::State.eq(RunState::Running))
        .order_by_asc(run::Column::Id)
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await
}

/// Every (project, group) with a running run.
pub async fn busy(db: &impl ConnectionTrait) -> Result<Vec<(i64, String)>, DbErr> {
    run::Entity::find()
        .select_only()
        .column(run::Column::ProjectId)
        .column(run::Column::ConcurrencyGroup)
        .filter(run::Column::ConcurrencyGroup.is_not_null())
        .filter(run::Column::State.eq(RunState::Running))
        .distinct()
        .into_tuple::<(i64, String)>()
        .all(db)
        .await
}

/// Marks run `run_id` as waiting for its group since `since`, or (with
/// `None`) as free to run.
pub async fn set_waiting(
    db: &impl ConnectionTrait,
    run_id: i64,
    since: Option<i64>,
) -> Result<(), DbErr> {
    run::Entity::update_many()
        .col_expr(run::Column::WaitingSinceMs, Expr::value(since))
        .filter(run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

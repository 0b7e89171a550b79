//! The run-events table: appended by [`super::moves`] in the transaction of
//! each change, read back by run (a page catching up) or for all runs
//! after a cursor (the one reader that feeds live streams).

use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::entities::run_event;

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub run_id: i64,
    pub step_id: Option<i64>,
    pub task: Option<String>,
    pub attempt: Option<i32>,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub at_ms: i64,
}

/// Appends `events` in order, a few hundred rows per statement.
pub async fn append(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> Result<(), DbErr> {
    let rows: Vec<run_event::ActiveModel> = events
        .into_iter()
        .map(|e| run_event::ActiveModel {
            run_id: Set(e.run_id),
            step_id: Set(e.step_id),
            task: Set(e.task),
            attempt: Set(e.attempt),
            from_state: Set(e.from.map(str::to_owned)),
            to_state: Set(e.to.to_owned()),
            at_ms: Set(e.at_ms),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(super::BATCH) {
        run_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Run `run_id`'s events after `after`, oldest first, at most `limit`.
pub async fn of_run(
    db: &impl ConnectionTrait,
    run_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<run_event::Model>, DbErr> {
    run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .filter(run_event::Column::Id.gt(after))
        .order_by_asc(run_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every run's events after `after`, oldest first, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<run_event::Model>, DbErr> {
    run_event::Entity::find()
        .filter(run_event::Column::Id.gt(after))
        .order_by_asc(run_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The newest event's id, of run `run` or of all (0 when there is none):
/// where a reader starts, or where a page rendered now follows its run from.
pub async fn last_id(db: &impl ConnectionTrait, run: Option<i64>) -> Result<i64, DbErr> {
    let mut query = run_event::Entity::find()
        .select_only()
        .column(run_event::Column::Id);
    if let Some(run) = run {
        query = query.filter(run_event::Column::RunId.eq(run));
    }
    Ok(query
        .order_by_desc(run_event::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

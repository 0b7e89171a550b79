//! All SQL for schedules and their firings: rows in and out, the due scan,
//! the lease on a pass being prepared, the claim of a pass (moving
//! `next_at_ms` on, guarded by its old value, so of several servers exactly
//! one handles an instant), firing rows and the schedule's last run.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::db::entities::{schedule, schedule_firing as firing};

pub async fn insert(
    db: &impl ConnectionTrait,
    row: schedule::ActiveModel,
) -> Result<schedule::Model, DbErr> {
    row.insert(db).await
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<schedule::Model>, DbErr> {
    schedule::Entity::find_by_id(id).one(db).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    project: i64,
    name: &str,
) -> Result<Option<schedule::Model>, DbErr> {
    schedule::Entity::find()
        .filter(schedule::Column::ProjectId.eq(project))
        .filter(schedule::Column::Name.eq(name))
        .one(db)
        .await
}

/// A project's schedules by name.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project: i64,
) -> Result<Vec<schedule::Model>, DbErr> {
    schedule::Entity::find()
        .filter(schedule::Column::ProjectId.eq(project))
        .order_by_asc(schedule::Column::Name)
        .all(db)
        .await
}

/// Schedules in id order after `after`, at most `limit`.
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<schedule::Model>, DbErr> {
    let mut query = schedule::Entity::find().order_by_asc(schedule::Column::Id);
    if let Some(after) = after {
        query = query.filter(schedule::Column::Id.gt(after));
    }
    query.limit(limit).all(db).await
}

pub async fn save(
    db: &impl ConnectionTrait,
    row: schedule::ActiveModel,
) -> Result<schedule::Model, DbErr> {
    row.update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    firing::Entity::delete_many()
        .filter(firing::Column::ScheduleId.eq(id))
        .exec(db)
        .await?;
    schedule::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Unpaused schedules with an instant due at `now`, the longest due first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: i64,
    limit: u64,
) -> Result<Vec<schedule::Model>, DbErr> {
    schedule::Entity::find()
        .filter(schedule::Column::Paused.eq(false))
        .filter(schedule::Column::NextAtMs.lte(now))
        .order_by_asc(schedule::Column::NextAtMs)
        .limit(limit)
        .all(db)
        .await
}

/// The earliest instant any unpaused schedule waits for.
pub async fn earliest(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let found: Option<Option<i64>> = schedule::Entity::find()
        .select_only()
        .column_as(schedule::Column::NextAtMs.min(), "earliest")
        .filter(schedule::Column::Paused.eq(false))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.flatten())
}

/// Unpaused schedules (the `kiln_schedules_active` gauge).
pub async fn active_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    schedule::Entity::find()
        .filter(schedule::Column::Paused.eq(false))
        .filter(schedule::Column::NextAtMs.is_not_null())
        .count(db)
        .await
}

/// Takes the lease on schedule `id`'s pass from `from` for `by` until
/// `until`: only while that pass is still due and nobody else holds an
/// unexpired lease. False when someone else is preparing it.
pub async fn take_lease(
    db: &impl ConnectionTrait,
    id: i64,
    from: i64,
    by: &str,
    now: i64,
    until: i64,
) -> Result<bool, DbErr> {
    let updated = schedule::Entity::update_many()
        .col_expr(schedule::Column::LeaseBy, Expr::value(by))
        .col_expr(schedule::Column::LeaseUntilMs, Expr::value(until))
        .filter(schedule::Column::Id.eq(id))
        .filter(schedule::Column::NextAtMs.eq(from))
        .filter(schedule::Column::Paused.eq(false))
        .filter(
            Condition::any()
                .add(schedule::Column::LeaseUntilMs.is_null())
                .add(schedule::Column::LeaseUntilMs.lt(now))
                .add(schedule::Column::LeaseBy.eq(by)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Takes the pass starting at instant `from` of schedule `id` by moving
/// its next instant to `to` (which ends any lease on it): false when
/// another server took it first (or the schedule was paused or edited
/// meanwhile).
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    from: i64,
    to: Option<i64>,
    now: i64,
) -> Result<bool, DbErr> {
    let updated = schedule::Entity::update_many()
        .col_expr(schedule::Column::NextAtMs, Expr::value(to))
        .col_expr(schedule::Column::UpdatedAtMs, Expr::value(now))
        .col_expr(
            schedule::Column::LeaseBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            schedule::Column::LeaseUntilMs,
            Expr::value(Option::<i64>::None),
        )
        .filter(schedule::Column::Id.eq(id))
        .filter(schedule::Column::NextAtMs.eq(from))
        .filter(schedule::Column::Paused.eq(false))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// One firing as recorded.
#[derive(Debug, Clone)]
pub struct NewFiring {
    pub schedule_id: i64,
    pub instant_ms: i64,
    pub fired_at_ms: i64,
    pub outcome: &'static str,
    pub run_id: Option<i64>,
    pub manual: bool,
    pub error: Option<String>,
}

/// Records a firing; the unique (schedule, instant) key refuses a second
/// record of the same instant (the caller's transaction then fails whole).
pub async fn record(db: &impl ConnectionTrait, new: NewFiring) -> Result<(), DbErr> {
    firing::Entity::insert(firing::ActiveModel {
        schedule_id: Set(new.schedule_id),
        instant_ms: Set(new.instant_ms),
        fired_at_ms: Set(new.fired_at_ms),
        lateness_ms: Set((new.fired_at_ms - new.instant_ms).max(0)),
        outcome: Set(new.outcome.to_owned()),
        run_id: Set(new.run_id),
        manual: Set(new.manual),
        error: Set(new.error),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Which of `instants` of the schedule's clock are recorded already (an
/// edit racing a pass may set its next instant back onto one).
pub async fn recorded_among(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    instants: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if instants.is_empty() {
        return Ok(Vec::new());
    }
    firing::Entity::find()
        .select_only()
        .column(firing::Column::InstantMs)
        .filter(firing::Column::ScheduleId.eq(schedule_id))
        .filter(firing::Column::Manual.eq(false))
        .filter(firing::Column::InstantMs.is_in(instants.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}

/// The run of the schedule's latest firing that started one.
pub async fn last_run(db: &impl ConnectionTrait, schedule_id: i64) -> Result<Option<i64>, DbErr> {
    let found: Option<Option<i64>> = firing::Entity::find()
        .select_only()
        .column(firing::Column::RunId)
        .filter(firing::Column::ScheduleId.eq(schedule_id))
        .filter(firing::Column::RunId.is_not_null())
        .order_by_desc(firing::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.flatten())
}

/// The schedule's firings, newest first, before firing `before`.
pub async fn firings(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<firing::Model>, DbErr> {
    let mut query = firing::Entity::find()
        .filter(firing::Column::ScheduleId.eq(schedule_id))
        .order_by_desc(firing::Column::Id);
    if let Some(before) = before {
        query = query.filter(firing::Column::Id.lt(before));
    }
    query.limit(limit).all(db).await
}

/// The latest firing of each of `schedules` (for lists: the last outcome).
pub async fn latest_of(
    db: &impl ConnectionTrait,
    schedules: &[i64],
) -> Result<Vec<firing::Model>, DbErr> {
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let newest: Vec<Option<i64>> = firing::Entity::find()
        .select_only()
        .column_as(firing::Column::Id.max(), "id")
        .filter(firing::Column::ScheduleId.is_in(schedules.iter().copied()))
        .group_by(firing::Column::ScheduleId)
        .into_tuple()
        .all(db)
        .await?;
    firing::Entity::find()
        .filter(firing::Column::Id.is_in(newest.into_iter().flatten()))
        .all(db)
        .await
}

/// Moves the schedule's next instant without a claim (resume, edit).
pub async fn set_next(
    db: &impl ConnectionTrait,
    id: i64,
    next: Option<i64>,
    paused: bool,
    now: i64,
) -> Result<(), DbErr> {
    schedule::Entity::update_many()
        .col_expr(schedule::Column::NextAtMs, Expr::value(next))
        .col_expr(schedule::Column::Paused, Expr::value(paused))
        .col_expr(schedule::Column::UpdatedAtMs, Expr::value(now))
        .filter(schedule::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Schedules whose firings number more than `keep` + `slack`.
pub async fn crowded(db: &impl ConnectionTrait, keep: u64, slack: u64) -> Result<Vec<i64>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let limit = i64::try_from(keep + slack).unwrap_or(i64::MAX);
    firing::Entity::find()
        .select_only()
        .column(firing::Column::ScheduleId)
        .group_by(firing::Column::ScheduleId)
        .having(firing::Column::Id.count().gt(limit))
        .into_tuple()
        .all(db)
        .await
}

/// Deletes all but the newest `keep` firings of the schedule.
pub async fn prune(db: &impl ConnectionTrait, schedule_id: i64, keep: u64) -> Result<u64, DbErr> {
    let boundary: Option<i64> = firing::Entity::find()
        .select_only()
        .column(firing::Column::Id)
        .filter(firing::Column::ScheduleId.eq(schedule_id))
        .order_by_desc(firing::Column::Id)
        .offset(keep)
        .into_tuple()
        .one(db)
        .await?;
    let Some(boundary) = boundary else {
        return Ok(0);
    };
    let deleted = firing::Entity::delete_many()
        .filter(firing::Column::ScheduleId.eq(schedule_id))
        .filter(firing::Column::Id.lte(boundary))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// How many schedules the project has.
/// Serializes schedule creation in `project` until the transaction ends:
/// a write to the project's row (which changes nothing) takes its row lock
/// on PostgreSQL and MySQL, and SQLite's one write lock.
pub async fn lock_project(db: &impl ConnectionTrait, project: i64) -> Result<(), DbErr> {
    use crate::db::entities::node;
    node::Entity::update_many()
        .col_expr(node::Column::Id, Expr::col(node::Column::Id))
        .filter(node::Column::Id.eq(project))
        .exec(db)
        .await
        .map(drop)
}

pub async fn count_of_project(db: &impl ConnectionTrait, project: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    schedule::Entity::find()
        .filter(schedule::Column::ProjectId.eq(project))
        .count(db)
        .await
}

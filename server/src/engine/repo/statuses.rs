//! The commit statuses pipeline runs owe their git hosts, written in the
//! same transaction as the run change they report (so a status is never
//! lost to a crash between the two), and taken by whichever server sends
//! them: one row per run holding the newest state to report, so a status
//! superseded before it was sent is simply never sent.

use kiln_core::engine::{RunKind, RunState};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::db::entities::commit_status;

/// The run kind that reports commit statuses.
pub const REPORTING_KIND: RunKind = RunKind::Pipeline;

/// Run `run_id` is now in `state`: report it (again) from now on.
pub async fn want(
    db: &impl ConnectionTrait,
    run_id: i64,
    state: RunState,
    now: i64,
) -> Result<(), DbErr> {
    let row = commit_status::ActiveModel {
        run_id: Set(run_id),
        state: Set(state),
        reported: Set(None),
        attempts: Set(0),
        next_at_ms: Set(now),
        lease_until_ms: Set(None),
        error: Set(None),
        updated_at_ms: Set(now),
    };
    commit_status::Entity::insert(row)
        .on_conflict(
            OnConflict::column(commit_status::Column::RunId)
                .update_columns([
                    commit_status::Column::State,
                    commit_status::Column::Attempts,
                    commit_status::Column::NextAtMs,
                    commit_status::Column::Error,
                    commit_status::Column::UpdatedAtMs,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Statuses due at `now` that nobody holds, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: i64,
    limit: u64,
) -> Result<Vec<commit_status::Model>, DbErr> {
    commit_status::Entity::find()
        .filter(commit_status::Column::NextAtMs.lte(now))
        .filter(free(now))
        .filter(
            Condition::any()
                .add(commit_status::Column::Reported.is_null())
                .add(
                    Expr::col(commit_status::Column::Reported)
                        .not_equals(commit_status::Column::State),
                ),
        )
        .order_by_asc(commit_status::Column::NextAtMs)
        .limit(limit)
        .all(db)
        .await
}

fn free(now: i64) -> Condition {
    Condition::any()
        .add(commit_status::Column::LeaseUntilMs.is_null())
        .add(commit_status::Column::LeaseUntilMs.lt(now))
}

/// Takes `row` for this server until `until`, if it is still as read
/// (same state, nobody else holding it).
pub async fn take(
    db: &impl ConnectionTrait,
    row: &commit_status::Model,
    now: i64,
    until: i64,
) -> Result<bool, DbErr> {
    let result = commit_status::Entity::update_many()
        .col_expr(commit_status::Column::LeaseUntilMs, Expr::value(until))
        .filter(commit_status::Column::RunId.eq(row.run_id))
        .filter(commit_status::Column::State.eq(row.state))
        .filter(commit_status::Column::UpdatedAtMs.eq(row.updated_at_ms))
        .filter(free(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Never tried again: scheduled beyond any real time.
pub const NEVER_MS: i64 = i64::MAX / 2;

/// How a try of a status ended.
pub enum Outcome {
    /// The host took it.
    Accepted,
    /// It will never be sent (no token, no way to address the host).
    Dropped { reason: String },
    /// Try again at `next_at_ms` ([`NEVER_MS`]: given up).
    Failed { error: String, next_at_ms: i64 },
}

/// Records a try of `row`. A state that changed meanwhile keeps its own
/// schedule; only the lease is given back.
pub async fn record(
    db: &impl ConnectionTrait,
    row: &commit_status::Model,
    outcome: Outcome,
) -> Result<(), DbErr> {
    let update = commit_status::Entity::update_many()
        .col_expr(
            commit_status::Column::LeaseUntilMs,
            Expr::value(Option::<i64>::None),
        )
        .filter(commit_status::Column::RunId.eq(row.run_id));
    let same = Condition::all()
        .add(commit_status::Column::State.eq(row.state))
        .add(commit_status::Column::UpdatedAtMs.eq(row.updated_at_ms));
    let update = match outcome {
        Outcome::Accepted => update
            .col_expr(commit_status::Column::Reported, Expr::value(row.state))
            .col_expr(
                commit_status::Column::Error,
                Expr::value(Option::<String>::None),
            )
            .filter(same.clone()),
        Outcome::Dropped { reason } => update
            .col_expr(commit_status::Column::NextAtMs, Expr::value(NEVER_MS))
            .col_expr(commit_status::Column::Error, Expr::value(reason))
            .filter(same.clone()),
        Outcome::Failed { error, next_at_ms } => update
            .col_expr(
                commit_status::Column::Attempts,
                Expr::value(row.attempts + 1),
            )
            .col_expr(commit_status::Column::NextAtMs, Expr::value(next_at_ms))
            .col_expr(commit_status::Column::Error, Expr::value(error))
            .filter(same.clone()),
    };
    if update.exec(db).await?.rows_affected == 0 {
        // Superseded while it was being sent: free it for the new state.
        commit_status::Entity::update_many()
            .col_expr(
                commit_status::Column::LeaseUntilMs,
                Expr::value(Option::<i64>::None),
            )
            .filter(commit_status::Column::RunId.eq(row.run_id))
            .filter(commit_status::Column::LeaseUntilMs.is_not_null())
            .filter(same.not())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Run `run_id`'s status, if it reports one.
pub async fn of_run(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Option<commit_status::Model>, DbErr> {
    commit_status::Entity::find_by_id(run_id).one(db).await
}

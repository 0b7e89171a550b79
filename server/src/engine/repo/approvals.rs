//! Recording a maintainer's approval of a run: once, whoever asks first.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::run;

/// Marks run `run_id` approved by `user` at `now`; false when it already
/// was (or does not exist).
pub async fn approve(
    db: &impl ConnectionTrait,
    run_id: i64,
    user: i64,
    now: i64,
) -> Result<bool, DbErr> {
    let updated = run::Entity::update_many()
        .col_expr(run::Column::ApprovedBy, Expr::value(user))
        .col_expr(run::Column::ApprovedAtMs, Expr::value(now))
        .col_expr(run::Column::UpdatedAtMs, Expr::value(now))
        .filter(run::Column::Id.eq(run_id))
        .filter(run::Column::ApprovedBy.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

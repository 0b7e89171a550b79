//! Since when a run waits for its concurrency group
//! (`kiln_runs.waiting_since_ms`, null while it may run). Before this column
//! a waiting run was one that had dispatched nothing yet, which a re-run
//! (whose earlier attempt did dispatch) could not express; the runs waiting
//! that way when this migration runs are marked as waiting since they were
//! created, so they keep their turn.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("kiln_runs", "waiting_since_ms").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .add_column(big_integer_null(Runs::WaitingSinceMs))
                        .to_owned(),
                )
                .await?;
        }
        // Always (MySQL does not undo the column when what follows fails,
        // and a retry must still mark them): a run marked waiting that in
        // fact may run only gets started at the group's next turn.
        let dispatched = Query::select()
            .expr(Expr::val(1))
            .from(Steps::Table)
            .and_where(Expr::col((Steps::Table, Steps::RunId)).equals((Runs::Table, Runs::Id)))
            .and_where(Expr::col((Steps::Table, Steps::DispatchedAtMs)).is_not_null())
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Runs::Table)
                    .value(Runs::WaitingSinceMs, Expr::col(Runs::CreatedAtMs))
                    .and_where(Expr::col(Runs::State).eq("running"))
                    .and_where(Expr::col(Runs::ConcurrencyGroup).is_not_null())
                    .and_where(Expr::col(Runs::WaitingSinceMs).is_null())
                    .and_where(Expr::exists(dispatched).not())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Runs::Table)
                    .drop_column(Runs::WaitingSinceMs)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
    State,
    ConcurrencyGroup,
    CreatedAtMs,
    WaitingSinceMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Steps {
    #[sea_orm(iden = "kiln_steps")]
    Table,
    RunId,
    DispatchedAtMs,
}

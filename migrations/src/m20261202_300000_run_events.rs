//! `kiln_run_events`: every change of a run's or a step's state, appended in
//! the transaction that makes it (run, step, from, to, when). The run page
//! and log viewer follow a run through it over server-sent events; the id
//! is the stream's cursor. A run's own changes have no step.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RunEvents::Id))
                    .col(big_integer(RunEvents::RunId))
                    .col(big_integer_null(RunEvents::StepId))
                    .col(string_len_null(RunEvents::Task, 64))
                    .col(integer_null(RunEvents::Attempt))
                    .col(string_len_null(RunEvents::FromState, 16))
                    .col(string_len(RunEvents::ToState, 16))
                    .col(big_integer(RunEvents::AtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_run_events_run")
                            .from(RunEvents::Table, RunEvents::RunId)
                            .to(Runs::Table, Runs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_run_events_run")
                    .table(RunEvents::Table)
                    .col(RunEvents::RunId)
                    .col(RunEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RunEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RunEvents {
    #[sea_orm(iden = "kiln_run_events")]
    Table,
    Id,
    RunId,
    StepId,
    Task,
    Attempt,
    FromState,
    ToState,
    AtMs,
}

#[derive(DeriveIden)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
}

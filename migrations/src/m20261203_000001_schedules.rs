//! Schedules and their firings. A schedule row holds its expression, zone,
//! what it starts and its policies, and `next_at_ms`: the first instant
//! not yet handled, which a server claims by moving it on (guarded by its
//! old value). Each handled instant is a firing row, unique per
//! (schedule, instant) among the clock's firings (a "run now" is recorded
//! apart): whatever the number of servers, an instant is recorded once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .if_not_exists()
                    .col(big_integer(Schedules::Id).auto_increment().primary_key())
                    .col(big_integer(Schedules::ProjectId))
                    .col(string_len(Schedules::Name, 100))
                    .col(string_len(Schedules::Cron, 256))
                    .col(string_len(Schedules::Timezone, 64))
                    .col(string_len(Schedules::Target, 16))
                    .col(string_len_null(Schedules::Workflow, 100))
                    .col(text(Schedules::Params))
                    .col(string_len_null(Schedules::Pipeline, 100))
                    .col(string_len_null(Schedules::Branch, 255))
                    .col(string_len(Schedules::Concurrency, 16))
                    .col(string_len(Schedules::Catchup, 16))
                    .col(big_integer_null(Schedules::StartingDeadlineMs))
                    .col(boolean(Schedules::Paused))
                    .col(big_integer_null(Schedules::NextAtMs))
                    .col(big_integer_null(Schedules::CreatedBy))
                    .col(big_integer(Schedules::CreatedAtMs))
                    .col(big_integer(Schedules::UpdatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_schedules_project")
                            .from(Schedules::Table, Schedules::ProjectId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_schedules_name")
                    .table(Schedules::Table)
                    .col(Schedules::ProjectId)
                    .col(Schedules::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_schedules_due")
                    .table(Schedules::Table)
                    .col(Schedules::Paused)
                    .col(Schedules::NextAtMs)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Firings::Table)
                    .if_not_exists()
                    .col(big_integer(Firings::Id).auto_increment().primary_key())
                    .col(big_integer(Firings::ScheduleId))
                    .col(big_integer(Firings::InstantMs))
                    .col(big_integer(Firings::FiredAtMs))
                    .col(big_integer(Firings::LatenessMs))
                    .col(string_len(Firings::Outcome, 24))
                    .col(big_integer_null(Firings::RunId))
                    .col(boolean(Firings::Manual))
                    .col(text_null(Firings::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_schedule_firings_schedule")
                            .from(Firings::Table, Firings::ScheduleId)
                            .to(Schedules::Table, Schedules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_schedule_firings_run")
                            .from(Firings::Table, Firings::RunId)
                            .to(Runs::Table, Runs::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_schedule_firings_instant")
                    .table(Firings::Table)
                    .col(Firings::ScheduleId)
                    .col(Firings::InstantMs)
                    .col(Firings::Manual)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Firings::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Schedules::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Schedules {
    #[sea_orm(iden = "kiln_schedules")]
    Table,
    Id,
    ProjectId,
    Name,
    Cron,
    Timezone,
    Target,
    Workflow,
    Params,
    Pipeline,
    Branch,
    Concurrency,
    Catchup,
    StartingDeadlineMs,
    Paused,
    NextAtMs,
    CreatedBy,
    CreatedAtMs,
    UpdatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Firings {
    #[sea_orm(iden = "kiln_schedule_firings")]
    Table,
    Id,
    ScheduleId,
    InstantMs,
    FiredAtMs,
    LatenessMs,
    Outcome,
    RunId,
    Manual,
    Error,
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
}

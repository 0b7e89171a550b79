//! Runs by state: the sweeper's "which concurrency groups have a running
//! run" and, later, the running runs across projects, without reading every
//! run ever made; and a project's runs filtered by state, newest first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_runs_state")
                    .table(Runs::Table)
                    .col(Runs::State)
                    .col(Runs::ConcurrencyGroup)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_runs_project_state")
                    .table(Runs::Table)
                    .col(Runs::ProjectId)
                    .col(Runs::State)
                    .col(Runs::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_kiln_runs_state", "idx_kiln_runs_project_state"] {
            manager
                .drop_index(Index::drop().name(name).table(Runs::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
    ProjectId,
    State,
    ConcurrencyGroup,
}

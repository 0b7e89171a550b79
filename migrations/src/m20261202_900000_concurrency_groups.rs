//! A pipeline run's concurrency group (its `concurrency.group` with the
//! commit's branch, tag and event filled in): runs of one group in one
//! project do not overlap. Indexed for "the running runs of this group".

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("kiln_runs", "concurrency_group").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .add_column(string_len_null(Runs::ConcurrencyGroup, 255))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_runs_concurrency_group")
                    .table(Runs::Table)
                    .col(Runs::ProjectId)
                    .col(Runs::ConcurrencyGroup)
                    .col(Runs::State)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_kiln_runs_concurrency_group")
                    .table(Runs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Runs::Table)
                    .drop_column(Runs::ConcurrencyGroup)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    ProjectId,
    ConcurrencyGroup,
    State,
}

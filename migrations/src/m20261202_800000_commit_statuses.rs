//! Commit statuses owed to git hosts: one row per pipeline run with the run
//! state to report, the last state the host accepted, and the retry
//! schedule (attempts, next try, a lease so one server sends at a time, the
//! last error). And the repository link's optional `api_url`, where its
//! host's API lives when not at the usual address.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Statuses::Table)
                    .if_not_exists()
                    .col(big_integer(Statuses::RunId).primary_key())
                    .col(string_len(Statuses::State, 16))
                    .col(string_len_null(Statuses::Reported, 16))
                    .col(integer(Statuses::Attempts))
                    .col(big_integer(Statuses::NextAtMs))
                    .col(big_integer_null(Statuses::LeaseUntilMs))
                    .col(text_null(Statuses::Error))
                    .col(big_integer(Statuses::UpdatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_commit_statuses_run")
                            .from(Statuses::Table, Statuses::RunId)
                            .to(Runs::Table, Runs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_commit_statuses_next")
                    .table(Statuses::Table)
                    .col(Statuses::NextAtMs)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        if !manager.has_column("kiln_repositories", "api_url").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Repositories::Table)
                        .add_column(string_len_null(Repositories::ApiUrl, 2048))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Repositories::Table)
                    .drop_column(Repositories::ApiUrl)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Statuses::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Statuses {
    #[sea_orm(iden = "kiln_commit_statuses")]
    Table,
    RunId,
    State,
    Reported,
    Attempts,
    NextAtMs,
    LeaseUntilMs,
    Error,
    UpdatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Repositories {
    #[sea_orm(iden = "kiln_repositories")]
    Table,
    ApiUrl,
}

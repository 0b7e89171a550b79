//! Runs of pipelines: the pipeline's name and the commit it ran on (JSON:
//! sha, ref, branch, tag, event, pr_number, message, author); both empty
//! for workflow runs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time. Re-runnable.
        if !manager.has_column("kiln_runs", "pipeline").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .add_column(string_len_null(Runs::Pipeline, 255))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("kiln_runs", "commit_info").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .add_column(text_null(Runs::CommitInfo))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Runs::Pipeline, Runs::CommitInfo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Pipeline,
    CommitInfo,
}

//! A short step log kept in its step's row (`kiln_steps.short_log`): the
//! whole log of a finished attempt that printed little, written with the
//! step's end instead of as a file of its own (see `engine::logs`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("kiln_steps", "short_log").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Steps::Table)
                    .add_column(blob_null(Steps::ShortLog))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Steps::Table)
                    .drop_column(Steps::ShortLog)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Steps {
    #[sea_orm(iden = "kiln_steps")]
    Table,
    ShortLog,
}

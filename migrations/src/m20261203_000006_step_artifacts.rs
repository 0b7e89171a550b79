//! A pipeline step's saved artifacts (which attempt, where they are stored,
//! how many files and bytes), as JSON; `None` when it saved none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("kiln_steps", "artifacts").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Steps::Table)
                        .add_column(text_null(Steps::Artifacts))
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
                    .table(Steps::Table)
                    .drop_column(Steps::Artifacts)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Steps {
    #[sea_orm(iden = "kiln_steps")]
    Table,
    Artifacts,
}

//! Who approved a run of a pull request from a fork, and when: until then
//! its steps get none of the project's secrets.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, name) in [
            (Runs::ApprovedBy, "approved_by"),
            (Runs::ApprovedAtMs, "approved_at_ms"),
        ] {
            if !manager.has_column("kiln_runs", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Runs::Table)
                            .add_column(big_integer_null(column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Runs::ApprovedBy, Runs::ApprovedAtMs] {
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
    ApprovedBy,
    ApprovedAtMs,
}

//! A lease on a schedule's due pass (`lease_by`, `lease_until_ms`): the
//! server that holds it prepares the pass's runs (for a pipeline, a git
//! fetch and a read of the commit) while the others wait, instead of every
//! server preparing them and all but one throwing them away at the claim.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement (SQLite); a half-run migration (SQLite
        // and MySQL run them outside a transaction) may be run again.
        if !manager.has_column("kiln_schedules", "lease_by").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Schedules::Table)
                        .add_column(string_len_null(Schedules::LeaseBy, 128))
                        .to_owned(),
                )
                .await?;
        }
        if !manager
            .has_column("kiln_schedules", "lease_until_ms")
            .await?
        {
            manager
                .alter_table(
                    Table::alter()
                        .table(Schedules::Table)
                        .add_column(big_integer_null(Schedules::LeaseUntilMs))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Schedules::LeaseBy, Schedules::LeaseUntilMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Schedules::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Schedules {
    #[sea_orm(iden = "kiln_schedules")]
    Table,
    LeaseBy,
    LeaseUntilMs,
}

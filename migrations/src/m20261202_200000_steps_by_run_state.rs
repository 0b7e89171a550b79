//! An index of steps by run and state: after each step ends, the engine asks
//! whether its run has anything left queued or running. Without it that
//! question read every step of the run, so a 1,000-task fan-out cost a
//! million row visits.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_kiln_steps_run_state";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Steps::Table)
                    .col(Steps::RunId)
                    .col(Steps::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Steps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Steps {
    #[sea_orm(iden = "kiln_steps")]
    Table,
    RunId,
    State,
}

//! Webhook deliveries: every signed delivery a project received, keyed by
//! the host's delivery id (a redelivery finds the first), with its event,
//! headers (signatures left out), outcome, per-pipeline decisions and the
//! runs it started.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Deliveries::Id))
                    .col(big_integer(Deliveries::ProjectId))
                    .col(string_len(Deliveries::Provider, 16))
                    .col(string_len(Deliveries::DeliveryId, 128))
                    .col(string_len(Deliveries::Event, 64))
                    .col(text(Deliveries::Headers))
                    .col(text(Deliveries::Outcome))
                    .col(text(Deliveries::Decisions))
                    .col(text(Deliveries::Runs))
                    .col(big_integer(Deliveries::ReceivedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_deliveries_project")
                            .from(Deliveries::Table, Deliveries::ProjectId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_deliveries_project_delivery")
                    .table(Deliveries::Table)
                    .col(Deliveries::ProjectId)
                    .col(Deliveries::DeliveryId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Deliveries::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    #[sea_orm(iden = "kiln_deliveries")]
    Table,
    Id,
    ProjectId,
    Provider,
    DeliveryId,
    Event,
    Headers,
    Outcome,
    Decisions,
    Runs,
    ReceivedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
}

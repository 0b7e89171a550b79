//! Worker labels granted to groups: a task may ask for `runs_on: [label]`
//! only in a project inside a group the label is granted to, so no project
//! can send its steps to another team's deploy machines.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Grants::Id))
                    .col(string_len(Grants::Label, 64))
                    .col(big_integer(Grants::NodeId))
                    .col(big_integer(Grants::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_worker_label_grants_node")
                            .from(Grants::Table, Grants::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_worker_label_grants_label_node")
                    .table(Grants::Table)
                    .col(Grants::Label)
                    .col(Grants::NodeId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Grants::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Grants {
    #[sea_orm(iden = "kiln_worker_label_grants")]
    Table,
    Id,
    Label,
    NodeId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
}

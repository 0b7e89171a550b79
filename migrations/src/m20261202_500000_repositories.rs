//! A project's linked git repository: where Kiln fetches from, which host
//! sends its webhooks, the default branch, and the hook secret and the
//! optional commit-status token, both sealed with the instance key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Repositories::Table)
                    .if_not_exists()
                    .col(big_integer(Repositories::ProjectId).primary_key())
                    .col(text(Repositories::Url))
                    .col(string_len(Repositories::Provider, 16))
                    .col(string_len(Repositories::DefaultBranch, 255))
                    .col(text(Repositories::HookSecret))
                    .col(text_null(Repositories::StatusToken))
                    .col(big_integer(Repositories::UpdatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_repositories_project")
                            .from(Repositories::Table, Repositories::ProjectId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Repositories::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Repositories {
    #[sea_orm(iden = "kiln_repositories")]
    Table,
    ProjectId,
    Url,
    Provider,
    DefaultBranch,
    HookSecret,
    StatusToken,
    UpdatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
}

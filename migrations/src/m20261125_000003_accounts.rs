//! Accounts and the project tree: users, groups and projects (one `kiln_nodes`
//! table so a full path names exactly one thing), role grants, and API tokens.
//! Times are Unix seconds (`bigint`), the same on all three backends.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Username, 40))
                    // Lower-cased: uniqueness is case-insensitive on every backend.
                    .col(string_len_uniq(Users::UsernameKey, 40))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(boolean(Users::IsAdmin).default(false))
                    // Bumped when the password changes: sessions made before
                    // carry the old value and stop working.
                    .col(big_integer(Users::AuthEpoch).default(0))
                    .col(big_integer(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Nodes::Id))
                    .col(string_len(Nodes::Kind, 16))
                    .col(big_integer_null(Nodes::ParentId))
                    .col(string_len(Nodes::Slug, 64))
                    .col(string_len(Nodes::Name, 100))
                    .col(string_len(Nodes::Description, 2000).default(""))
                    .col(string_len(Nodes::Visibility, 16))
                    // Ancestors' slugs and its own, joined by `/`; resolving a
                    // path and finding ancestors are single indexed lookups.
                    .col(string_len_uniq(Nodes::FullPath, 512))
                    .col(big_integer(Nodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_nodes_parent")
                            .from(Nodes::Table, Nodes::ParentId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_nodes_parent")
                    .table(Nodes::Table)
                    .col(Nodes::ParentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Memberships::Id))
                    .col(big_integer(Memberships::NodeId))
                    .col(big_integer(Memberships::UserId))
                    .col(string_len(Memberships::Role, 16))
                    .col(big_integer(Memberships::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_memberships_node")
                            .from(Memberships::Table, Memberships::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_memberships_user")
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_kiln_memberships_node_user")
                    .table(Memberships::Table)
                    .col(Memberships::NodeId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string_len(ApiTokens::Name, 100))
                    // SHA-256 of the secret, hex: the secret is random enough
                    // that a slow hash would only slow every API call.
                    .col(string_len_uniq(ApiTokens::SecretHash, 64))
                    .col(string_len(ApiTokens::Hint, 16))
                    .col(string_len(ApiTokens::Scope, 16))
                    .col(integer_null(ApiTokens::QuotaPerMinute))
                    .col(big_integer_null(ApiTokens::ExpiresAt))
                    .col(big_integer_null(ApiTokens::LastUsedAt))
                    .col(big_integer_null(ApiTokens::RevokedAt))
                    .col(big_integer(ApiTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_api_tokens_user")
                            .from(ApiTokens::Table, ApiTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_api_tokens_user")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiTokens::Table.into_iden(),
            Memberships::Table.into_iden(),
            Nodes::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    #[sea_orm(iden = "kiln_users")]
    Table,
    Id,
    Username,
    UsernameKey,
    PasswordHash,
    IsAdmin,
    AuthEpoch,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
    Kind,
    ParentId,
    Slug,
    Name,
    Description,
    Visibility,
    FullPath,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    #[sea_orm(iden = "kiln_memberships")]
    Table,
    Id,
    NodeId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    #[sea_orm(iden = "kiln_api_tokens")]
    Table,
    Id,
    UserId,
    Name,
    SecretHash,
    Hint,
    Scope,
    QuotaPerMinute,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedAt,
}

//! The job queue's tables on MySQL/MariaDB. apalis ships its own tables for
//! SQLite and PostgreSQL, but has no MySQL backend for apalis 1.0, so Kiln
//! runs its own (server/src/jobs/mysql) on these two tables. Other backends
//! skip this migration.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::MySql {
            return Ok(());
        }
        manager
            .create_table(
                Table::create()
                    .table(Workers::Table)
                    .if_not_exists()
                    .col(string_len(Workers::Id, 191).primary_key())
                    .col(string_len(Workers::WorkerType, 191))
                    .col(string_len(Workers::StorageName, 64))
                    .col(text_null(Workers::Layers))
                    .col(big_integer(Workers::LastSeen))
                    .col(big_integer_null(Workers::StartedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(string_len(Jobs::Id, 32).primary_key())
                    .col(blob(Jobs::Job))
                    .col(string_len(Jobs::JobType, 191))
                    .col(string_len(Jobs::Status, 16).default("Pending"))
                    .col(integer(Jobs::Attempts).default(0))
                    .col(integer(Jobs::MaxAttempts).default(25))
                    .col(big_integer(Jobs::RunAt))
                    .col(text_null(Jobs::LastResult))
                    .col(big_integer_null(Jobs::LockAt))
                    .col(string_len_null(Jobs::LockBy, 191))
                    .col(big_integer_null(Jobs::DoneAt))
                    .col(integer(Jobs::Priority).default(0))
                    .col(text_null(Jobs::Metadata))
                    .col(string_len_null(Jobs::IdempotencyKey, 191))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_kiln_jobs_fetch",
                vec![Jobs::JobType, Jobs::Status, Jobs::RunAt],
            ),
            ("idx_kiln_jobs_lock_by", vec![Jobs::LockBy]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Jobs::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_kiln_jobs_idempotency")
                    .table(Jobs::Table)
                    .col(Jobs::JobType)
                    .col(Jobs::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::MySql {
            return Ok(());
        }
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Workers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Jobs {
    #[sea_orm(iden = "kiln_jobs")]
    Table,
    Id,
    Job,
    JobType,
    Status,
    Attempts,
    MaxAttempts,
    RunAt,
    LastResult,
    LockAt,
    LockBy,
    DoneAt,
    Priority,
    Metadata,
    IdempotencyKey,
}

#[derive(DeriveIden)]
enum Workers {
    #[sea_orm(iden = "kiln_workers")]
    Table,
    Id,
    WorkerType,
    StorageName,
    Layers,
    LastSeen,
    StartedAt,
}

//! The engine's tables: workflows (one row per project and name) with their
//! immutable versions, runs, the step runs of each run, and secrets per
//! group or project. Engine times are Unix milliseconds (`*_ms`, bigint):
//! step durations and queue waits are measured in milliseconds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workflows::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Workflows::Id))
                    .col(big_integer(Workflows::ProjectId))
                    .col(string_len(Workflows::Name, 64))
                    .col(integer(Workflows::LatestVersion))
                    .col(big_integer(Workflows::CreatedAtMs))
                    .col(big_integer(Workflows::UpdatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_workflows_project")
                            .from(Workflows::Table, Workflows::ProjectId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "idx_kiln_workflows_name",
            Workflows::Table,
            [Workflows::ProjectId, Workflows::Name],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowVersions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(WorkflowVersions::Id))
                    .col(big_integer(WorkflowVersions::WorkflowId))
                    .col(integer(WorkflowVersions::Version))
                    .col(text(WorkflowVersions::Source))
                    .col(big_integer_null(WorkflowVersions::CreatedBy))
                    .col(big_integer(WorkflowVersions::CreatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_workflow_versions_workflow")
                            .from(WorkflowVersions::Table, WorkflowVersions::WorkflowId)
                            .to(Workflows::Table, Workflows::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "idx_kiln_workflow_versions_number",
            WorkflowVersions::Table,
            [WorkflowVersions::WorkflowId, WorkflowVersions::Version],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Runs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Runs::Id))
                    .col(big_integer(Runs::ProjectId))
                    .col(big_integer_null(Runs::WorkflowId))
                    .col(big_integer_null(Runs::VersionId))
                    // workflow | pipeline
                    .col(string_len(Runs::Kind, 16))
                    // manual | api | schedule | webhook
                    .col(string_len(Runs::Trigger, 16))
                    .col(text(Runs::Params))
                    .col(string_len(Runs::State, 16))
                    .col(big_integer_null(Runs::CreatedBy))
                    .col(big_integer(Runs::CreatedAtMs))
                    .col(big_integer_null(Runs::FinishedAtMs))
                    // Touched by every change of the run's steps: the row
                    // lock that serialises decisions about one run.
                    .col(big_integer(Runs::UpdatedAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_runs_project")
                            .from(Runs::Table, Runs::ProjectId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_kiln_runs_project",
            Runs::Table,
            [Runs::ProjectId, Runs::Id],
        )
        .await?;
        index(
            manager,
            "idx_kiln_runs_workflow",
            Runs::Table,
            [Runs::WorkflowId, Runs::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Steps::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Steps::Id))
                    .col(big_integer(Steps::RunId))
                    .col(string_len(Steps::Task, 64))
                    .col(integer(Steps::Position))
                    .col(string_len(Steps::State, 16))
                    // Counts every try, across retries and re-runs.
                    .col(integer(Steps::Attempt))
                    .col(integer(Steps::RetriesLeft))
                    .col(string_len(Steps::Queue, 200))
                    .col(big_integer(Steps::QueuedAtMs))
                    // Set when its job was pushed; NULL while it waits for
                    // upstream steps.
                    .col(big_integer_null(Steps::DispatchedAtMs))
                    .col(big_integer_null(Steps::NotBeforeMs))
                    .col(big_integer_null(Steps::StartedAtMs))
                    .col(big_integer_null(Steps::FinishedAtMs))
                    .col(integer_null(Steps::ExitCode))
                    .col(string_len_null(Steps::Worker, 100))
                    .col(big_integer_null(Steps::LeaseUntilMs))
                    .col(string_len(Steps::Message, 1000).default(""))
                    .col(text_null(Steps::Outputs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_steps_run")
                            .from(Steps::Table, Steps::RunId)
                            .to(Runs::Table, Runs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "idx_kiln_steps_task",
            Steps::Table,
            [Steps::RunId, Steps::Task],
        )
        .await?;
        index(
            manager,
            "idx_kiln_steps_state",
            Steps::Table,
            [Steps::State, Steps::LeaseUntilMs],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Secrets::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Secrets::Id))
                    .col(big_integer(Secrets::NodeId))
                    .col(string_len(Secrets::Name, 64))
                    // base64 of nonce + ciphertext (XChaCha20-Poly1305).
                    .col(text(Secrets::Sealed))
                    .col(big_integer(Secrets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kiln_secrets_node")
                            .from(Secrets::Table, Secrets::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "idx_kiln_secrets_name",
            Secrets::Table,
            [Secrets::NodeId, Secrets::Name],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Secrets::Table.into_iden(),
            Steps::Table.into_iden(),
            Runs::Table.into_iden(),
            WorkflowVersions::Table.into_iden(),
            Workflows::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [T; N],
) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
{
    create_index(manager, name, table, cols, false).await
}

async fn unique<T, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [T; N],
) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
{
    create_index(manager, name, table, cols, true).await
}

async fn create_index<T, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [T; N],
    unique: bool,
) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    #[sea_orm(iden = "kiln_nodes")]
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Workflows {
    #[sea_orm(iden = "kiln_workflows")]
    Table,
    Id,
    ProjectId,
    Name,
    LatestVersion,
    CreatedAtMs,
    UpdatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowVersions {
    #[sea_orm(iden = "kiln_workflow_versions")]
    Table,
    Id,
    WorkflowId,
    Version,
    Source,
    CreatedBy,
    CreatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    Id,
    ProjectId,
    WorkflowId,
    VersionId,
    Kind,
    Trigger,
    Params,
    State,
    CreatedBy,
    CreatedAtMs,
    FinishedAtMs,
    UpdatedAtMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Steps {
    #[sea_orm(iden = "kiln_steps")]
    Table,
    Id,
    RunId,
    Task,
    Position,
    State,
    Attempt,
    RetriesLeft,
    Queue,
    QueuedAtMs,
    DispatchedAtMs,
    NotBeforeMs,
    StartedAtMs,
    FinishedAtMs,
    ExitCode,
    Worker,
    LeaseUntilMs,
    Message,
    Outputs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Secrets {
    #[sea_orm(iden = "kiln_secrets")]
    Table,
    Id,
    NodeId,
    Name,
    Sealed,
    UpdatedAt,
}

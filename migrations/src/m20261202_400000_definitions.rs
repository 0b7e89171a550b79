//! `kiln_definitions`: the graph a run executed, stored once per content
//! (kind, SHA-256 of the source) and never changed or deleted with its
//! workflow, so a run stays readable and can be re-run after its workflow
//! is gone. Runs point at theirs (`definition_id`); runs made before are
//! pointed at a definition of their workflow version's source here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Definitions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Definitions::Id))
                    // workflow | pipeline
                    .col(string_len(Definitions::Kind, 16))
                    .col(string_len(Definitions::Hash, 64))
                    .col(text(Definitions::Source))
                    .col(big_integer(Definitions::CreatedAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_kiln_definitions_content")
                    .table(Definitions::Table)
                    .col(Definitions::Kind)
                    .col(Definitions::Hash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Only SQLite and MySQL run a migration outside a transaction; one
        // that stopped half-way may be run again.
        if !manager.has_column("kiln_runs", "definition_id").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Runs::Table)
                        .add_column(big_integer_null(Runs::DefinitionId))
                        .to_owned(),
                )
                .await?;
        }
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Runs::Table)
                    .drop_column(Runs::DefinitionId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Definitions::Table).to_owned())
            .await
    }
}

/// The key a definition is stored under: its source's SHA-256, in hex.
pub fn content_hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One definition per distinct version source that has runs not pointed
/// at one yet, and those runs pointed at it (by workflow and version, so
/// the runs' workflow index finds them).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let pending = Query::select()
        .column(Runs::VersionId)
        .from(Runs::Table)
        .and_where(Expr::col(Runs::DefinitionId).is_null())
        .and_where(Expr::col(Runs::VersionId).is_not_null())
        .group_by_col(Runs::VersionId)
        .to_owned();
    for run in db.query_all(&pending).await? {
        let version_id: i64 = run.try_get("", "version_id")?;
        let version = Query::select()
            .columns([
                Versions::WorkflowId,
                Versions::Source,
                Versions::CreatedAtMs,
            ])
            .from(Versions::Table)
            .and_where(Expr::col(Versions::Id).eq(version_id))
            .to_owned();
        let Some(row) = db.query_one(&version).await? else {
            continue;
        };
        let workflow: i64 = row.try_get("", "workflow_id")?;
        let source: String = row.try_get("", "source")?;
        let created: i64 = row.try_get("", "created_at_ms")?;
        let definition = stored(db, &source, created).await?;
        let point = Query::update()
            .table(Runs::Table)
            .value(Runs::DefinitionId, definition)
            .and_where(Expr::col(Runs::WorkflowId).eq(workflow))
            .and_where(Expr::col(Runs::VersionId).eq(version_id))
            .to_owned();
        db.execute(&point).await?;
    }
    Ok(())
}

/// The id of the workflow definition with `source`, stored now if new.
async fn stored(db: &impl ConnectionTrait, source: &str, created: i64) -> Result<i64, DbErr> {
    let hash = content_hash(source);
    let existing = Query::select()
        .column(Definitions::Id)
        .from(Definitions::Table)
        .and_where(Expr::col(Definitions::Kind).eq("workflow"))
        .and_where(Expr::col(Definitions::Hash).eq(hash.as_str()))
        .to_owned();
    if let Some(found) = db.query_one(&existing).await? {
        return found.try_get("", "id");
    }
    let insert = Query::insert()
        .into_table(Definitions::Table)
        .columns([
            Definitions::Kind,
            Definitions::Hash,
            Definitions::Source,
            Definitions::CreatedAtMs,
        ])
        .values([
            "workflow".into(),
            hash.clone().into(),
            source.into(),
            created.into(),
        ])
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    db.execute(&insert).await?;
    match db.query_one(&existing).await? {
        Some(found) => found.try_get("", "id"),
        None => Err(DbErr::Migration("a definition just written is gone".into())),
    }
}

#[derive(DeriveIden)]
enum Definitions {
    #[sea_orm(iden = "kiln_definitions")]
    Table,
    Id,
    Kind,
    Hash,
    Source,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Runs {
    #[sea_orm(iden = "kiln_runs")]
    Table,
    DefinitionId,
    VersionId,
    WorkflowId,
}

#[derive(DeriveIden)]
enum Versions {
    #[sea_orm(iden = "kiln_workflow_versions")]
    Table,
    Id,
    WorkflowId,
    Source,
    CreatedAtMs,
}

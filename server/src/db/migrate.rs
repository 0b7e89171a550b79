//! `kiln migrate` and the migration `serve` runs on start: thin wrappers over
//! the `kiln-migrations` crate.

use kiln_migrations::{Migrator, MigratorTrait};
use sea_orm::DbErr;

use super::Database;

/// One migration and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

pub async fn up(db: &Database) -> Result<(), DbErr> {
    Migrator::up(&db.conn, None).await
}

pub async fn down(db: &Database, steps: u32) -> Result<(), DbErr> {
    Migrator::down(&db.conn, Some(steps)).await
}

pub async fn status(db: &Database) -> Result<Vec<MigrationState>, DbErr> {
    let applied: std::collections::HashSet<String> = Migrator::get_applied_migrations(&db.conn)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    Ok(Migrator::migrations()
        .iter()
        .map(|m| MigrationState {
            name: m.name().to_owned(),
            applied: applied.contains(m.name()),
        })
        .collect())
}

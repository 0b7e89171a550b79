//! What pipelines keep beside their rows, each a nullable JSON text column:
//! a delivery's event as read (`kiln_deliveries.event_json`, for Replay), a
//! step's saved artifacts (`kiln_steps.artifacts`: attempt, storage key,
//! files, bytes) and the steps a run's `when:` left out with why
//! (`kiln_runs.left_out`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column) of each new column.
const COLUMNS: [(&str, &str); 3] = [
    ("kiln_deliveries", "event_json"),
    ("kiln_steps", "artifacts"),
    ("kiln_runs", "left_out"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            if !manager.has_column(table, column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .add_column(text_null(Alias::new(column)))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

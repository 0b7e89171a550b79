//! For tests of the database edge: a real SQLite file with Kiln's pool
//! settings (busy handler, write gate) and a schema of the test's own.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiln_core::DatabaseUrl;
use sea_orm::ConnectionTrait;

use super::connect::{Database, PoolSettings};

/// `t.db` in `dir`, a pool of `max_connections`, with `schema` run on it.
pub async fn sqlite_file(dir: &tempfile::TempDir, max_connections: u32, schema: &str) -> Database {
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let url = DatabaseUrl::parse(&url).unwrap();
    let settings = PoolSettings {
        max_connections,
        connect_timeout: Duration::from_secs(2),
    };
    let db = Database::connect(&url, settings).await.unwrap();
    db.conn.execute_unprepared(schema).await.unwrap();
    db
}

//! SQLite's checkpoints, off the writers' path. By default the connection
//! whose commit takes the write-ahead log past 1,000 pages copies the log
//! into the database and syncs both files before its commit returns.
//! During a fan-out of no-op steps that was about ten checkpoints a second
//! (each step writes some thirty pages), each holding up one step by 1 to
//! 11 ms of `fsync` on this machine's disk: a third of a second in every
//! three of a two-slot worker pool.
//!
//! So a connection checkpoints by itself only when the log is far longer
//! (a backstop, should this loop stall), and this loop checkpoints every
//! second without waiting for anyone (`PASSIVE`: it copies what no reader
//! still needs; writers carry on meanwhile). Several Kiln processes on one
//! database each run it; a checkpoint already under way makes another
//! return at once.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Log pages past which a committing connection checkpoints itself
/// (about 80 MB of 4 KiB pages; SQLite's default is 1,000).
pub const BACKSTOP_PAGES: u32 = 20_000;

/// What the log file is cut back to when a checkpoint empties it.
pub const LOG_KEPT_BYTES: u64 = 64 * 1024 * 1024;

/// How often the loop checkpoints.
const EVERY: Duration = Duration::from_secs(1);

/// Checkpoints `db` every second until `shutdown` (SQLite only).
pub async fn run(db: DatabaseConnection, shutdown: CancellationToken) {
    if db.get_database_backend() != DatabaseBackend::Sqlite || !in_wal_mode(&db).await {
        return;
    }
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(error) = db
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            tracing::debug!(%error, "checkpoint skipped");
        }
    }
}

/// Whether the database keeps a write-ahead log (not `:memory:`).
async fn in_wal_mode(db: &DatabaseConnection) -> bool {
    let asked = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await;
    matches!(
        asked.map(|row| row.map(|row| row.try_get_by_index::<String>(0))),
        Ok(Some(Ok(mode))) if mode.eq_ignore_ascii_case("wal")
    )
}

#[cfg(test)]
mod tests {
    use kiln_core::DatabaseUrl;

    use super::*;
    use crate::db::connect::{Database, PoolSettings};

    /// Commits leave the log alone below the backstop; the loop copies it
    /// into the database within a second or two.
    #[tokio::test]
    async fn the_loop_checkpoints_and_commits_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
        let settings = PoolSettings {
            max_connections: 2,
            connect_timeout: Duration::from_secs(5),
        };
        let db = Database::connect(&url, settings).await.unwrap();
        db.conn
            .execute_unprepared("CREATE TABLE t (b BLOB NOT NULL)")
            .await
            .unwrap();
        // About 2,000 pages, twice SQLite's own threshold.
        for _ in 0..80 {
            db.conn
                .execute_unprepared("INSERT INTO t (b) VALUES (zeroblob(100000))")
                .await
                .unwrap();
        }
        let size = || std::fs::metadata(&file).unwrap().len();
        assert!(
            size() < 1_000_000,
            "a commit checkpointed: {} bytes",
            size()
        );
        let shutdown = CancellationToken::new();
        let looping = tokio::spawn(run(db.conn.clone(), shutdown.clone()));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while size() < 8_000_000 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shutdown.cancel();
        looping.await.unwrap();
        assert!(size() >= 8_000_000, "not checkpointed: {} bytes", size());
    }
}

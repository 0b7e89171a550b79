//! Query planner statistics for apalis' `Jobs` table on SQLite. Without
//! any, SQLite planned apalis' lock and ack statements (`id IN (json list)`
//! with a status test; `id = … AND lock_by = ?`) as scans of every pending
//! job, or of every job this worker ever took, instead of lookups by the
//! unique id: each step paid for the size of the queue and its history (a
//! fan-out of 1,000 steps re-read the waiting ones at every lock).
//!
//! SQLite lets an application write the statistics its planner reads
//! (`sqlite_stat1`). These describe a large queue, in which the id picks
//! one row and a status or a worker picks thousands, whatever the table
//! holds today, so no real `ANALYZE` of a small or empty table can steer
//! it back to scans. A connection reads them when it opens; the ones
//! already open when they are written (at start, idle) read them again.

use sqlx::SqlitePool;

/// Rows per key prefix for each of the `Jobs` indexes, as `ANALYZE`
/// writes them for a queue of 100,000 jobs (indexes missing from this
/// version of apalis are ignored by SQLite).
const STATISTICS: &[(&str, &str)] = &[
    ("sqlite_autoindex_Jobs_1", "100000 1"),
    ("LIdx", "100000 50000"),
    ("idx_jobs_job_type_status_run_at", "100000 20000 5000 2"),
    ("idx_jobs_status_run_at", "100000 25000 2"),
    ("idx_jobs_completed_done_at", "90000 30000 2 2"),
    ("idx_jobs_running", "100 2"),
    ("idx_jobs_idempotency_key", "100000 20000 1"),
    ("idx_jobs_pending", "1000 200 200 2 1"),
    ("idx_jobs_failed", "100 20 20 2 1"),
    ("idx_jobs_claimable", "1100 400 100"),
];

/// Writes the statistics (idempotent; once per start).
pub async fn steer(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut txn = pool.begin().await?;
    // Creates `sqlite_stat1` if no ANALYZE ever ran (Workers is tiny).
    sqlx::query("ANALYZE Workers").execute(&mut *txn).await?;
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs'")
        .execute(&mut *txn)
        .await?;
    // Samples of an earlier manual ANALYZE (SQLite is built with STAT4)
    // would outweigh the numbers below.
    let stat4: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'",
    )
    .fetch_one(&mut *txn)
    .await?;
    if stat4 > 0 {
        sqlx::query("DELETE FROM sqlite_stat4 WHERE tbl = 'Jobs'")
            .execute(&mut *txn)
            .await?;
    }
    for (index, stat) in STATISTICS {
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('Jobs', ?, ?)")
            .bind(index)
            .bind(stat)
            .execute(&mut *txn)
            .await?;
    }
    txn.commit().await?;
    // Every idle connection of the pool: at start, that is all of them.
    let mut idle = Vec::new();
    while let Some(connection) = pool.try_acquire() {
        idle.push(connection);
    }
    for connection in &mut idle {
        sqlx::query("ANALYZE sqlite_schema")
            .execute(&mut **connection)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    const LOCK: &str = "EXPLAIN QUERY PLAN UPDATE Jobs SET status = 'Running', lock_by = ?2 \
        WHERE id IN (SELECT value FROM json_each(?1)) \
        AND (status = 'Queued' OR status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))";
    const ACK: &str = "EXPLAIN QUERY PLAN WITH j AS (SELECT value ->> 'task_id' AS task_id FROM json_each(?1)) \
        UPDATE Jobs SET status = 'Done' FROM j WHERE Jobs.id = j.task_id AND Jobs.lock_by = ?2";

    async fn plan(connection: &mut sqlx::SqliteConnection, sql: &'static str) -> String {
        let rows = sqlx::query(sql)
            .bind("[\"x\"]")
            .bind("w")
            .fetch_all(connection)
            .await
            .unwrap();
        let details: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
        details.join("; ")
    }

    /// A pool on `url` with apalis' tables.
    async fn migrated(url: &str, connections: u32) -> SqlitePool {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(connections)
            .connect(url)
            .await
            .expect("open the database");
        apalis_sqlite::SqliteStorage::<()>::migrations()
            .run(&pool)
            .await
            .expect("apalis' migrations");
        pool
    }

    /// An index a newer apalis adds would get SQLite's default guess,
    /// more selective than the numbers here: each one needs a row.
    #[tokio::test]
    async fn every_index_of_jobs_has_statistics() {
        let pool = migrated("sqlite::memory:", 1).await;
        let indexes: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_list('Jobs')")
            .fetch_all(&pool)
            .await
            .expect("the index list");
        assert!(!indexes.is_empty());
        for index in indexes {
            assert!(
                STATISTICS.iter().any(|(name, _)| *name == index),
                "no statistics for {index}"
            );
        }
    }

    /// apalis' lock and ack statements, planned by connections that were
    /// open before the statistics were written, and by a new one.
    #[tokio::test]
    async fn lock_and_ack_find_jobs_by_id() {
        let dir = tempfile::tempdir().expect("a directory");
        let pool = migrated(
            &format!("sqlite://{}/q.db?mode=rwc", dir.path().display()),
            3,
        )
        .await;
        let mut open = vec![pool.acquire().await.unwrap(), pool.acquire().await.unwrap()];
        for connection in &mut open {
            let before = plan(connection, LOCK).await;
            assert!(!before.contains("(id=?)"), "by id already: {before}");
        }
        drop(open);

        steer(&pool).await.unwrap();
        steer(&pool).await.unwrap();
        let mut all = Vec::new();
        for _ in 0..3 {
            all.push(pool.acquire().await.unwrap());
        }
        for connection in &mut all {
            for sql in [LOCK, ACK] {
                let plan = plan(connection, sql).await;
                assert!(
                    plan.contains("sqlite_autoindex_Jobs_1 (id=?)"),
                    "{sql}: {plan}"
                );
                assert!(
                    !plan.contains("status=?") && !plan.contains("lock_by=?"),
                    "{plan}"
                );
            }
        }
    }
}

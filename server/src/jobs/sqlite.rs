//! SQLite's queue: apalis-sqlite's tables and statements, driven through
//! `persisted_queue` so that every write takes the file's turn at Kiln's
//! write gate (`db::write_gate`) and goes to the connection's thread as
//! few times as it can. sqlx runs each SQLite connection on a thread of
//! its own, and every statement is a hand-over to it and back; apalis-
//! sqlite's own persistence wraps each write in `BEGIN` and `COMMIT`:
//! - a batch of acknowledgements was three hand-overs; here it is one
//!   statement in autocommit (one `UPDATE` over the batch, atomic on its
//!   own);
//! - a push of n jobs was n + 2; here it is one multi-row `INSERT` per
//!   thousand jobs (several are one transaction);
//! - a fetch was three (`BEGIN`, its `UPDATE … RETURNING`, `COMMIT`);
//!   here it is two: `BEGIN IMMEDIATE` and the fetch as one batch, then
//!   `COMMIT` once the rows are decoded. It keeps its transaction so that
//!   a fetch whose rows fail to decode, or that is dropped at shutdown,
//!   leaves its jobs in the queue instead of held by a worker that never
//!   got them (`db::sqlite_batch` holds the connection until then);
//! - its writes did not take turns at the gate: each met Kiln's own write
//!   transactions in SQLite's busy handler, which polls, holding its pool
//!   connection, and finds the lock free a poll late.
//!
//! Registering a worker, its heartbeats and handing jobs back at shutdown
//! keep apalis-sqlite's statements in a transaction: they are rare, and
//! their statements belong together.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis_core::backend::WorkerFilter;
use apalis_core::backend::persistence::{Persistence, TaskEvent};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use apalis_sqlite::{Config, Error, queries};
use serde_json::Value;
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use ulid::Ulid;

use super::persisted_queue::{PersistedQueue, QueueSql, acks_and_locks, log_requeued};
use super::task_row::task_from_row;
use super::wakeups::{WakeCount, fetch_after_wakeups};
use crate::db::sqlite_batch::InBatch;
use crate::db::write_gate;

/// apalis-sqlite's fetch (its `queries/backend/fetch_next.sql`, whose
/// decoding is private to it), after the `BEGIN` of its transaction:
/// `?1` the worker, `?2` the queue, `?3` the most jobs to take, `?4` now
/// (Unix seconds).
const FETCH: &str = "BEGIN IMMEDIATE; \
    UPDATE Jobs SET status = 'Queued', lock_by = ?1, lock_at = strftime('%s', 'now') \
    WHERE ROWID IN ( \
        WITH candidates AS ( \
            SELECT * FROM ( \
                SELECT ROWID, priority, run_at, id FROM Jobs \
                WHERE job_type = ?2 AND status = 'Pending' AND lock_by IS NULL \
                    AND (run_at IS NULL OR run_at <= ?4) \
                ORDER BY priority DESC, run_at ASC, id ASC LIMIT ?3 \
            ) \
            UNION ALL \
            SELECT * FROM ( \
                SELECT ROWID, priority, run_at, id FROM Jobs \
                WHERE job_type = ?2 AND status = 'Failed' AND attempts < max_attempts \
                    AND (run_at IS NULL OR run_at <= ?4) \
                ORDER BY priority DESC, run_at ASC, id ASC LIMIT ?3 \
            ) \
        ) \
        SELECT ROWID FROM candidates ORDER BY priority DESC, run_at ASC, id ASC LIMIT ?3 \
    ) RETURNING *";

/// Most jobs one push statement writes: eight values each, well under
/// SQLite's limit of 32,766 bound values per statement.
const PUSH_CHUNK: usize = 1000;

#[derive(Debug, Clone)]
pub struct SqlitePersistence {
    pool: SqlitePool,
    config: Config,
    /// The wake-ups of the worker that fetches through this.
    wakes: WakeCount,
    /// The file's write gate (none for `:memory:`).
    gate: Option<Arc<Semaphore>>,
}

/// A queue of `Args` jobs on SQLite.
pub type SqliteQueue<Args> = PersistedQueue<SqlitePersistence, Args>;

impl<Args> SqliteQueue<Args> {
    /// The queue named in `config` on `pool`.
    pub fn new(pool: &SqlitePool, config: Config) -> Self {
        Self::woken_by(pool, config, &WakeCount::default())
    }

    /// The queue of a worker whose wake-ups `wakes` counts: an empty fetch
    /// during one of them is made again (see `wakeups`).
    pub fn woken_by(pool: &SqlitePool, config: Config, wakes: &WakeCount) -> Self {
        PersistedQueue::on(SqlitePersistence {
            pool: pool.clone(),
            config,
            wakes: wakes.clone(),
            gate: write_gate::of_pool(pool),
        })
    }
}

/// A write transaction of the queue's, with its turn at the gate.
struct WriteTxn {
    txn: Transaction<'static, Sqlite>,
    _turn: Option<OwnedSemaphorePermit>,
}

impl SqlitePersistence {
    /// This file's turn to write. Not had in time, it is the busy
    /// handler's "busy, try later": apalis' worker restarts, and Kiln's
    /// pushes answer 503 or are retried.
    async fn turn(&self) -> Result<Option<OwnedSemaphorePermit>, sqlx::Error> {
        write_gate::turn_at(self.gate.clone())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)
    }

    /// A transaction holding the write lock from its `BEGIN`.
    async fn begin(&self) -> Result<WriteTxn, sqlx::Error> {
        let turn = self.turn().await?;
        let txn = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTxn { txn, _turn: turn })
    }

    /// Takes up to a batch of ready jobs for `worker`, committed only
    /// once their rows are read and decoded (see above).
    async fn fetch_once(&self, worker: &WorkerContext) -> Result<Vec<Task<Vec<u8>>>, Error> {
        let _turn = self.turn().await?;
        let mut batch = InBatch::new(self.pool.acquire().await?);
        let fetched = match batch.connection() {
            Some(connection) => fetch_and_commit(connection, &self.config, worker).await,
            None => Err(sqlx::Error::PoolClosed),
        };
        match fetched {
            Ok(tasks) => {
                batch.release();
                Ok(tasks)
            }
            Err(error) => {
                batch.undo().await;
                Err(error.into())
            }
        }
    }
}

impl QueueSql for SqlitePersistence {
    type Config = Config;

    fn config(&self) -> &Config {
        &self.config
    }

    fn queue(&self) -> &str {
        self.config.queue.as_ref()
    }

    fn heartbeat_interval(&self) -> Duration {
        self.config.heartbeat_interval
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }
}

/// The fetch's batch on `connection`, its rows decoded, then its commit.
async fn fetch_and_commit(
    connection: &mut sqlx::SqliteConnection,
    config: &Config,
    worker: &WorkerContext,
) -> Result<Vec<Task<Vec<u8>>>, sqlx::Error> {
    let rows = sqlx::query(FETCH)
        .bind(worker.name())
        .bind(config.queue.as_ref())
        .bind(i64::try_from(config.batch_size.max(1)).unwrap_or(1))
        .bind(now())
        .fetch_all(&mut *connection)
        .await?;
    let tasks = rows
        .iter()
        .map(task_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query("COMMIT").execute(&mut *connection).await?;
    Ok(tasks)
}

fn seconds(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    seconds(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// The push statement of `rows` jobs: apalis-sqlite's columns and
/// conflict rule, one row of eight values per job.
fn push_sql(rows: usize) -> String {
    let row = "(?, ?, ?, 'Pending', 0, ?, ?, ?, ?, ?)";
    let mut sql = String::from(
        "INSERT INTO Jobs (job, id, job_type, status, attempts, max_attempts, run_at, \
         priority, metadata, idempotency_key) VALUES ",
    );
    for n in 0..rows {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql.push_str(" ON CONFLICT(job_type, idempotency_key) DO NOTHING");
    sql
}

/// Writes `tasks` to `queue` in one statement on `executor`.
async fn push_chunk<'e, 'q, E>(
    executor: E,
    queue: &'q str,
    tasks: &'q [Task<Vec<u8>>],
) -> Result<(), Error>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let sql = push_sql(tasks.len());
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for task in tasks {
        let id = task
            .task_id()
            .as_ref()
            .map_or_else(|| Ulid::generate().to_string(), ToString::to_string);
        let max_attempts = task.max_attempts().unwrap_or(25);
        query = query
            .bind(&task.args)
            .bind(id)
            .bind(queue)
            .bind(i64::try_from(max_attempts).unwrap_or(i64::MAX))
            .bind(task.run_at().map_or_else(now, seconds))
            .bind(i64::try_from(task.priority().unwrap_or_default()).unwrap_or(i64::MAX))
            .bind(serde_json::to_string(task.metadata()).unwrap_or_default())
            .bind(task.idempotency_key().map(ToOwned::to_owned));
    }
    // Each size of push is a statement of its own: not worth a place in
    // the connection's statement cache.
    query.persistent(false).execute(executor).await?;
    Ok(())
}

impl Persistence for SqlitePersistence {
    type Compact = Vec<u8>;
    type Response = Value;
    type Error = Error;

    async fn register(&mut self, worker: &WorkerContext) -> Result<(), Error> {
        let mut write = self.begin().await?;
        let dead_for = seconds(self.config.heartbeat_interval.as_secs());
        let count = queries::reenqueue_orphaned(
            &mut *write.txn,
            dead_for,
            self.config.queue.as_ref(),
            &WorkerFilter::Only(worker.name().to_owned()),
        )
        .await?;
        queries::register_worker(&mut *write.txn, &self.config, worker, "SqliteStorage").await?;
        write.txn.commit().await?;
        log_requeued(count, self.queue());
        Ok(())
    }

    async fn heartbeat(&mut self, worker: &WorkerContext) -> Result<(), Error> {
        let mut write = self.begin().await?;
        queries::keep_alive(&mut *write.txn, &self.config, worker).await?;
        let count = queries::reenqueue_orphaned(
            &mut *write.txn,
            seconds(self.config.orphaned_duration().as_secs()),
            self.config.queue.as_ref(),
            &WorkerFilter::AllExcept(worker.name().to_owned()),
        )
        .await?;
        write.txn.commit().await?;
        log_requeued(count, self.queue());
        Ok(())
    }

    async fn fetch_next(&mut self, worker: &WorkerContext) -> Result<Vec<Task<Vec<u8>>>, Error> {
        let this = &*self;
        fetch_after_wakeups(&self.wakes, || this.fetch_once(worker)).await
    }

    async fn reenqueue_abandoned(
        &mut self,
        tasks: Vec<Task<Vec<u8>>>,
        worker: &WorkerContext,
    ) -> Result<u64, Error> {
        let ids: Vec<String> = tasks
            .iter()
            .filter_map(|task| task.task_id().map(ToString::to_string))
            .collect();
        let mut write = self.begin().await?;
        let count = queries::reenqueue_abandoned(
            &mut *write.txn,
            self.config.queue.as_ref(),
            worker.name(),
            &ids,
        )
        .await?;
        if usize::try_from(count).ok() != Some(tasks.len()) {
            // Rolled back: as apalis-sqlite does.
            return Err(Error::ReenqueueMismatch {
                queued: tasks.len(),
                abandoned: usize::try_from(count).unwrap_or(usize::MAX),
            });
        }
        write.txn.commit().await?;
        Ok(count)
    }

    async fn handle_events(
        &mut self,
        events: Vec<TaskEvent<Value>>,
        worker: &WorkerContext,
    ) -> Result<(), Error> {
        let (acks, locks) = acks_and_locks(&events);
        if acks.is_empty() && locks.is_empty() {
            return Ok(());
        }
        let _turn = self.turn().await?;
        let mut conn = self.pool.acquire().await?;
        if !locks.is_empty() {
            queries::lock_tasks(&mut *conn, &locks, worker.name()).await?;
        }
        if !acks.is_empty() {
            queries::ack_tasks(&mut *conn, &acks, worker.name()).await?;
        }
        Ok(())
    }

    async fn push_tasks(&mut self, tasks: Vec<Task<Vec<u8>>>) -> Result<(), Error> {
        let queue = self.queue().to_owned();
        if tasks.is_empty() {
            return Ok(());
        }
        if tasks.len() <= PUSH_CHUNK {
            let _turn = self.turn().await?;
            let mut conn = self.pool.acquire().await?;
            return push_chunk(&mut *conn, &queue, &tasks).await;
        }
        let mut write = self.begin().await?;
        for chunk in tasks.chunks(PUSH_CHUNK) {
            push_chunk(&mut *write.txn, &queue, chunk).await?;
        }
        write.txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use apalis_core::backend::persistence::Persistence;
    use apalis_core::task::builder::TaskBuilder;
    use apalis_core::worker::context::WorkerContext;

    use super::{SqlitePersistence, push_sql};
    use crate::db::{Pool, test_files, write_gate};
    use crate::jobs::storage::sqlite_config;

    #[test]
    fn a_push_statement_has_eight_values_a_job() {
        let sql = push_sql(3);
        assert_eq!(sql.matches('?').count(), 24);
        assert!(sql.ends_with("ON CONFLICT(job_type, idempotency_key) DO NOTHING"));
    }

    /// Each job's status and holder, by id.
    async fn jobs(pool: &sqlx::SqlitePool) -> Vec<(String, String, Option<String>)> {
        sqlx::query_as("SELECT id, status, lock_by FROM Jobs ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// A fetch whose rows do not decode takes nothing: its jobs stay in
    /// the queue for a fetch that can read them, and its transaction does
    /// not stay open on the pool's only connection.
    #[tokio::test]
    async fn a_fetch_that_cannot_decode_its_rows_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = test_files::sqlite_file(&dir, 1, "SELECT 1").await;
        let Pool::Sqlite(pool) = &db.pool else {
            unreachable!("a SQLite file")
        };
        apalis_sqlite::SqliteStorage::<()>::migrations()
            .run(pool)
            .await
            .unwrap();
        let mut queue = SqlitePersistence {
            pool: pool.clone(),
            config: sqlite_config("q", 4),
            wakes: Default::default(),
            gate: write_gate::of_pool(pool),
        };
        let worker = WorkerContext::new("w");
        queue.register(&worker).await.unwrap();
        let tasks = (0..2)
            .map(|n| TaskBuilder::new(format!("{n}").into_bytes()).build())
            .collect();
        queue.push_tasks(tasks).await.unwrap();
        let ids: Vec<String> = jobs(pool).await.into_iter().map(|(id, ..)| id).collect();
        sqlx::query("UPDATE Jobs SET id = 'not a ULID' WHERE id = ?")
            .bind(&ids[0])
            .execute(pool)
            .await
            .unwrap();

        assert!(queue.fetch_next(&worker).await.is_err());
        let left = jobs(pool).await;
        assert!(
            left.iter()
                .all(|(_, status, by)| status == "Pending" && by.is_none()),
            "{left:?}"
        );

        sqlx::query("UPDATE Jobs SET id = ? WHERE id = 'not a ULID'")
            .bind(&ids[0])
            .execute(pool)
            .await
            .unwrap();
        let taken = queue.fetch_next(&worker).await.unwrap();
        assert_eq!(taken.len(), 2);
        let left = jobs(pool).await;
        assert!(
            left.iter()
                .all(|(_, status, by)| status == "Queued" && by.as_deref() == Some("w")),
            "{left:?}"
        );
    }
}

//! PostgreSQL's queue: apalis-postgres' tables, its `get_jobs` function, its
//! statements (its public `queries`; the acknowledgement is Kiln's, see
//! `postgres_ack`) and its LISTEN/NOTIFY trigger, driven through
//! `persisted_queue` so that a job's acknowledgement or a push is one
//! statement in autocommit. apalis-postgres' own persistence wraps each in
//! `BEGIN` and `COMMIT`: three statements where one does, for every job's
//! acknowledgement and every push. Each is atomic on its own: an
//! acknowledgement one `UPDATE` of one job, a push one `INSERT … SELECT
//! FROM UNNEST` (a push retried after it did commit is refused by the
//! job's idempotency key).
//!
//! The fetch keeps its transaction. In autocommit, `get_jobs` would commit
//! its claim before the rows reach the worker; a fetch dropped at shutdown,
//! or whose rows fail to arrive or to decode, would leave its jobs held by
//! a worker that never got them, until that worker is declared silent (half
//! a minute). Inside a transaction it rolls back instead. So do
//! registering a worker, its heartbeats and handing jobs back at shutdown:
//! they are rare, and their statements belong together.

use std::time::Duration;

use apalis_core::backend::persistence::{Persistence, TaskEvent};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use apalis_postgres::{Config, Error, queries};
use serde_json::Value;
use sqlx::PgPool;

use super::persisted_queue::{PersistedQueue, QueueSql, acks_and_locks, log_requeued};
use super::wakeups::{WakeCount, fetch_after_wakeups};

/// What `storage_name` says of the workers this registers.
const STORAGE_NAME: &str = "KilnPgStorage";

#[derive(Debug, Clone)]
pub struct PgPersistence {
    pool: PgPool,
    config: Config,
    /// The wake-ups of the worker that fetches through this.
    wakes: WakeCount,
}

/// A queue of `Args` jobs on PostgreSQL.
pub type PgStorage<Args> = PersistedQueue<PgPersistence, Args>;

impl<Args> PgStorage<Args> {
    /// The queue named in `config` on `pool`.
    pub fn new(pool: &PgPool, config: Config) -> Self {
        Self::woken_by(pool, config, &WakeCount::default())
    }

    /// The queue of a worker whose wake-ups `wakes` counts: an empty fetch
    /// during one of them is made again (see `wakeups`).
    pub fn woken_by(pool: &PgPool, config: Config, wakes: &WakeCount) -> Self {
        PersistedQueue::on(PgPersistence {
            pool: pool.clone(),
            config,
            wakes: wakes.clone(),
        })
    }
}

impl PgPersistence {
    async fn fetch_once(&self, worker: &WorkerContext) -> Result<Vec<Task<Vec<u8>>>, Error> {
        // Committed only once the rows are read and decoded (see above).
        let mut tx = self.pool.begin().await?;
        let tasks = queries::fetch_next(&mut *tx, &self.config, worker).await?;
        tx.commit().await?;
        Ok(tasks)
    }
}

impl QueueSql for PgPersistence {
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

impl Persistence for PgPersistence {
    type Compact = Vec<u8>;
    type Response = Value;
    type Error = Error;

    async fn register(&mut self, worker: &WorkerContext) -> Result<(), Error> {
        let queue = self.queue().to_owned();
        let mut tx = self.pool.begin().await?;
        let dead_for = self.config.orphaned_duration().as_secs();
        let count = queries::reenqueue_orphaned(&mut *tx, &queue, dead_for).await?;
        // apalis-postgres' registration, whose time type it keeps private.
        let registered = sqlx::query(
            "INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen) \
             VALUES ($1, $2, $3, $4, NOW()) ON CONFLICT (id) DO UPDATE \
             SET worker_type = EXCLUDED.worker_type, storage_name = EXCLUDED.storage_name, \
                 layers = EXCLUDED.layers, last_seen = NOW() \
             WHERE pg_try_advisory_lock(hashtext(workers.id))",
        )
        .bind(worker.name())
        .bind(&queue)
        .bind(STORAGE_NAME)
        .bind(worker.get_service())
        .execute(&mut *tx)
        .await?;
        if registered.rows_affected() == 0 {
            return Err(Error::WorkerAlreadyExists(worker.name().to_owned()));
        }
        tx.commit().await?;
        log_requeued(count, &queue);
        Ok(())
    }

    async fn heartbeat(&mut self, worker: &WorkerContext) -> Result<(), Error> {
        let queue = self.queue().to_owned();
        let mut tx = self.pool.begin().await?;
        let dead_for = self.config.orphaned_duration().as_secs();
        queries::keep_alive(&mut *tx, &queue, worker).await?;
        let count = queries::reenqueue_orphaned(&mut *tx, &queue, dead_for).await?;
        tx.commit().await?;
        log_requeued(count, &queue);
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
        let queue = self.queue().to_owned();
        let mut tx = self.pool.begin().await?;
        let count = queries::reenqueue_abandoned(&mut *tx, &queue, worker.name(), &ids).await?;
        if usize::try_from(count).ok() != Some(tasks.len()) {
            // Rolled back: as apalis-postgres does.
            return Err(Error::ReenqueueMismatch {
                queued: tasks.len(),
                abandoned: usize::try_from(count).unwrap_or(usize::MAX),
            });
        }
        tx.commit().await?;
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
        let mut conn = self.pool.acquire().await?;
        if !acks.is_empty() {
            super::postgres_ack::acknowledge(&mut conn, &acks, worker.name()).await?;
        }
        if !locks.is_empty() {
            queries::lock_tasks(&mut *conn, &locks, worker.name()).await?;
        }
        Ok(())
    }

    async fn push_tasks(&mut self, tasks: Vec<Task<Vec<u8>>>) -> Result<(), Error> {
        let queue = self.queue().to_owned();
        let mut conn = self.pool.acquire().await?;
        queries::push_tasks(&mut *conn, &queue, tasks).await
    }
}

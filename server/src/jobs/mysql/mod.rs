//! An apalis 1.0 backend for MySQL/MariaDB: apalis ships none that compiles
//! against 1.0 (apalis-mysql 1.0.0-rc.8 targets a pre-1.0 apalis-core), so
//! this one follows apalis-sqlite's design on Kiln's own `kiln_jobs` and
//! `kiln_workers` tables (created by the migrations crate). apalis-core's
//! `Persisted` drives polling, heartbeats, acks and orphan recovery (see
//! `persisted_queue`); this module supplies the SQL (`persistence.rs`);
//! the rows decode as SQLite's do (`jobs::task_row`).

mod persistence;

use std::time::Duration;

use sqlx::MySqlPool;

use super::persisted_queue::{PersistedQueue, QueueSql};
use super::wakeups::WakeCount;
use persistence::MySqlPersistence;

/// How a queue on MySQL behaves; the same knobs as apalis-sqlite's `Config`.
#[derive(Debug, Clone)]
pub struct MySqlQueueConfig {
    pub queue: String,
    pub batch_size: usize,
    pub heartbeat_interval: Duration,
    pub missed_heartbeats: u32,
}

impl MySqlQueueConfig {
    pub fn new(queue: &str) -> Self {
        Self {
            queue: queue.to_owned(),
            batch_size: 10,
            heartbeat_interval: Duration::from_secs(30),
            missed_heartbeats: 3,
        }
    }

    /// A worker silent this long is considered dead and its jobs re-queued.
    fn orphaned_after(&self) -> Duration {
        self.heartbeat_interval * self.missed_heartbeats
    }
}

/// A queue of `Args` jobs on MySQL.
pub type MySqlStorage<Args> = PersistedQueue<MySqlPersistence, Args>;

impl<Args> MySqlStorage<Args> {
    /// The queue named in `config` on `pool`.
    pub fn new(pool: &MySqlPool, config: MySqlQueueConfig) -> Self {
        Self::woken_by(pool, config, &WakeCount::default())
    }

    /// The queue of a worker whose wake-ups `wakes` counts: an empty fetch
    /// during one of them is made again (see `wakeups`).
    pub fn woken_by(pool: &MySqlPool, config: MySqlQueueConfig, wakes: &WakeCount) -> Self {
        PersistedQueue::on(MySqlPersistence {
            pool: pool.clone(),
            config,
            wakes: wakes.clone(),
        })
    }
}

impl QueueSql for MySqlPersistence {
    type Config = MySqlQueueConfig;

    fn config(&self) -> &MySqlQueueConfig {
        &self.config
    }

    fn queue(&self) -> &str {
        &self.config.queue
    }

    fn heartbeat_interval(&self) -> Duration {
        self.config.heartbeat_interval
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }
}

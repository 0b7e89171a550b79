//! One queue of `A` jobs on whichever database Kiln runs on, and pushing to
//! it. apalis' storages differ per backend; this enum hides which.

use apalis::prelude::{TaskSink, TaskSinkError};
use apalis_core::task::Task;
use apalis_core::task::builder::TaskBuilder;
use apalis_postgres::Config as PostgresConfig;
use apalis_sqlite::Config as SqliteConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::mysql::{MySqlQueueConfig, MySqlStorage};
use super::postgres::PgStorage;
use super::sqlite::SqliteQueue;
use super::{Cause, HEARTBEAT, JobsError, MISSED_HEARTBEATS};
use crate::db::Pool;

/// One job to store.
pub struct Push<A> {
    pub job: A,
    /// Unix seconds it may run from; `None` = now.
    pub run_at: Option<u64>,
    /// Unique per job of its queue (the backends refuse a second one).
    pub key: Option<String>,
}

pub enum Storage<A> {
    Sqlite(SqliteQueue<A>),
    Postgres(PgStorage<A>),
    MySql(MySqlStorage<A>),
}

impl<A> Clone for Storage<A> {
    fn clone(&self) -> Self {
        match self {
            Storage::Sqlite(s) => Storage::Sqlite(s.clone()),
            Storage::Postgres(s) => Storage::Postgres(s.clone()),
            Storage::MySql(s) => Storage::MySql(s.clone()),
        }
    }
}

// Jobs are not locked when they start (`lock_tasks(false)`): the fetch
// already marks them taken by this worker (`Queued`, `lock_by`), which is
// all that a dead worker's recovery and the acknowledgement look at, and
// only jobs never handed to the worker go back at shutdown. The lock was
// one more write per job (a transaction of its own unless it met the
// job's acknowledgement), in the same single lane as the fetches.

pub fn sqlite_config(queue: &str, batch: usize) -> SqliteConfig {
    SqliteConfig::default()
        .queue(queue)
        .batch_size(batch.max(1))
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .lock_tasks(false)
}

pub fn postgres_config(queue: &str, batch: usize) -> PostgresConfig {
    PostgresConfig::default()
        .queue(queue)
        .batch_size(batch.max(1))
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .lock_tasks(false)
}

pub fn mysql_config(queue: &str, batch: usize) -> MySqlQueueConfig {
    MySqlQueueConfig {
        batch_size: batch.max(1),
        heartbeat_interval: HEARTBEAT,
        missed_heartbeats: u32::try_from(MISSED_HEARTBEATS).unwrap_or(3),
        ..MySqlQueueConfig::new(queue)
    }
}

impl<A> Storage<A>
where
    A: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static,
{
    /// The queue named `queue` on `pool` (a handle: cheap to make).
    pub fn new(pool: &Pool, queue: &str, batch: usize) -> Self {
        match pool {
            Pool::Sqlite(pool) => {
                Storage::Sqlite(SqliteQueue::new(pool, sqlite_config(queue, batch)))
            }
            Pool::Postgres(pool) => {
                Storage::Postgres(PgStorage::new(pool, postgres_config(queue, batch)))
            }
            Pool::MySql(pool) => {
                Storage::MySql(MySqlStorage::new(pool, mysql_config(queue, batch)))
            }
        }
    }

    /// Stores a job, to run no earlier than `run_at` (Unix seconds) if given.
    pub async fn push(&self, job: A, run_at: Option<u64>) -> Result<(), JobsError> {
        self.push_all(vec![Push {
            job,
            run_at,
            key: None,
        }])
        .await
    }

    /// Stores jobs: the backends write them in batched statements, not one
    /// each.
    pub async fn push_all(&self, jobs: Vec<Push<A>>) -> Result<(), JobsError> {
        let tasks = jobs.into_iter().map(|push| {
            let mut task = TaskBuilder::new(push.job);
            if let Some(at) = push.run_at {
                task = task.run_at_timestamp(at);
            }
            if let Some(key) = push.key {
                task = task.idempotency_key(key);
            }
            task.build()
        });
        match self {
            Storage::Sqlite(s) => push_all(s, tasks).await,
            Storage::Postgres(s) => push_all(s, tasks).await,
            Storage::MySql(s) => push_all(s, tasks).await,
        }
    }
}

/// Pushes through a clone: apalis' sinks need `&mut`, and a clone of a
/// storage is only a pool handle.
async fn push_all<S, A, K>(
    storage: &S,
    tasks: impl Iterator<Item = Task<A>> + Send,
) -> Result<(), JobsError>
where
    S: TaskSink<A, K> + Clone,
    TaskSinkError<S::Error>: Into<Cause>,
{
    let mut storage = storage.clone();
    storage
        .push_all(futures::stream::iter(tasks))
        .await
        .map_err(|e| JobsError::Push(e.into()))
}

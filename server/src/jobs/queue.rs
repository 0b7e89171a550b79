//! The handle that pushes jobs; cheap to clone into every request handler.

use apalis::prelude::{TaskSink, TaskSinkError};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use super::cleanup::Cleanup;
use super::mysql::MySqlStorage;
use super::notifier::Notifier;
use super::{Cause, JobsError};

/// Where the jobs go, and how this process's workers are woken for them.
#[derive(Clone)]
pub struct JobQueue {
    cleanup: CleanupStorage,
    notifier: Notifier,
}

#[derive(Clone)]
pub enum CleanupStorage {
    Sqlite(SqliteStorage<Cleanup>),
    Postgres(PostgresStorage<Cleanup>),
    MySql(MySqlStorage<Cleanup>),
}

impl JobQueue {
    pub fn new(cleanup: CleanupStorage, notifier: Notifier) -> Self {
        Self { cleanup, notifier }
    }

    /// Pushes a cleanup job; returns once it is stored, with this process's
    /// workers already woken for it.
    pub async fn push_cleanup(&self) -> Result<(), JobsError> {
        let job = Cleanup::now();
        match &self.cleanup {
            CleanupStorage::Sqlite(storage) => push(storage, job).await?,
            CleanupStorage::Postgres(storage) => push(storage, job).await?,
            CleanupStorage::MySql(storage) => push(storage, job).await?,
        }
        self.notifier.notify();
        Ok(())
    }
}

/// Pushes through a clone: apalis' `push` needs `&mut`, and a clone of a
/// storage is only a pool handle.
async fn push<S, K>(storage: &S, job: Cleanup) -> Result<(), JobsError>
where
    S: TaskSink<Cleanup, K> + Clone,
    TaskSinkError<S::Error>: Into<Cause>,
{
    let mut storage = storage.clone();
    storage
        .push(job)
        .await
        .map_err(|e| JobsError::Push(e.into()))
}

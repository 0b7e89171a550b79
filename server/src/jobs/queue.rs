//! The handle that pushes jobs; cheap to clone into every request handler.

use apalis::prelude::{TaskSink, TaskSinkError};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use super::cleanup::Cleanup;
use super::mysql::MySqlStorage;
use super::notifier::Notifier;
use super::{Cause, JobsError};

#[derive(Clone)]
pub enum JobQueue {
    Sqlite {
        cleanup: SqliteStorage<Cleanup>,
        notifier: Notifier,
    },
    Postgres {
        cleanup: PostgresStorage<Cleanup>,
    },
    MySql {
        cleanup: MySqlStorage<Cleanup>,
        notifier: Notifier,
    },
}

impl JobQueue {
    /// Pushes a cleanup job; returns once it is stored. PostgreSQL wakes
    /// workers by NOTIFY; the others are woken in-process.
    pub async fn push_cleanup(&self) -> Result<(), JobsError> {
        let job = Cleanup::now();
        match self {
            JobQueue::Sqlite { cleanup, notifier } => {
                push(cleanup, job).await?;
                notifier.notify();
            }
            JobQueue::Postgres { cleanup } => push(cleanup, job).await?,
            JobQueue::MySql { cleanup, notifier } => {
                push(cleanup, job).await?;
                notifier.notify();
            }
        }
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

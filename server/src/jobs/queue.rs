//! The handle that pushes jobs; cheap to clone into every request handler.

use apalis::prelude::TaskSink;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use super::JobsError;
use super::cleanup::Cleanup;
use super::mysql::MySqlStorage;
use super::notifier::Notifier;

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
    /// Pushes a cleanup job; returns once it is stored.
    pub async fn push_cleanup(&self) -> Result<(), JobsError> {
        let job = Cleanup::now();
        match self {
            JobQueue::Sqlite { cleanup, notifier } => {
                let mut storage = cleanup.clone();
                storage
                    .push(job)
                    .await
                    .map_err(|e| JobsError::Push(e.into()))?;
                notifier.notify();
            }
            JobQueue::Postgres { cleanup } => {
                let mut storage = cleanup.clone();
                storage
                    .push(job)
                    .await
                    .map_err(|e| JobsError::Push(e.into()))?;
            }
            JobQueue::MySql { cleanup, notifier } => {
                let mut storage = cleanup.clone();
                storage
                    .push(job)
                    .await
                    .map_err(|e| JobsError::Push(e.into()))?;
                notifier.notify();
            }
        }
        Ok(())
    }
}

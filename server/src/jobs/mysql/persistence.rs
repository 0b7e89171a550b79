//! The SQL behind the MySQL queue: register and heartbeat workers, fetch
//! ready jobs with `FOR UPDATE SKIP LOCKED` (so any number of workers on
//! any number of machines never take the same job), lock, acknowledge,
//! re-queue what a dead or stopping worker held, and insert new jobs.
//! Times are Unix seconds, as in apalis-sqlite.

use std::time::{SystemTime, UNIX_EPOCH};

use apalis_core::backend::persistence::{Persistence, TaskEvent};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use serde_json::Value;
use sqlx::MySqlPool;
use ulid::Ulid;

use super::MySqlQueueConfig;
use crate::jobs::persisted_queue::log_requeued;
use crate::jobs::task_row::task_from_row;
use crate::jobs::wakeups::{WakeCount, fetch_after_wakeups};

#[derive(Debug, Clone)]
pub struct MySqlPersistence {
    pub pool: MySqlPool,
    pub config: MySqlQueueConfig,
    /// The wake-ups of the worker that fetches through this.
    pub wakes: WakeCount,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn as_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// Jobs held by workers silent for `silent_for` seconds go back to Pending.
/// `except` spares the calling worker; `only` limits it to one worker.
async fn reenqueue_orphaned(
    tx: &mut sqlx::MySqlConnection,
    config: &MySqlQueueConfig,
    silent_for: i64,
    except: Option<&str>,
    only: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE kiln_jobs j JOIN kiln_workers w ON j.lock_by = w.id \
         SET j.status = 'Pending', j.done_at = NULL, j.lock_by = NULL, j.lock_at = NULL, \
             j.attempts = j.attempts + 1, \
             j.last_result = '{\"Err\": \"Re-enqueued due to worker heartbeat timeout.\"}' \
         WHERE j.status IN ('Running', 'Queued') AND j.job_type = ? \
           AND ? - w.last_seen >= ? \
           AND (? IS NULL OR w.id <> ?) AND (? IS NULL OR w.id = ?)",
    )
    .bind(&config.queue)
    .bind(now())
    .bind(silent_for)
    .bind(except)
    .bind(except)
    .bind(only)
    .bind(only)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected())
}

impl MySqlPersistence {
    /// Takes up to a batch of ready jobs for `worker`.
    async fn fetch_once(&self, worker: &WorkerContext) -> Result<Vec<Task<Vec<u8>>>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM kiln_jobs \
             WHERE job_type = ? AND run_at <= ? \
               AND ((status = 'Pending' AND lock_by IS NULL) \
                    OR (status = 'Failed' AND attempts < max_attempts)) \
             ORDER BY priority DESC, run_at ASC, id ASC LIMIT ? \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(&self.config.queue)
        .bind(now())
        .bind(as_i64(self.config.batch_size.max(1)))
        .fetch_all(&mut *tx)
        .await?;
        let mut tasks = Vec::with_capacity(ids.len());
        for id in &ids {
            sqlx::query(
                "UPDATE kiln_jobs SET status = 'Queued', lock_by = ?, lock_at = ? WHERE id = ?",
            )
            .bind(worker.name())
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query(
                "SELECT id, job, job_type, status, attempts, max_attempts, run_at, lock_at, \
                        lock_by, done_at, priority, metadata, idempotency_key \
                 FROM kiln_jobs WHERE id = ?",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            tasks.push(task_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(tasks)
    }
}

impl Persistence for MySqlPersistence {
    type Compact = Vec<u8>;
    type Response = Value;
    type Error = sqlx::Error;

    async fn register(&mut self, worker: &WorkerContext) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // A worker of the same name that went away left jobs behind.
        reenqueue_orphaned(&mut tx, &self.config, 0, None, Some(worker.name())).await?;
        sqlx::query(
            "INSERT INTO kiln_workers (id, worker_type, storage_name, layers, last_seen, started_at) \
             VALUES (?, ?, 'KilnMySqlStorage', ?, ?, ?) \
             ON DUPLICATE KEY UPDATE worker_type = VALUES(worker_type), layers = VALUES(layers), \
                 last_seen = VALUES(last_seen), started_at = VALUES(started_at)",
        )
        .bind(worker.name())
        .bind(&self.config.queue)
        .bind(worker.get_service())
        .bind(now())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn heartbeat(&mut self, worker: &WorkerContext) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE kiln_workers SET last_seen = ? WHERE id = ?")
            .bind(now())
            .bind(worker.name())
            .execute(&mut *tx)
            .await?;
        let silent_for = as_i64(self.config.orphaned_after().as_secs());
        let count =
            reenqueue_orphaned(&mut tx, &self.config, silent_for, Some(worker.name()), None)
                .await?;
        tx.commit().await?;
        log_requeued(count, &self.config.queue);
        Ok(())
    }

    async fn fetch_next(
        &mut self,
        worker: &WorkerContext,
    ) -> Result<Vec<Task<Vec<u8>>>, sqlx::Error> {
        let this = &*self;
        fetch_after_wakeups(&self.wakes, || this.fetch_once(worker)).await
    }

    async fn reenqueue_abandoned(
        &mut self,
        tasks: Vec<Task<Vec<u8>>>,
        worker: &WorkerContext,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut count = 0;
        for task in &tasks {
            let Some(id) = task.task_id() else { continue };
            count += sqlx::query(
                "UPDATE kiln_jobs SET status = 'Pending', done_at = NULL, lock_by = NULL, \
                     lock_at = NULL, attempts = attempts + 1, \
                     last_result = '{\"Err\": \"Re-enqueued due to worker shutdown\"}' \
                 WHERE id = ? AND status = 'Queued' AND lock_by = ?",
            )
            .bind(id.to_string())
            .bind(worker.name())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn handle_events(
        &mut self,
        events: Vec<TaskEvent<Value>>,
        worker: &WorkerContext,
    ) -> Result<(), sqlx::Error> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for event in &events {
            match event {
                TaskEvent::Lock { task_id } => {
                    sqlx::query(
                        "UPDATE kiln_jobs SET status = 'Running', lock_at = ?, lock_by = ? \
                         WHERE id = ? AND (status IN ('Queued', 'Pending') \
                               OR (status = 'Failed' AND attempts < max_attempts))",
                    )
                    .bind(now())
                    .bind(worker.name())
                    .bind(task_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                TaskEvent::Complete(result) => {
                    let stored =
                        serde_json::to_string(&result.result).unwrap_or_else(|_| "null".to_owned());
                    sqlx::query(
                        "UPDATE kiln_jobs SET status = ?, attempts = ?, last_result = ?, done_at = ? \
                         WHERE id = ? AND lock_by = ?",
                    )
                    .bind(result.status.to_string())
                    .bind(as_i64(result.attempt))
                    .bind(stored)
                    .bind(now())
                    .bind(result.task_id.to_string())
                    .bind(worker.name())
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {}
            }
        }
        tx.commit().await
    }

    async fn push_tasks(&mut self, tasks: Vec<Task<Vec<u8>>>) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for task in &tasks {
            let id = task
                .task_id()
                .as_ref()
                .map_or_else(|| Ulid::generate().to_string(), ToString::to_string);
            let run_at = task.run_at().map_or_else(now, as_i64);
            sqlx::query(
                "INSERT INTO kiln_jobs (id, job, job_type, status, attempts, max_attempts, run_at, \
                     priority, metadata, idempotency_key) \
                 VALUES (?, ?, ?, 'Pending', 0, ?, ?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE id = id",
            )
            .bind(id)
            .bind(&task.args)
            .bind(&self.config.queue)
            .bind(as_i64(task.max_attempts().unwrap_or(25)))
            .bind(run_at)
            .bind(as_i64(task.priority().unwrap_or_default()))
            .bind(serde_json::to_string(task.metadata()).ok())
            .bind(task.idempotency_key())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

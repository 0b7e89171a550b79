//! Turns a job's row into the apalis task it stores: MySQL's `kiln_jobs`
//! and apalis-sqlite's `Jobs` have the same columns.

use std::str::FromStr;

use apalis_core::task::Task;
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::status::Status;
use apalis_core::task::task_id::TaskId;
use sqlx::{ColumnIndex, Decode, Row, Type};
use ulid::Ulid;

fn decode_error(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

pub fn task_from_row<R>(row: &R) -> Result<Task<Vec<u8>>, sqlx::Error>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let metadata: Option<String> = row.try_get("metadata")?;
    let idempotency_key: Option<String> = row.try_get("idempotency_key")?;
    let attempts: i32 = row.try_get("attempts")?;
    let max_attempts: i32 = row.try_get("max_attempts")?;
    let run_at: i64 = row.try_get("run_at")?;
    let lock_at: Option<i64> = row.try_get("lock_at")?;
    let done_at: Option<i64> = row.try_get("done_at")?;
    let priority: i32 = row.try_get("priority")?;
    let mut task = TaskBuilder::new(row.try_get::<Vec<u8>, _>("job")?)
        .task_id(TaskId::from_ulid(
            Ulid::from_string(&id).map_err(decode_error)?,
        ))
        .queue(row.try_get::<String, _>("job_type")?.into())
        .status(Status::from_str(&status).map_err(decode_error)?)
        .attempt(usize::try_from(attempts).unwrap_or_default())
        .max_attempts(usize::try_from(max_attempts).unwrap_or(25))
        .run_at_timestamp(u64::try_from(run_at).unwrap_or_default())
        .lock_at(lock_at.and_then(|t| u64::try_from(t).ok()))
        .done_at(done_at.and_then(|t| u64::try_from(t).ok()))
        .lock_by(row.try_get::<Option<String>, _>("lock_by")?)
        .priority(usize::try_from(priority).unwrap_or_default())
        .with_metadata(
            metadata
                .and_then(|m| serde_json::from_str(&m).ok())
                .unwrap_or_default(),
        );
    if let Some(key) = idempotency_key {
        task = task.idempotency_key(key);
    }
    Ok(task.build())
}

//! One attempt's log, wherever it is: in its step's row when the attempt
//! ended having printed little (its whole log kept there with its end; see
//! `logs::StepLog::short` and `finish`), else in the log storage, where a
//! log is written while its step runs. Before a row goes on to another
//! attempt (a re-run), its short log moves to the storage ([`spill`]).

use sea_orm::ConnectionTrait;

use super::logs::{LogBackend, log_key};
use super::repo::short_logs;
use crate::ServiceError;

/// The longest log kept in a step's row: a no-op step's log (two of
/// Kiln's own lines) is about 120 bytes.
pub const SHORT_LOG_MAX: usize = 4 * 1024;

/// One attempt of one step.
#[derive(Debug, Clone, Copy)]
pub struct AttemptLog {
    pub run_id: i64,
    pub step_id: i64,
    pub attempt: i32,
}

impl AttemptLog {
    /// Its key in the log storage.
    pub fn key(&self) -> Result<String, ServiceError> {
        log_key(
            &self.run_id.to_string(),
            &format!("{}-{}", self.step_id, self.attempt),
        )
        .ok_or(ServiceError::NotFound("step log"))
    }

    /// Up to `max` bytes from `offset`. `over`: the caller saw the attempt
    /// over. Only then can its log be in the row; a caller that saw it
    /// running reads the storage, and looks again once it sees it over.
    pub async fn read(
        &self,
        db: &impl ConnectionTrait,
        logs: &dyn LogBackend,
        over: bool,
        offset: u64,
        max: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        match self.short(db, over).await? {
            Some(log) => Ok(slice(&log, offset, max).to_vec()),
            None => Ok(logs.read(&self.key()?, offset, max).await?),
        }
    }

    /// The whole log when its step's row keeps it (only an attempt seen
    /// over can have it there); `None`: it is in the log storage.
    pub async fn short(
        &self,
        db: &impl ConnectionTrait,
        over: bool,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        if !over {
            return Ok(None);
        }
        Ok(short_logs::of_attempt(db, self.step_id, self.attempt).await?)
    }
}

/// Up to `max` bytes of `log` from `offset` (nothing past its end).
pub fn slice(log: &[u8], offset: u64, max: usize) -> &[u8] {
    let from = usize::try_from(offset).unwrap_or(usize::MAX).min(log.len());
    let to = from.saturating_add(max).min(log.len());
    &log[from..to]
}

/// Writes the short logs of steps `ids` of run `run_id` to the storage,
/// each under its attempt's key: their rows go on to another attempt.
/// Before the caller's transaction drops them from the rows; a log already
/// there (an earlier spill) is left as it is.
pub async fn spill(
    db: &impl ConnectionTrait,
    logs: &dyn LogBackend,
    run_id: i64,
    ids: Vec<i64>,
) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    for (step_id, attempt, log) in short_logs::of_steps(db, ids).await? {
        let key = AttemptLog {
            run_id,
            step_id,
            attempt,
        }
        .key()?;
        if logs.read(&key, 0, 1).await?.is_empty() {
            logs.append(&key, &log).await?;
        }
    }
    Ok(())
}

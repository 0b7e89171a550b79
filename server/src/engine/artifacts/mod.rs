//! Pipeline artifacts: after a step with `artifacts:` succeeds, the files
//! they name are archived (tar) and kept through the same storage as logs;
//! before a step starts, the artifacts of every step it waits for are put
//! back into its fresh checkout. The archive is downloadable from the API
//! and the run page. A step whose artifacts cannot be saved fails, saying
//! why; one whose upstream artifacts cannot be restored fails before its
//! command runs.

pub mod collect;
pub mod unpack;

use std::path::{Path, PathBuf};

use futures::Stream;
use kiln_core::engine::StepState;
use kiln_core::pipeline::artifacts::{Selection, restored_for};
use kiln_core::workflow::Task;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::definitions::Definition;
use super::logs::{LogBackend, StepLog, log_key};
use super::{Engine, repo};
use crate::ServiceError;
use crate::db::entities::step;

/// Bytes moved to or from storage at once.
const CHUNK: usize = 1024 * 1024;

/// What a step saved, on its row: which attempt, under which storage key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub attempt: i32,
    pub key: String,
    pub files: usize,
    pub bytes: u64,
}

/// The artifacts a step row records as its succeeded attempt's.
pub fn stored_of(row: &step::Model) -> Option<Stored> {
    let stored: Stored = serde_json::from_str(row.artifacts.as_deref()?).ok()?;
    (stored.attempt == row.attempt && row.state == StepState::Success).then_some(stored)
}

fn archive_path(run_dir: &Path, row: &step::Model, what: &str) -> PathBuf {
    run_dir.join(format!("{}-{}.{what}.tar", row.id, row.attempt))
}

/// Saves the artifacts of `task` from `workdir` after it succeeded.
/// `Ok(Err(message))`: they could not be, and the step fails with that.
pub async fn save(
    engine: &Engine,
    row: &step::Model,
    task: &Task,
    workdir: &Path,
    run_dir: &Path,
    log: &mut StepLog<'_>,
) -> Result<Result<(), String>, ServiceError> {
    let selection = match Selection::new(&task.artifacts) {
        Ok(selection) => selection,
        Err(message) => return Ok(Err(format!("artifacts: {message}"))),
    };
    let budget = budget_of(engine, row).await?;
    let archive = archive_path(run_dir, row, "artifacts");
    let _ = tokio::fs::remove_file(&archive).await;
    let collected = {
        let (root, archive) = (workdir.to_owned(), archive.clone());
        tokio::task::spawn_blocking(move || collect::collect(&root, &selection, budget, &archive))
            .await
            .map_err(std::io::Error::other)?
    };
    let collected = match collected {
        Ok(collected) => collected,
        Err(message) => {
            let _ = tokio::fs::remove_file(&archive).await;
            return Ok(Err(format!("artifacts: {message}")));
        }
    };
    for skipped in &collected.skipped {
        log.note(&format!("artifacts: skipped {skipped}")).await?;
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let key = log_key(
        &row.run_id.to_string(),
        &format!("{}-{}-artifacts-{}", row.id, row.attempt, &suffix[..12]),
    )
    .ok_or(ServiceError::NotFound("artifacts"))?;
    let copied = upload(engine.logs.as_ref(), &key, &archive).await;
    let _ = tokio::fs::remove_file(&archive).await;
    copied?;
    let stored = Stored {
        attempt: row.attempt,
        key,
        files: collected.files,
        bytes: collected.bytes,
    };
    let json = serde_json::to_string(&stored).unwrap_or_default();
    repo::artifacts::record(&engine.db, row.id, row.attempt, &json).await?;
    log.note(&if collected.files == 0 {
        format!("artifacts: no file matches {}", task.artifacts.join(", "))
    } else {
        format!(
            "artifacts: saved {} file(s), {} bytes",
            collected.files, collected.bytes
        )
    })
    .await?;
    Ok(Ok(()))
}

/// Steps of one run may save this many times a step's cap between them:
/// a pipeline of thousands of steps does not fill the disk. (Steps saving
/// at the same moment each see the others' bytes only once recorded, so
/// the run may pass it by a step's cap per worker running at once.)
const RUN_CAP_FACTOR: u64 = 10;

/// What `row` may still save: its own cap, or what the run has left.
async fn budget_of(engine: &Engine, row: &step::Model) -> Result<collect::Budget, ServiceError> {
    let cap = engine.settings.artifacts_cap_bytes;
    let run_cap = cap.saturating_mul(RUN_CAP_FACTOR);
    let used: u64 = repo::artifacts::saved_in_run(&engine.db, row.run_id)
        .await?
        .iter()
        .filter(|other| other.id != row.id)
        .filter_map(stored_of)
        .map(|stored| stored.bytes)
        .sum();
    let left = run_cap.saturating_sub(used);
    Ok(if left < cap {
        collect::Budget {
            bytes: left,
            limit: "a run's steps save at most 10 × step_artifacts_max_bytes between them",
        }
    } else {
        collect::Budget {
            bytes: cap,
            limit: "step_artifacts_max_bytes",
        }
    })
}

async fn upload(logs: &dyn LogBackend, key: &str, archive: &Path) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(archive).await?;
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            let n = file.read(&mut buffer[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(());
        }
        logs.append(key, &buffer[..filled]).await?;
        if filled < CHUNK {
            return Ok(());
        }
    }
}

/// Puts the artifacts of every step `task` waits for into `workdir`.
/// `Ok(Err(message))`: one could not be, and the step fails with that.
pub async fn restore(
    engine: &Engine,
    row: &step::Model,
    workflow: &Definition,
    task: &Task,
    workdir: &Path,
    run_dir: &Path,
    log: &mut StepLog<'_>,
) -> Result<Result<(), String>, ServiceError> {
    let from = restored_for(workflow, &task.id);
    if from.is_empty() {
        return Ok(Ok(()));
    }
    let rows = repo::steps_of_tasks(&engine.db, row.run_id, from.iter().cloned().collect()).await?;
    for upstream in &from {
        // A step that saved nothing (or did not succeed) gives nothing.
        let Some(stored) = rows
            .iter()
            .find(|r| &r.task == upstream)
            .and_then(stored_of)
        else {
            continue;
        };
        let archive = archive_path(run_dir, row, "restore");
        let fetched = download(engine.logs.as_ref(), &stored, &archive).await;
        let unpacked = match fetched {
            Ok(()) => {
                let (archive, root) = (archive.clone(), workdir.to_owned());
                tokio::task::spawn_blocking(move || unpack::unpack(&archive, &root))
                    .await
                    .map_err(std::io::Error::other)?
            }
            Err(error) => Err(format!("could not be read from storage: {error}")),
        };
        let _ = tokio::fs::remove_file(&archive).await;
        match unpacked {
            Ok(done) => {
                for skipped in &done.skipped {
                    log.note(&format!("artifacts of {upstream}: skipped {skipped}"))
                        .await?;
                }
                log.note(&format!(
                    "artifacts of {upstream}: restored {} file(s)",
                    done.files
                ))
                .await?;
            }
            Err(message) => {
                return Ok(Err(format!("artifacts of {upstream}: {message}")));
            }
        }
    }
    Ok(Ok(()))
}

async fn download(logs: &dyn LogBackend, stored: &Stored, archive: &Path) -> std::io::Result<()> {
    let _ = tokio::fs::remove_file(archive).await;
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(archive)
        .await?;
    let mut offset = 0u64;
    loop {
        let chunk = logs.read(&stored.key, offset, CHUNK).await?;
        if chunk.is_empty() {
            break;
        }
        offset += chunk.len() as u64;
        out.write_all(&chunk).await?;
    }
    out.flush().await
}

/// The stored archive as a stream of chunks, for a download.
pub fn stream(
    logs: std::sync::Arc<dyn LogBackend>,
    key: String,
) -> impl Stream<Item = std::io::Result<axum::body::Bytes>> {
    futures::stream::try_unfold(0u64, move |offset| {
        let (logs, key) = (logs.clone(), key.clone());
        async move {
            let chunk = logs.read(&key, offset, CHUNK).await?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let next = offset + chunk.len() as u64;
            Ok(Some((axum::body::Bytes::from(chunk), next)))
        }
    })
}

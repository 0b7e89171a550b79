//! Working directories left behind by attempts whose process died (a killed
//! worker or server never reached its own clean-up): found under the work
//! directory by their names (`{run}/{step}-{attempt}` and its `.out` file)
//! and removed unless that attempt is still running somewhere. Several
//! processes may share the directory; a running attempt's files are never
//! touched, whoever runs it. Other processes' spare places left over go
//! too (see `places`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Engine;
use super::repo::leases;
use crate::ServiceError;

/// A run's directory emptied this recently may be about to get a new
/// attempt's directory: left for a later pass.
const RUN_DIR_QUIET: Duration = Duration::from_secs(60);

/// What a name in a run's directory says: step id and attempt.
fn attempt_of(name: &str) -> Option<(i64, i32)> {
    let stem = name.strip_suffix(".out").unwrap_or(name);
    let (step, attempt) = stem.split_once('-')?;
    Some((step.parse().ok()?, attempt.parse().ok()?))
}

/// Removes leftovers below the engine's work directory; returns how many
/// attempts' files went.
pub async fn remove(engine: &Engine) -> Result<usize, ServiceError> {
    let (root, places) = (engine.settings.work_dir.clone(), engine.places.clone());
    let found = tokio::task::spawn_blocking(move || {
        places.remove_others_spares(&root);
        scan(&root)
    })
    .await
    .map_err(std::io::Error::other)??;
    let mut removed = 0;
    for (run_dir, entries) in found {
        let ids: Vec<i64> = entries.iter().map(|(_, (step, _))| *step).collect();
        let running = leases::running_among(&engine.db, ids).await?;
        for (path, attempt) in &entries {
            if running.contains(attempt) {
                continue;
            }
            let gone = if path.is_dir() {
                tokio::fs::remove_dir_all(path).await
            } else {
                tokio::fs::remove_file(path).await
            };
            match gone {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "could not remove a lost attempt's files")
                }
            }
        }
        remove_if_quiet(&run_dir);
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed working files of attempts whose process died"
        );
    }
    Ok(removed)
}

type RunDirEntries = Vec<(std::path::PathBuf, (i64, i32))>;

/// The run directories below `root` and the attempts' files in each.
fn scan(root: &Path) -> std::io::Result<Vec<(std::path::PathBuf, RunDirEntries)>> {
    let mut out = Vec::new();
    let runs = match std::fs::read_dir(root) {
        Ok(runs) => runs,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(error) => return Err(error),
    };
    for run in runs.flatten() {
        let run_dir = run.path();
        let is_run = run
            .file_name()
            .to_str()
            .is_some_and(|n| n.parse::<i64>().is_ok());
        if !is_run || !run_dir.is_dir() {
            continue;
        }
        // Its run may have ended and removed it meanwhile.
        let listing = match std::fs::read_dir(&run_dir) {
            Ok(listing) => listing,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        let entries = listing
            .flatten()
            .filter_map(|e| {
                let attempt = attempt_of(e.file_name().to_str()?)?;
                Some((e.path(), attempt))
            })
            .collect();
        out.push((run_dir, entries));
    }
    Ok(out)
}

/// Removes a run's directory once it is empty and has not changed for a
/// while (an attempt of the run may be about to start in it).
fn remove_if_quiet(run_dir: &Path) {
    if unchanged_for(run_dir, RUN_DIR_QUIET) {
        // Fails harmlessly when it is not empty.
        let _ = std::fs::remove_dir(run_dir);
    }
}

/// Whether `path` was last modified at least `age` ago.
pub(super) fn unchanged_for(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|at| SystemTime::now().duration_since(at).ok())
        .is_some_and(|quiet| quiet >= age)
}

#[cfg(test)]
mod tests {
    use super::attempt_of;

    #[test]
    fn names_of_attempts_parse_and_others_do_not() {
        assert_eq!(attempt_of("12-3"), Some((12, 3)));
        assert_eq!(attempt_of("12-3.out"), Some((12, 3)));
        assert_eq!(attempt_of("sandbox-check-77"), None);
        assert_eq!(attempt_of("12"), None);
        assert_eq!(attempt_of("12-x"), None);
    }
}

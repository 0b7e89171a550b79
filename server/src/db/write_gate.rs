//! Kiln's own turn at a SQLite file's write lock. SQLite lets one writer in
//! at a time and tells the others nothing when it leaves: each polls from
//! its busy handler (`sqlite_busy`), holding a pool connection, and finds
//! the lock free a poll late, in no order. Kiln's write transactions take
//! a turn here first, one at a time per file and in the order they asked,
//! so the next one begins the moment the last commits. Statements outside
//! them (apalis' queue, single-statement writes) still meet the busy
//! handler, now against one of Kiln's transactions at most. The job
//! queue's writes take their turns here too (`jobs::sqlite`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sea_orm::{ConnAcquireErr, DbErr};
use sqlx::SqlitePool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// As long as the busy handler waits for the lock itself: a turn not had
/// by then is the same "busy, try later" (an outage to the callers, who
/// answer 503 or retry).
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// One gate per database file of this process (tests open many).
static GATES: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> = LazyLock::new(Default::default);

/// The gate of `file`, made on first use.
pub fn of_file(file: &Path) -> Arc<Semaphore> {
    let mut gates = GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(gate) = gates.get(file) {
        return gate.clone();
    }
    let gate = Arc::new(Semaphore::new(1));
    gates.insert(file.to_path_buf(), gate.clone());
    gate
}

/// The gate of the file `pool` opens; none for `:memory:` (each such pool
/// is a database of its own, on one connection).
pub fn of_pool(pool: &SqlitePool) -> Option<Arc<Semaphore>> {
    let options = pool.connect_options();
    let file = options.get_filename();
    (file != Path::new(":memory:")).then(|| of_file(file))
}

/// Waits for a turn at `gate`; the turn ends when the permit is dropped.
/// Tokio's semaphore is fair: turns go in the order asked.
pub async fn turn(gate: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, DbErr> {
    match tokio::time::timeout(LONGEST_WAIT, gate.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        // The gate is never closed; a timeout is a writer holding on.
        Ok(Err(_)) | Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
    }
}

/// A turn at `gate` if there is one (a database without a gate needs
/// none).
pub async fn turn_at(gate: Option<Arc<Semaphore>>) -> Result<Option<OwnedSemaphorePermit>, DbErr> {
    match gate {
        Some(gate) => turn(gate).await.map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{of_file, turn};

    /// Turns go one at a time and in the order asked, even when the
    /// later ones asked while the first was held.
    #[tokio::test]
    async fn turns_go_one_at_a_time_in_the_order_asked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.db");
        let first = turn(of_file(&file)).await.unwrap();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..5 {
            let (file, order) = (file.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = turn(of_file(&file)).await.unwrap();
                order.lock().unwrap().push(n);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }));
            // Each asks before the next.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody writes while a turn is held"
        );
        // Another file has its own turn.
        drop(turn(of_file(&dir.path().join("b.db"))).await.unwrap());
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }
}

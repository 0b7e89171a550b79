//! Kiln's own apalis backend for MySQL/MariaDB against the real MariaDB:
//! every job pushed runs exactly once even with two competing workers, a
//! failing job is retried up to its attempt limit, and jobs held by a worker
//! that stopped heart-beating go back to the queue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Backend, TestDb};
use apalis::prelude::*;
use kiln_server::db::Database;
use kiln_server::db::connect::PoolSettings;
use kiln_server::jobs::mysql::{MySqlQueueConfig, MySqlStorage};
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Probe {
    n: u32,
    fail: bool,
}

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<HashMap<u32, u32>>>);

impl Seen {
    fn count(&self, n: u32) -> u32 {
        self.0.lock().unwrap().get(&n).copied().unwrap_or(0)
    }
    fn total(&self) -> u32 {
        self.0.lock().unwrap().values().sum()
    }
}

async fn probe(job: Probe, seen: Data<Seen>) -> Result<(), std::io::Error> {
    let seen: &Seen = &seen;
    *seen.0.lock().unwrap().entry(job.n).or_default() += 1;
    if job.fail {
        return Err(std::io::Error::other("asked to fail"));
    }
    Ok(())
}

async fn migrated_pool(db: &TestDb) -> (Database, MySqlPool) {
    let url = kiln_core::DatabaseUrl::parse(&db.url).unwrap();
    let settings = PoolSettings {
        max_connections: 10,
        connect_timeout: Duration::from_secs(5),
    };
    let database = Database::connect(&url, settings).await.unwrap();
    kiln_server::db::migrate::up(&database).await.unwrap();
    let kiln_server::db::Pool::MySql(pool) = database.pool.clone() else {
        unreachable!("a MySQL URL gives a MySQL pool")
    };
    (database, pool)
}

fn config(queue: &str) -> MySqlQueueConfig {
    MySqlQueueConfig {
        batch_size: 4,
        heartbeat_interval: Duration::from_secs(1),
        missed_heartbeats: 2,
        ..MySqlQueueConfig::new(queue)
    }
}

/// Runs `workers` competing workers until `done` says so or 30 s pass.
async fn run_workers(
    pool: &MySqlPool,
    queue: &str,
    workers: usize,
    seen: &Seen,
    done: impl Fn(&Seen) -> bool,
) {
    let token = tokio_util::sync::CancellationToken::new();
    let mut monitor = Monitor::new();
    for w in 0..workers {
        let (pool, seen, queue) = (pool.clone(), seen.clone(), queue.to_owned());
        monitor = monitor.register(move |restarts| {
            let backend = MySqlStorage::<Probe>::new(&pool, config(&queue))
                .poll_with_strategy(Strategy::new().interval(Duration::from_millis(50)));
            WorkerBuilder::new(format!("probe-{queue}-{w}-{restarts}"))
                .backend(backend)
                .concurrency(2)
                .parallelize(tokio::spawn)
                .data(seen.clone())
                .build(probe)
        });
    }
    let signal = token.clone();
    let running = tokio::spawn(
        monitor
            .shutdown_timeout(Duration::from_secs(5))
            .run_with_signal(async move {
                signal.cancelled().await;
                Ok(())
            }),
    );
    let started = Instant::now();
    while !done(seen) && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let any duplicate delivery show itself before stopping.
    tokio::time::sleep(Duration::from_millis(300)).await;
    token.cancel();
    running.await.unwrap().unwrap();
}

async fn job_status(pool: &MySqlPool, queue: &str) -> Vec<(String, i32)> {
    sqlx::query_as("SELECT status, attempts FROM kiln_jobs WHERE job_type = ? ORDER BY id")
        .bind(queue)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_job_runs_once_across_competing_workers() {
    let db = TestDb::create(Backend::MySql).await;
    let (database, pool) = migrated_pool(&db).await;
    let mut producer = MySqlStorage::<Probe>::new(&pool, config("once"));
    for n in 0..40 {
        producer.push(Probe { n, fail: false }).await.unwrap();
    }
    let seen = Seen::default();
    run_workers(&pool, "once", 2, &seen, |s| s.total() >= 40).await;
    for n in 0..40 {
        assert_eq!(seen.count(n), 1, "job {n} ran {} times", seen.count(n));
    }
    let statuses = job_status(&pool, "once").await;
    assert_eq!(statuses.len(), 40);
    assert!(
        statuses.iter().all(|(status, _)| status == "Done"),
        "{statuses:?}"
    );
    database.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_retried_up_to_its_limit() {
    let db = TestDb::create(Backend::MySql).await;
    let (database, pool) = migrated_pool(&db).await;
    let mut producer = MySqlStorage::<Probe>::new(&pool, config("retry"));
    let task = TaskBuilder::new(Probe { n: 7, fail: true })
        .max_attempts(3)
        .build();
    producer.push_task(task).await.unwrap();
    let seen = Seen::default();
    run_workers(&pool, "retry", 1, &seen, |s| s.count(7) >= 3).await;
    assert_eq!(seen.count(7), 3, "three attempts, then it stays failed");
    let statuses = job_status(&pool, "retry").await;
    assert_eq!(statuses, vec![("Failed".to_owned(), 3)]);
    database.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_silent_worker_go_back_to_the_queue() {
    let db = TestDb::create(Backend::MySql).await;
    let (database, pool) = migrated_pool(&db).await;
    let mut producer = MySqlStorage::<Probe>::new(&pool, config("orphan"));
    producer.push(Probe { n: 1, fail: false }).await.unwrap();
    // A worker that took the job and then died: registered long ago, never
    // heard from again.
    sqlx::query("INSERT INTO kiln_workers (id, worker_type, storage_name, last_seen) VALUES ('dead', 'orphan', 'test', 0)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE kiln_jobs SET status = 'Running', lock_by = 'dead', lock_at = 0 WHERE job_type = 'orphan'")
        .execute(&pool)
        .await
        .unwrap();
    let seen = Seen::default();
    run_workers(&pool, "orphan", 1, &seen, |s| s.count(1) >= 1).await;
    assert_eq!(seen.count(1), 1, "a live worker picked the orphaned job up");
    let statuses = job_status(&pool, "orphan").await;
    assert_eq!(statuses[0].0, "Done");
    database.close().await;
}

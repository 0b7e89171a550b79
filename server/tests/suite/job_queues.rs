//! Kiln's own apalis queues against the real databases: MySQL/MariaDB
//! (Kiln's tables and statements), PostgreSQL (apalis-postgres' tables
//! and statements, one round trip each) and SQLite (apalis-sqlite's, at
//! the write gate, a push of many jobs in few statements). On each, every job pushed runs
//! exactly once even with two competing workers, a failing job is retried
//! up to its attempt limit, and jobs held by a worker that stopped
//! heart-beating go back to the queue. On PostgreSQL an acknowledgement
//! finds its job by id, whatever the planner's statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Backend, TestDb};
use apalis::prelude::*;
use kiln_server::db::connect::PoolSettings;
use kiln_server::db::{Database, Pool};
use kiln_server::jobs::mysql::{MySqlQueueConfig, MySqlStorage};
use kiln_server::jobs::postgres::PgStorage;
use kiln_server::jobs::sqlite::SqliteQueue;
use serde::{Deserialize, Serialize};

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

/// The queue tables of `db`, migrated.
async fn migrated(db: &TestDb) -> Database {
    let url = kiln_core::DatabaseUrl::parse(&db.url).unwrap();
    let settings = PoolSettings {
        max_connections: 10,
        connect_timeout: Duration::from_secs(5),
    };
    let database = Database::connect(&url, settings).await.unwrap();
    kiln_server::db::migrate::up(&database).await.unwrap();
    kiln_server::jobs::setup(&database.pool).await.unwrap();
    database
}

fn mysql_config(queue: &str) -> MySqlQueueConfig {
    MySqlQueueConfig {
        batch_size: 4,
        heartbeat_interval: Duration::from_secs(1),
        missed_heartbeats: 2,
        ..MySqlQueueConfig::new(queue)
    }
}

fn postgres_config(queue: &str) -> apalis_postgres::Config {
    apalis_postgres::Config::default()
        .queue(queue)
        .batch_size(4)
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(2)
        // As Kiln's own (`jobs::storage`); the queue takes no locks anyway.
        .lock_tasks(false)
}

fn sqlite_config(queue: &str) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default()
        .queue(queue)
        .batch_size(4)
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(2)
        .lock_tasks(false)
}

/// Pushes `task` to `queue`.
async fn push(pool: &Pool, queue: &str, task: Task<Probe>) {
    match pool {
        Pool::MySql(pool) => MySqlStorage::<Probe>::new(pool, mysql_config(queue))
            .push_task(task)
            .await
            .unwrap(),
        Pool::Postgres(pool) => PgStorage::<Probe>::new(pool, postgres_config(queue))
            .push_task(task)
            .await
            .unwrap(),
        Pool::Sqlite(pool) => SqliteQueue::<Probe>::new(pool, sqlite_config(queue))
            .push_task(task)
            .await
            .unwrap(),
    }
}

/// Runs `workers` competing workers until `done` says so or 30 s pass.
async fn run_workers(
    pool: &Pool,
    queue: &str,
    workers: usize,
    seen: &Seen,
    done: impl Fn(&Seen) -> bool,
) {
    let token = tokio_util::sync::CancellationToken::new();
    let mut monitor = Monitor::new();
    let poll = || Strategy::new().interval(Duration::from_millis(50));
    for w in 0..workers {
        let (pool, seen, queue) = (pool.clone(), seen.clone(), queue.to_owned());
        let prefix = format!("probe-{queue}-{w}");
        let name = move |restarts| format!("{prefix}-{restarts}");
        monitor = match pool {
            Pool::MySql(pool) => monitor.register(move |restarts| {
                WorkerBuilder::new(name(restarts))
                    .backend(
                        MySqlStorage::<Probe>::new(&pool, mysql_config(&queue))
                            .poll_with_strategy(poll()),
                    )
                    .concurrency(2)
                    .parallelize(tokio::spawn)
                    .data(seen.clone())
                    .build(probe)
            }),
            Pool::Postgres(pool) => monitor.register(move |restarts| {
                WorkerBuilder::new(name(restarts))
                    .backend(
                        PgStorage::<Probe>::new(&pool, postgres_config(&queue))
                            .poll_with_strategy(poll()),
                    )
                    .concurrency(2)
                    .parallelize(tokio::spawn)
                    .data(seen.clone())
                    .build(probe)
            }),
            Pool::Sqlite(pool) => monitor.register(move |restarts| {
                WorkerBuilder::new(name(restarts))
                    .backend(
                        SqliteQueue::<Probe>::new(&pool, sqlite_config(&queue))
                            .poll_with_strategy(poll()),
                    )
                    .concurrency(2)
                    .parallelize(tokio::spawn)
                    .data(seen.clone())
                    .build(probe)
            }),
        };
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

/// Each job of `queue`: its status and attempts.
async fn job_status(pool: &Pool, queue: &str) -> Vec<(String, i32)> {
    match pool {
        Pool::MySql(pool) => {
            sqlx::query_as("SELECT status, attempts FROM kiln_jobs WHERE job_type = ? ORDER BY id")
                .bind(queue)
                .fetch_all(pool)
                .await
                .unwrap()
        }
        Pool::Postgres(pool) => sqlx::query_as(
            "SELECT status, attempts FROM apalis.jobs WHERE job_type = $1 ORDER BY id",
        )
        .bind(queue)
        .fetch_all(pool)
        .await
        .unwrap(),
        Pool::Sqlite(pool) => {
            sqlx::query_as("SELECT status, attempts FROM Jobs WHERE job_type = ? ORDER BY id")
                .bind(queue)
                .fetch_all(pool)
                .await
                .unwrap()
        }
    }
}

/// Hands every job of `queue` to a worker that took it and then died:
/// registered long ago, never heard from again.
async fn held_by_a_dead_worker(pool: &Pool, queue: &str) {
    let statements = match pool {
        Pool::MySql(_) => [
            "INSERT INTO kiln_workers (id, worker_type, storage_name, last_seen) \
             VALUES ('dead', ?, 'test', 0)",
            "UPDATE kiln_jobs SET status = 'Running', lock_by = 'dead', lock_at = 0 \
             WHERE job_type = ?",
        ],
        Pool::Postgres(_) => [
            "INSERT INTO apalis.workers (id, worker_type, storage_name, last_seen) \
             VALUES ('dead', $1, 'test', to_timestamp(0))",
            "UPDATE apalis.jobs SET status = 'Running', lock_by = 'dead', \
             lock_at = to_timestamp(0) WHERE job_type = $1",
        ],
        Pool::Sqlite(_) => [
            "INSERT INTO Workers (id, worker_type, storage_name, last_seen) \
             VALUES ('dead', ?, 'test', 0)",
            "UPDATE Jobs SET status = 'Running', lock_by = 'dead', lock_at = 0 \
             WHERE job_type = ?",
        ],
    };
    for sql in statements {
        match pool {
            Pool::MySql(pool) => {
                sqlx::query(sql).bind(queue).execute(pool).await.unwrap();
            }
            Pool::Postgres(pool) => {
                sqlx::query(sql).bind(queue).execute(pool).await.unwrap();
            }
            Pool::Sqlite(pool) => {
                sqlx::query(sql).bind(queue).execute(pool).await.unwrap();
            }
        }
    }
}

async fn each_job_runs_once_across_competing_workers(backend: Backend) {
    let db = TestDb::create(backend).await;
    let database = migrated(&db).await;
    let pool = &database.pool;
    for n in 0..40 {
        push(
            pool,
            "once",
            TaskBuilder::new(Probe { n, fail: false }).build(),
        )
        .await;
    }
    let seen = Seen::default();
    run_workers(pool, "once", 2, &seen, |s| s.total() >= 40).await;
    for n in 0..40 {
        assert_eq!(seen.count(n), 1, "job {n} ran {} times", seen.count(n));
    }
    let statuses = job_status(pool, "once").await;
    assert_eq!(statuses.len(), 40);
    assert!(
        statuses.iter().all(|(status, _)| status == "Done"),
        "{statuses:?}"
    );
    database.close().await;
}

async fn a_failing_job_is_retried_up_to_its_limit(backend: Backend) {
    let db = TestDb::create(backend).await;
    let database = migrated(&db).await;
    let pool = &database.pool;
    let task = TaskBuilder::new(Probe { n: 7, fail: true })
        .max_attempts(3)
        .build();
    push(pool, "retry", task).await;
    let seen = Seen::default();
    run_workers(pool, "retry", 1, &seen, |s| s.count(7) >= 3).await;
    assert_eq!(seen.count(7), 3, "three attempts, then it stays failed");
    let statuses = job_status(pool, "retry").await;
    assert_eq!(statuses, vec![("Failed".to_owned(), 3)]);
    database.close().await;
}

async fn jobs_of_a_silent_worker_go_back_to_the_queue(backend: Backend) {
    let db = TestDb::create(backend).await;
    let database = migrated(&db).await;
    let pool = &database.pool;
    push(
        pool,
        "orphan",
        TaskBuilder::new(Probe { n: 1, fail: false }).build(),
    )
    .await;
    held_by_a_dead_worker(pool, "orphan").await;
    let seen = Seen::default();
    run_workers(pool, "orphan", 1, &seen, |s| s.count(1) >= 1).await;
    assert_eq!(seen.count(1), 1, "a live worker picked the orphaned job up");
    let statuses = job_status(pool, "orphan").await;
    assert_eq!(statuses[0].0, "Done");
    database.close().await;
}

on_all_backends!(each_job_runs_once_across_competing_workers);
on_all_backends!(a_failing_job_is_retried_up_to_its_limit);
on_all_backends!(jobs_of_a_silent_worker_go_back_to_the_queue);

/// The plan of Kiln's acknowledgement on PostgreSQL, as `mode` (a
/// `plan_cache_mode`) makes it for `payload` and worker `w`.
async fn ack_plan(pool: &sqlx::PgPool, mode: &str, payload: &str) -> String {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET plan_cache_mode = {mode}; PREPARE kiln_ack(text, text) AS {ACK}",
        ACK = kiln_server::jobs::postgres_ack::ACK
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    let explain = format!(
        "EXPLAIN EXECUTE kiln_ack('{}', 'w')",
        payload.replace('\'', "''")
    );
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql("DEALLOCATE kiln_ack; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await
        .unwrap();
    lines.join("\n")
}

/// Kiln's acknowledgement on PostgreSQL finds its job by id, however many
/// finished jobs the worker still marks, with no statistics (a new table,
/// or a worker newer than the last `ANALYZE`) and with them.
/// apalis-postgres' own statement was planned as a scan of every job the
/// worker marks without statistics, and of the whole table with them on
/// a table of a few thousand jobs, so an acknowledgement cost more as the
/// queue's history grew. Only the worker's own jobs are marked done, each
/// with its attempt and result.
#[tokio::test]
async fn postgres_acknowledgements_find_jobs_by_id() {
    let db = TestDb::create(Backend::Postgres).await;
    let database = migrated(&db).await;
    let Pool::Postgres(pool) = &database.pool else {
        unreachable!("a PostgreSQL database")
    };
    for sql in [
        "ALTER TABLE apalis.jobs SET (autovacuum_enabled = off)",
        "INSERT INTO apalis.workers (id, worker_type, storage_name, last_seen) \
         VALUES ('w', 'q', 'test', NOW()), ('other', 'q', 'test', NOW())",
        // What a worker that has run a while leaves: its mark on every
        // job it finished.
        "INSERT INTO apalis.jobs (job, id, job_type, status, lock_by, lock_at, attempts) \
         SELECT '\\x00', 'old' || g, 'q', 'Done', 'w', NOW(), 1 FROM generate_series(1, 20000) AS g",
        "INSERT INTO apalis.jobs (job, id, job_type, status, lock_by, lock_at, attempts) \
         VALUES ('\\x00', 'mine', 'q', 'Running', 'w', NOW(), 0), \
                ('\\x00', 'theirs', 'q', 'Running', 'other', NOW(), 0)",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    let payloads: Vec<apalis_postgres::queries::ResultPayload> = ["theirs", "mine"]
        .iter()
        .map(|id| {
            serde_json::from_value(serde_json::json!({
                "task_id": id, "attempt": 1, "status": "Done", "result": {"Ok": null}
            }))
            .unwrap()
        })
        .collect();
    let refs: Vec<&apalis_postgres::queries::ResultPayload> = payloads.iter().collect();
    let one = serde_json::to_string(refs[1]).unwrap();

    for statistics in ["none", "analyzed"] {
        if statistics == "analyzed" {
            sqlx::query("ANALYZE apalis.jobs")
                .execute(pool)
                .await
                .unwrap();
        }
        for mode in ["force_custom_plan", "force_generic_plan"] {
            let plan = ack_plan(pool, mode, &one).await;
            let case = format!("{statistics}, {mode}");
            assert!(
                plan.contains("Index Scan using jobs_pkey"),
                "{case}: {plan}"
            );
            for scan in ["idx_apalis_jobs_lock_by", "lidx", "Seq Scan", "Bitmap"] {
                assert!(!plan.contains(scan), "{case} uses {scan}: {plan}");
            }
        }
    }

    let mut conn = pool.acquire().await.unwrap();
    let done = kiln_server::jobs::postgres_ack::acknowledge(&mut conn, &refs, "w")
        .await
        .unwrap();
    assert_eq!(done, 1);
    let rows: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT id, status, attempts, last_result::text FROM apalis.jobs \
         WHERE id IN ('mine', 'theirs') ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "mine".into(),
                "Done".into(),
                1,
                Some(r#"{"Ok": null}"#.into())
            ),
            ("theirs".into(), "Running".into(), 0, None),
        ]
    );
}

/// SQLite writes a push of many jobs in few statements: 2,500 jobs (three
/// statements, one transaction) land with their own values, and pushed
/// again under the same keys, none of them twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pushes_many_jobs_in_few_statements() {
    let db = TestDb::create(Backend::Sqlite).await;
    let database = migrated(&db).await;
    let Pool::Sqlite(pool) = &database.pool else {
        unreachable!("a SQLite database")
    };
    let tasks = || {
        (0..2500u32).map(|n| {
            TaskBuilder::new(Probe { n, fail: false })
                .idempotency_key(format!("key-{n}"))
                .max_attempts(3)
                .run_at_timestamp(1_000 + u64::from(n))
                .build()
        })
    };
    let mut queue = SqliteQueue::<Probe>::new(pool, sqlite_config("many"));
    queue
        .push_all(futures::stream::iter(tasks()))
        .await
        .unwrap();
    queue
        .push_all(futures::stream::iter(tasks()))
        .await
        .unwrap();
    let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT CAST(job AS TEXT), max_attempts, run_at, idempotency_key FROM Jobs \
         WHERE job_type = 'many' ORDER BY run_at",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2500);
    for (n, (job, max_attempts, run_at, key)) in rows.iter().enumerate() {
        let probe: Probe = serde_json::from_str(job).unwrap();
        assert_eq!(usize::try_from(probe.n).unwrap(), n);
        assert_eq!(*max_attempts, 3);
        assert_eq!(*run_at, 1_000 + i64::try_from(n).unwrap());
        assert_eq!(key, &format!("key-{n}"));
    }
    database.close().await;
}

//! Starts the worker pool: sets up apalis' tables on the shared pool,
//! registers the cleanup worker (servers only) and a step worker per queue
//! this process serves under one apalis `Monitor`, and stops it when the
//! shutdown token fires, letting running jobs finish.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::cleanup::{self, CLEANUP_EVERY, JobContext};
use super::mysql::MySqlStorage;
use super::notifier::Notifier;
use super::steps::{self, StepJob};
use super::storage::{mysql_config, postgres_config, sqlite_config};
use super::{JobQueue, JobsError};
use crate::db::{Database, Pool};
use crate::engine::Engine;

/// Fallback poll: catches jobs pushed by other processes on SQLite and
/// MySQL (no LISTEN/NOTIFY), delayed retries, and any notification
/// PostgreSQL's listener missed.
const POLL_FALLBACK: Duration = Duration::from_secs(2);
/// PostgreSQL's fallback is shorter: about 1-3 % of its pickups miss every
/// wake-up (cause inside apalis-postgres not found yet) and wait for it;
/// a fetch there is a cheap query.
const POSTGRES_POLL_FALLBACK: Duration = Duration::from_millis(250);

/// Sets up apalis' tables (SQLite and PostgreSQL; MySQL's come from the
/// migrations crate). Idempotent.
pub async fn setup(pool: &Pool) -> Result<(), JobsError> {
    match pool {
        // Only the migrations: `setup` would also change PRAGMAs (e.g.
        // synchronous=OFF) on a connection of the shared pool.
        Pool::Sqlite(pool) => SqliteStorage::<()>::migrations()
            .run(pool)
            .await
            .map_err(|e| JobsError::Setup(e.into())),
        Pool::Postgres(pool) => PostgresStorage::<()>::setup(pool)
            .await
            .map_err(|e| JobsError::Setup(e.into())),
        Pool::MySql(_) => Ok(()),
    }
}

/// Wake-ups: the fallback poll first (a stream that ends would otherwise
/// shadow it), then this process's own pushes.
fn woken(notifier: &Notifier, fallback: Duration) -> Strategy {
    Strategy::new()
        .interval(fallback)
        .stream(notifier.subscribe())
}

/// Registers a worker for `queue` running `handler` with `data`, on the
/// backend of `pool` (the builder's types differ per backend, so a function
/// would need their full signatures).
macro_rules! register {
    ($monitor:expr, $pool:expr, $notifier:expr, $name:expr, $queue:expr, $concurrency:expr, $args:ty, $data:expr, $handler:expr) => {{
        let name = $name;
        let queue: String = $queue;
        let concurrency: usize = $concurrency;
        let data = $data;
        let notifier: Notifier = $notifier.clone();
        match $pool.clone() {
            Pool::Sqlite(pool) => $monitor.register(move |restarts| {
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        SqliteStorage::<$args>::new(&pool)
                            .with_config(sqlite_config(&queue, concurrency))
                            .poll_with_strategy(woken(&notifier, POLL_FALLBACK)),
                    )
                    .concurrency(concurrency)
                    .parallelize(tokio::spawn)
                    .data(data.clone())
                    .build($handler)
            }),
            Pool::Postgres(pool) => $monitor.register(move |restarts| {
                // LISTEN/NOTIFY wakes workers on every machine; this
                // process's own pushes also wake its workers directly, and
                // the fallback poll bounds the rest.
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        PostgresStorage::<$args>::new(&pool)
                            .with_config(postgres_config(&queue, concurrency))
                            .poll_with_strategy(
                                woken(&notifier, POSTGRES_POLL_FALLBACK)
                                    .stream(Pubsub::new(pool.clone(), queue.clone())),
                            ),
                    )
                    .concurrency(concurrency)
                    .parallelize(tokio::spawn)
                    .data(data.clone())
                    .build($handler)
            }),
            Pool::MySql(pool) => $monitor.register(move |restarts| {
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        MySqlStorage::<$args>::new(&pool, mysql_config(&queue, concurrency))
                            .poll_with_strategy(woken(&notifier, POLL_FALLBACK)),
                    )
                    .concurrency(concurrency)
                    .parallelize(tokio::spawn)
                    .data(data.clone())
                    .build($handler)
            }),
        }
    }};
}

/// What this process runs.
pub struct PoolPlan {
    pub concurrency: usize,
    /// Step queues to serve (see `kiln_core::engine::queues_served`).
    pub step_queues: Vec<String>,
    /// Servers run the periodic cleanup; remote workers do not.
    pub cleanup: bool,
}

/// The running pool; `wait` returns once every worker has stopped.
pub struct Workers {
    monitor: JoinHandle<()>,
    ticker: Option<JoinHandle<()>>,
}

impl Workers {
    pub async fn wait(self) {
        for handle in self.ticker.into_iter().chain([self.monitor]) {
            if let Err(error) = handle.await {
                tracing::error!(%error, "job worker task failed");
            }
        }
    }
}

/// Starts the workers of `plan` on `db`, pulling from `queue`'s tables.
pub fn start(
    db: &Database,
    queue: &JobQueue,
    engine: Arc<Engine>,
    plan: PoolPlan,
    shutdown: CancellationToken,
    grace: Duration,
) -> Workers {
    let context = JobContext {
        db: db.conn.clone(),
    };
    // Unique per process run: apalis refuses a worker name seen recently.
    let instance = uuid::Uuid::now_v7().simple().to_string();
    let notifier = queue.notifier();
    let mut monitor = Monitor::new();
    if plan.cleanup {
        monitor = register!(
            monitor,
            db.pool,
            notifier,
            format!("cleanup-{instance}"),
            cleanup::QUEUE.to_owned(),
            1,
            cleanup::Cleanup,
            context.clone(),
            cleanup::run
        );
    }
    for (i, step_queue) in plan.step_queues.iter().enumerate() {
        monitor = register!(
            monitor,
            db.pool,
            notifier,
            format!("steps{i}-{instance}"),
            step_queue.clone(),
            plan.concurrency.max(1),
            StepJob,
            engine.clone(),
            steps::run
        );
    }

    let signal = shutdown.clone();
    let monitor = monitor
        .should_restart(|worker, error| {
            tracing::warn!(worker = worker.name(), %error, "job worker stopped; restarting");
            !worker.is_shutting_down() && worker.restarts() < 100
        })
        .shutdown_timeout(grace)
        .run_with_signal(async move {
            signal.cancelled().await;
            Ok(())
        });
    let monitor = tokio::spawn(async move {
        if let Err(error) = monitor.await {
            tracing::error!(%error, "job monitor failed");
        }
    });
    let ticker = plan
        .cleanup
        .then(|| tokio::spawn(push_cleanup_periodically(queue.clone(), shutdown)));
    Workers { monitor, ticker }
}

async fn push_cleanup_periodically(queue: JobQueue, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(CLEANUP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {
                if let Err(error) = queue.push_cleanup().await {
                    tracing::warn!(%error, "could not enqueue cleanup");
                }
            }
        }
    }
}

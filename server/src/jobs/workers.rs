//! Starts the in-process worker pool: sets up apalis' tables on the shared
//! pool, registers a worker per job type under one apalis `Monitor`, and
//! stops it when the shutdown token fires, letting running jobs finish.

use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::{Config as PostgresConfig, PostgresStorage, Pubsub};
use apalis_sqlite::{Config as SqliteConfig, SqliteStorage};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::cleanup::{self, CLEANUP_EVERY, JobContext};
use super::mysql::{MySqlQueueConfig, MySqlStorage};
use super::notifier::Notifier;
use super::queue::CleanupStorage;
use super::{JobQueue, JobsError};
use crate::db::{Database, Pool};

/// Fallback poll: catches jobs pushed by other processes on SQLite and
/// MySQL (no LISTEN/NOTIFY) and any notification PostgreSQL's listener missed.
const POLL_FALLBACK: Duration = Duration::from_secs(2);
/// PostgreSQL's fallback is shorter: about 1-3 % of its pickups miss every
/// wake-up (cause inside apalis-postgres not found yet) and wait for it;
/// a fetch there is a cheap query.
const POSTGRES_POLL_FALLBACK: Duration = Duration::from_millis(250);
/// How often workers prove they are alive; a worker silent for
/// `HEARTBEAT * MISSED_HEARTBEATS` has its jobs handed to others.
const HEARTBEAT: Duration = Duration::from_secs(10);
const MISSED_HEARTBEATS: usize = 3;

/// A monitor running the cleanup worker on `$backend`, rebuilt on restart
/// (the builder's types differ per backend, so a function would need their
/// full signatures).
macro_rules! cleanup_monitor {
    ($instance:ident, $concurrency:ident, $context:ident, $backend:expr) => {
        Monitor::new().register(move |restarts| {
            WorkerBuilder::new(format!("cleanup-{}-{restarts}", $instance))
                .backend($backend)
                .concurrency($concurrency)
                .parallelize(tokio::spawn)
                .data($context.clone())
                .build(cleanup::run)
        })
    };
}

/// Wake-ups: the fallback poll first (a stream that ends would otherwise
/// shadow it), then this process's own pushes.
fn woken(notifier: &Notifier, fallback: Duration) -> Strategy {
    Strategy::new()
        .interval(fallback)
        .stream(notifier.subscribe())
}

/// The running pool; `wait` returns once every worker has stopped.
pub struct Workers {
    monitor: JoinHandle<()>,
    ticker: JoinHandle<()>,
}

impl Workers {
    pub async fn wait(self) {
        for handle in [self.ticker, self.monitor] {
            if let Err(error) = handle.await {
                tracing::error!(%error, "job worker task failed");
            }
        }
    }
}

/// Sets up the queue on `db` and starts `concurrency` job slots.
pub async fn start(
    db: &Database,
    concurrency: usize,
    shutdown: CancellationToken,
    grace: Duration,
) -> Result<(JobQueue, Workers), JobsError> {
    let context = JobContext {
        db: db.conn.clone(),
    };
    // Unique per process run: apalis refuses a worker name seen recently.
    let instance = uuid::Uuid::now_v7().simple().to_string();
    // Wakes this process's workers the moment it pushes a job.
    let notifier = Notifier::default();
    let (queue, monitor): (JobQueue, Monitor) = match &db.pool {
        Pool::Sqlite(pool) => {
            // Only the migrations: `setup` would also change PRAGMAs (e.g.
            // synchronous=OFF) on a connection of the shared pool.
            SqliteStorage::<()>::migrations()
                .run(pool)
                .await
                .map_err(|e| JobsError::Setup(e.into()))?;
            let config = SqliteConfig::default()
                .queue(cleanup::QUEUE)
                .batch_size(concurrency.max(1))
                .heartbeat_interval(HEARTBEAT)
                .missed_heartbeats(MISSED_HEARTBEATS);
            let queue = JobQueue::new(
                CleanupStorage::Sqlite(SqliteStorage::new(pool).with_config(config.clone())),
                notifier.clone(),
            );
            let pool = pool.clone();
            let monitor = cleanup_monitor!(instance, concurrency, context, {
                SqliteStorage::new(&pool)
                    .with_config(config.clone())
                    .poll_with_strategy(woken(&notifier, POLL_FALLBACK))
            });
            (queue, monitor)
        }
        Pool::Postgres(pool) => {
            PostgresStorage::<()>::setup(pool)
                .await
                .map_err(|e| JobsError::Setup(e.into()))?;
            let config = PostgresConfig::default()
                .queue(cleanup::QUEUE)
                .batch_size(concurrency.max(1))
                .heartbeat_interval(HEARTBEAT)
                .missed_heartbeats(MISSED_HEARTBEATS);
            let queue = JobQueue::new(
                CleanupStorage::Postgres(PostgresStorage::new(pool).with_config(config.clone())),
                notifier.clone(),
            );
            let pool = pool.clone();
            // LISTEN/NOTIFY wakes workers on every machine, but measured
            // alone it let some jobs wait for the 10 s heartbeat (bench/
            // job_pickup: p99 9.5 s); this process's own pushes also wake
            // its workers directly, and the fallback poll bounds the rest.
            let monitor = cleanup_monitor!(instance, concurrency, context, {
                PostgresStorage::new(&pool)
                    .with_config(config.clone())
                    .poll_with_strategy(
                        woken(&notifier, POSTGRES_POLL_FALLBACK)
                            .stream(Pubsub::new(pool.clone(), cleanup::QUEUE.to_owned())),
                    )
            });
            (queue, monitor)
        }
        Pool::MySql(pool) => {
            // The tables come from the migrations crate (MySQL only).
            let config = MySqlQueueConfig {
                batch_size: concurrency.max(1),
                heartbeat_interval: HEARTBEAT,
                missed_heartbeats: u32::try_from(MISSED_HEARTBEATS).unwrap_or(3),
                ..MySqlQueueConfig::new(cleanup::QUEUE)
            };
            let queue = JobQueue::new(
                CleanupStorage::MySql(MySqlStorage::new(pool, config.clone())),
                notifier.clone(),
            );
            let pool = pool.clone();
            let monitor = cleanup_monitor!(instance, concurrency, context, {
                MySqlStorage::new(&pool, config.clone())
                    .poll_with_strategy(woken(&notifier, POLL_FALLBACK))
            });
            (queue, monitor)
        }
    };

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
    let ticker = tokio::spawn(push_cleanup_periodically(queue.clone(), shutdown));
    Ok((queue, Workers { monitor, ticker }))
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

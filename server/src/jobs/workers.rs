//! Starts the worker pool: sets up apalis' tables on the shared pool, and
//! runs the cleanup worker (servers only) and a step worker per queue this
//! process serves, each under its own supervisor: apalis restarts a failed
//! worker a few times at once, then the supervisor starts it again after a
//! growing pause (up to half a minute), for as long as the process runs. A
//! database outage of any length therefore ends with the pool working
//! again; meanwhile [`PoolHealth`] says it is not (and `/readyz` is 503).
//! The shutdown token stops it, letting running jobs finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apalis::prelude::*;
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::bookkeeping;
use super::cleanup::{self, CLEANUP_EVERY, JobContext};
use super::mysql::MySqlStorage;
use super::notifier::Notifier;
use super::postgres::PgStorage;
use super::sqlite::SqliteQueue;
use super::steps::{self, StepJob, StepRunner};
use super::storage::{mysql_config, postgres_config, sqlite_config};
use super::wakeups::{WakeCount, merged, source};
use super::{JobQueue, JobsError};
use crate::db::{Database, Pool};

/// Fallback poll: catches jobs pushed by other processes on SQLite and
/// MySQL (no LISTEN/NOTIFY), delayed retries, and any notification
/// PostgreSQL's listener missed while it was not listening.
const POLL_FALLBACK: Duration = Duration::from_secs(2);
/// How long PostgreSQL's listener waits before it listens again, once it
/// has ended.
const RELISTEN_PAUSE: Duration = Duration::from_secs(1);
/// PostgreSQL's fallback is shorter; a wake-up used up by a fetch already
/// in flight makes that fetch run again (see `wakeups`), not wait for this.
const POSTGRES_POLL_FALLBACK: Duration = Duration::from_millis(500);

/// Quick restarts apalis makes before a worker's supervisor pauses.
const QUICK_RESTARTS: usize = 3;
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// A worker that ran this long before failing starts over from the first
/// pause.
const STEADY: Duration = Duration::from_secs(60);

/// How many of this process's workers are paused after failures. Cheap to
/// clone; `/readyz` asks it.
#[derive(Debug, Clone, Default)]
pub struct PoolHealth(Arc<AtomicUsize>);

impl PoolHealth {
    pub fn is_running(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 0
    }
}

/// Sets up apalis' tables (SQLite and PostgreSQL; MySQL's come from the
/// migrations crate). Idempotent.
pub async fn setup(pool: &Pool) -> Result<(), JobsError> {
    match pool {
        // Only the migrations: `setup` would also change PRAGMAs (e.g.
        // synchronous=OFF) on a connection of the shared pool.
        Pool::Sqlite(pool) => {
            SqliteStorage::<()>::migrations()
                .run(pool)
                .await
                .map_err(|e| JobsError::Setup(e.into()))?;
            // Only faster plans: the queue works without them.
            if let Err(error) = super::sqlite_plans::steer(pool).await {
                tracing::warn!(%error, "could not write the job queue's planner statistics");
            }
            Ok(())
        }
        Pool::Postgres(pool) => PostgresStorage::<()>::setup(pool)
            .await
            .map_err(|e| JobsError::Setup(e.into())),
        Pool::MySql(_) => Ok(()),
    }
}

/// Wake-ups on SQLite and MySQL: this process's own pushes, counted in
/// `wakes`, and the fallback poll, as one stream (see `wakeups`). On SQLite
/// an echo's fetch is a write; it waits its turn at the file's write gate
/// like every write of Kiln's (see `db::write_gate`).
fn woken(notifier: &Notifier, queue: &str, wakes: &WakeCount) -> Strategy {
    let pushes = source(notifier.subscribe(queue, wakes));
    Strategy::new().stream(merged(vec![pushes], POLL_FALLBACK))
}

/// PostgreSQL's wake-ups, counted in `wakes`: this process's pushes, other
/// machines' (LISTEN/NOTIFY) and the fallback poll, as one stream (see
/// `wakeups`).
fn woken_postgres(
    notifier: &Notifier,
    pool: &sqlx::PgPool,
    queue: &str,
    wakes: &WakeCount,
) -> Strategy {
    let pushes = source(notifier.subscribe(queue, wakes));
    let count = wakes.clone();
    let notified = source(
        notifications(pool.clone(), queue.to_owned(), RELISTEN_PAUSE).map(move |()| count.bump()),
    );
    Strategy::new().stream(merged(vec![pushes, notified], POSTGRES_POLL_FALLBACK))
}

/// Jobs pushed to `queue` by any process, as LISTEN/NOTIFY tells them.
/// apalis-postgres' listener ends for good when its connection cannot be
/// made (the database is away when it starts, or when it has to start
/// again); this one listens again after `pause`, for as long as it is
/// polled, so a worker that lived through an outage hears other machines'
/// pushes again instead of waiting for the fallback poll from then on.
/// Only notifications come out, not the listener's errors.
fn notifications(
    pool: sqlx::PgPool,
    queue: String,
    pause: Duration,
) -> impl futures::Stream<Item = ()> + Send + Sync + 'static {
    futures::stream::unfold(false, move |again| {
        let (pool, queue) = (pool.clone(), queue.clone());
        async move {
            if again {
                tokio::time::sleep(pause).await;
            }
            Some((Pubsub::new(pool, queue), true))
        }
    })
    .flatten()
    .filter_map(|notified| std::future::ready(notified.ok().map(|_| ())))
}

/// Registers a worker for `queue` running `handler` with `data`, up to
/// `concurrency` jobs at once and fetched up to `batch` at a time, on the
/// backend of `pool` (the builder's types differ per backend, so a function
/// would need their full signatures).
macro_rules! register {
    ($monitor:expr, $pool:expr, $notifier:expr, $name:expr, $queue:expr, ($concurrency:expr, $batch:expr), $args:ty, $data:expr, $handler:expr) => {{
        let name = $name;
        let queue: String = $queue;
        let concurrency: usize = $concurrency;
        let batch: usize = $batch;
        let data = $data;
        let notifier: Notifier = $notifier.clone();
        match $pool.clone() {
            Pool::Sqlite(pool) => $monitor.register(move |restarts| {
                let wakes = WakeCount::default();
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        SqliteQueue::<$args>::woken_by(&pool, sqlite_config(&queue, batch), &wakes)
                            .poll_with_strategy(woken(&notifier, &queue, &wakes)),
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
                let wakes = WakeCount::default();
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        PgStorage::<$args>::woken_by(&pool, postgres_config(&queue, batch), &wakes)
                            .poll_with_strategy(woken_postgres(&notifier, &pool, &queue, &wakes)),
                    )
                    .concurrency(concurrency)
                    .parallelize(tokio::spawn)
                    .data(data.clone())
                    .build($handler)
            }),
            Pool::MySql(pool) => $monitor.register(move |restarts| {
                let wakes = WakeCount::default();
                WorkerBuilder::new(format!("{name}-{restarts}"))
                    .backend(
                        MySqlStorage::<$args>::woken_by(&pool, mysql_config(&queue, batch), &wakes)
                            .poll_with_strategy(woken(&notifier, &queue, &wakes)),
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
    /// Step jobs each step queue's worker holds at once (how many of them
    /// run is the engine's business: see `engine::slots`).
    pub concurrency: usize,
    /// Most step jobs one fetch takes (the rest wait in the worker, where
    /// no other process can take them).
    pub batch: usize,
    /// Step queues to serve (see `kiln_core::engine::queues_served`).
    pub step_queues: Vec<String>,
    /// Servers run the periodic cleanup; remote workers do not.
    pub cleanup: bool,
}

/// The running pool; `wait` returns once every worker has stopped.
pub struct Workers {
    supervisors: Vec<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    pub health: PoolHealth,
}

impl Workers {
    pub async fn wait(self) {
        for handle in self.ticker.into_iter().chain(self.supervisors) {
            if let Err(error) = handle.await {
                tracing::error!(%error, "job worker task failed");
            }
        }
    }
}

/// Runs the one worker `build` registers until shutdown, starting it again
/// after a pause whenever it stops (apalis gives up after
/// [`QUICK_RESTARTS`]). `build` gets the generation, for a worker name
/// apalis has not seen (it refuses one seen recently).
async fn supervise(
    name: String,
    build: impl Fn(u32) -> Monitor + Send + 'static,
    health: PoolHealth,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let mut pause = FIRST_PAUSE;
    for generation in 0.. {
        let began = Instant::now();
        let signal = shutdown.clone();
        let ended = build(generation)
            .should_restart(|worker, error| {
                tracing::warn!(worker = worker.name(), %error, "job worker stopped; restarting");
                !worker.is_shutting_down() && worker.restarts() < QUICK_RESTARTS
            })
            .shutdown_timeout(grace)
            .run_with_signal(async move {
                signal.cancelled().await;
                Ok(())
            })
            .await;
        if shutdown.is_cancelled() {
            return;
        }
        health.0.fetch_add(1, Ordering::Relaxed);
        if began.elapsed() >= STEADY {
            pause = FIRST_PAUSE;
        }
        match ended {
            Ok(()) => {
                tracing::error!(worker = %name, ?pause, "job worker ended; starting it again")
            }
            Err(error) => {
                tracing::error!(worker = %name, %error, ?pause, "job worker failed; starting it again")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
        health.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Starts the workers of `plan` on `db`, pulling from `queue`'s tables
/// (through `bookkeeping`'s connections).
pub fn start(
    db: &Database,
    queue: &JobQueue,
    runner: StepRunner,
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
    let health = PoolHealth::default();
    let pool =
        bookkeeping::pool_for_workers(&db.pool, plan.step_queues.len() + usize::from(plan.cleanup));
    let mut supervisors = Vec::new();
    let mut spawn = |name: String, build: Box<dyn Fn(u32) -> Monitor + Send>| {
        supervisors.push(tokio::spawn(supervise(
            name,
            build,
            health.clone(),
            shutdown.clone(),
            grace,
        )));
    };
    if plan.cleanup {
        let (pool, notifier, name) = (
            pool.clone(),
            notifier.clone(),
            format!("cleanup-{instance}"),
        );
        spawn(
            name.clone(),
            Box::new(move |generation| {
                register!(
                    Monitor::new(),
                    pool,
                    notifier,
                    format!("{name}-g{generation}"),
                    cleanup::QUEUE.to_owned(),
                    (1, 1),
                    cleanup::Cleanup,
                    context.clone(),
                    cleanup::run
                )
            }),
        );
    }
    for (i, step_queue) in plan.step_queues.iter().enumerate() {
        let (pool, notifier, runner) = (pool.clone(), notifier.clone(), runner.clone());
        let (name, step_queue) = (format!("steps{i}-{instance}"), step_queue.clone());
        let (concurrency, batch) = (plan.concurrency.max(1), plan.batch.max(1));
        spawn(
            name.clone(),
            Box::new(move |generation| {
                register!(
                    Monitor::new(),
                    pool,
                    notifier,
                    format!("{name}-g{generation}"),
                    step_queue.clone(),
                    (concurrency, batch),
                    StepJob,
                    runner.clone(),
                    steps::run
                )
            }),
        );
    }
    let ticker = plan
        .cleanup
        .then(|| tokio::spawn(push_cleanup_periodically(queue.clone(), shutdown)));
    Workers {
        supervisors,
        ticker,
        health,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener whose database hangs up on it keeps connecting again,
    /// a pause apart, instead of ending after the first failure (what
    /// apalis-postgres' listener alone does); it yields nothing meanwhile.
    #[tokio::test]
    async fn the_postgres_listener_listens_again_after_it_ends() {
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = attempts.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = server.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy(&format!("postgres://kiln@127.0.0.1:{port}/kiln"))
            .unwrap();
        let mut stream = Box::pin(notifications(
            pool,
            "q".to_owned(),
            Duration::from_millis(20),
        ));
        let polled = tokio::time::timeout(Duration::from_secs(1), stream.next()).await;
        assert!(polled.is_err(), "the stream ended or yielded: {polled:?}");
        let made = attempts.load(Ordering::SeqCst);
        assert!(made >= 3, "connected {made} times in 1 s");
    }
}

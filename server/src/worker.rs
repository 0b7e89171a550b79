//! `kiln worker`: step workers only, for more machines. It joins the
//! server's database (PostgreSQL or MySQL/MariaDB; a SQLite file works on
//! the same machine), serves the step queues its labels allow, renews its
//! steps' leases and sweeps for lost ones like every Kiln process. It needs
//! the server's `secrets_key` to open secrets, and a log store the server
//! can read (the same data directory, or an object store).

use std::sync::Arc;
use std::time::Duration;

use kiln_core::engine::queues_served;
use tokio_util::sync::CancellationToken;

use crate::background;
use crate::config::Config;
use crate::db::{self, DbError};
use crate::engine::Engine;
use crate::jobs::{self, JobQueue, PoolPlan, notifier::Notifier};
use crate::pipelines::statuses::Reporter;
use crate::serve::{ServeError, open_database};

/// Runs until `shutdown` fires, then lets running steps finish (bounded by
/// `shutdown_timeout_seconds`; what is cut off is retried elsewhere once
/// its lease runs out).
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    crate::http::metrics::Metrics::global();
    let database = open_database(&config).await?;
    db::migrate::up(&database).await.map_err(DbError::from)?;
    jobs::setup(&database.pool).await?;
    let queue = JobQueue::new(&database.pool, Notifier::default());
    let engine = Arc::new(Engine::from_config(
        &config,
        database.conn.clone(),
        queue.clone(),
    )?);
    crate::serve::check_sandbox(&engine, true).await?;
    let labels = config.worker_labels();
    let plan = PoolPlan {
        concurrency: engine.slots.jobs_in_flight(),
        batch: engine.slots.count(),
        step_queues: queues_served(&labels),
        cleanup: false,
    };
    tracing::info!(
        worker = %engine.settings.worker_name,
        concurrency = engine.slots.count(),
        labels = %labels.join(","),
        database = %database.url,
        "worker started"
    );
    let grace = Duration::from_secs(config.shutdown_timeout_seconds);
    // Run pages are linked by the public address: without one, the
    // servers send the statuses.
    let statuses = match &config.public_url {
        Some(url) => Some(Reporter::from_config(&config, Some(url.clone()))?),
        None => None,
    };
    let background = background::start(
        &database,
        &queue,
        engine.clone(),
        plan,
        shutdown.clone(),
        grace,
        background::Optional {
            statuses,
            scheduler: false,
        },
    );
    shutdown.cancelled().await;
    background.drain(grace).await;
    database.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

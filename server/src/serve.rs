//! `kiln serve`: opens and migrates the database, starts the worker pool,
//! binds the listener and serves until shutdown; then drains requests and
//! jobs (bounded by `shutdown_timeout_seconds`) and closes the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kiln_core::engine::queues_served;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounts::throttle::LoginThrottle;
use crate::background;
use crate::config::{Config, ConfigError};
use crate::db::connect::PoolSettings;
use crate::db::{self, Database, DbError};
use crate::engine::Engine;
use crate::http::quota::Quotas;
use crate::http::state::{AppState, Shared};
use crate::http::{self, metrics::Metrics};
use crate::jobs::{self, JobsError};
use crate::pipelines::statuses::Reporter;

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error("server task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Service(#[from] crate::ServiceError),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Sandbox(#[from] crate::engine::sandbox::SandboxError),
}

/// A running server; tests start it on port 0 and read `addr`.
pub struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
    jobs: jobs::JobQueue,
    database: Database,
}

/// Opens the configured database (creating the data directory first).
pub async fn open_database(config: &Config) -> Result<Database, ServeError> {
    prepare_data_dir(config).map_err(|source| ServeError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let url = config.database_url().map_err(ConfigError::from)?;
    let settings = PoolSettings {
        max_connections: config.database_max_connections,
        connect_timeout: Duration::from_secs(config.database_connect_timeout_seconds),
    };
    Ok(Database::connect(&url, settings).await?)
}

/// Creates the data directory, and the steps' directory inside it. Both
/// may be passed through but not listed by others (0711): when Kiln runs as
/// root the sandbox starts as `nobody`, which must reach its own step
/// directory; what is inside (database, key, logs) has modes of its own.
fn prepare_data_dir(config: &Config) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let data = &config.data_dir;
    if !data.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(data)?;
    }
    let work = data.join("work");
    if !work.exists() {
        std::fs::DirBuilder::new().mode(0o711).create(&work)?;
    }
    if config.step_sandbox == crate::config::StepSandbox::Bwrap && nix::unistd::geteuid().is_root()
    {
        for dir in [data, &work] {
            let mut permissions = std::fs::metadata(dir)?.permissions();
            if permissions.mode() & 0o001 == 0 {
                permissions.set_mode((permissions.mode() | 0o001) & 0o7771);
                std::fs::set_permissions(dir, permissions)?;
            }
        }
    }
    Ok(())
}

/// Checks the step sandbox when this process runs steps.
pub async fn check_sandbox(engine: &Engine, runs_steps: bool) -> Result<(), ServeError> {
    if runs_steps {
        engine
            .settings
            .sandbox
            .check(&engine.settings.work_dir)
            .await?;
    }
    Ok(())
}

impl Server {
    pub async fn start(config: Config) -> Result<Server, ServeError> {
        // The metrics recorder first: a job finishing before it was installed
        // would have its counts dropped (the start-up cleanup often does).
        let metrics = Metrics::global();
        let config = Arc::new(config);
        let database = open_database(&config).await?;
        db::migrate::up(&database).await.map_err(DbError::from)?;
        tracing::info!(database = %database.url, "database ready");

        // Bind before starting workers, so a busy port stops start-up with
        // nothing left running.
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(ServeError::Http)?;

        let shutdown = CancellationToken::new();
        let grace = Duration::from_secs(config.shutdown_timeout_seconds);
        jobs::setup(&database.pool).await?;
        let queue = jobs::JobQueue::new(&database.pool, jobs::notifier::Notifier::default());
        let engine = Arc::new(Engine::from_config(
            &config,
            database.conn.clone(),
            queue.clone(),
        )?);
        check_sandbox(&engine, config.server_runs_steps).await?;
        let plan = jobs::PoolPlan {
            concurrency: engine.slots.jobs_in_flight(),
            batch: engine.slots.count(),
            step_queues: if config.server_runs_steps {
                queues_served(&config.worker_labels())
            } else {
                Vec::new()
            },
            cleanup: true,
        };
        // Without public_url, the listen address when it names one host
        // (not 0.0.0.0 or ::, which nobody can open).
        let public = config
            .public_url
            .clone()
            .or_else(|| (!addr.ip().is_unspecified()).then(|| format!("http://{addr}")));
        let statuses = Reporter::from_config(&config, public)?;
        let background = background::start(
            &database,
            &queue,
            engine.clone(),
            plan,
            shutdown.clone(),
            grace,
            background::Optional {
                statuses: Some(statuses),
                scheduler: true,
            },
        );

        let database_handle = database.clone();
        let site = http::ui::site(&config.site_dir());
        let state = AppState::new(Shared {
            config: config.clone(),
            db: database.clone(),
            jobs: queue,
            pool: background.health(),
            engine,
            metrics,
            leptos_options: site.options,
            head: site.head,
            site_assets: site.assets,
            throttle: Arc::new(LoginThrottle::new(config.login_attempts_per_minute)),
            quotas: Quotas::new(
                &config,
                http::api::costs()
                    .into_iter()
                    .chain(http::forms::costs())
                    .collect(),
            ),
            log_streams: http::api::runs::log_streams::LogStreams::from_config(&config),
            list_streams: http::api::runs::log_streams::LogStreams::for_lists(&config),
            run_pages: Arc::default(),
        });
        spawn_housekeeping(&state, shutdown.clone());
        let jobs = state.jobs.clone();
        let app = http::router(state);
        let token = shutdown.clone();
        tracing::info!(%addr, "listening on http://{addr}");
        if config.public_url.is_none() && !addr.ip().is_loopback() {
            // Without it the Host header cannot be checked (DNS rebinding).
            tracing::warn!(
                "public_url is not set: requests are not checked against the host users reach Kiln at; set public_url (KILN_PUBLIC_URL)"
            );
        }
        let task = tokio::spawn(async move {
            let serving = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(token.clone().cancelled_owned())
            .into_future();
            let result = run_until_drained(serving, &token, grace).await;
            background.drain(grace).await;
            // Connections still held by abandoned requests or jobs would make
            // close wait for ever; the process is leaving anyway.
            if tokio::time::timeout(grace, database.close()).await.is_err() {
                tracing::warn!("database connections still busy; closing anyway");
            }
            tracing::info!("stopped");
            result
        });
        Ok(Server {
            addr,
            shutdown,
            task,
            jobs,
            database: database_handle,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The job queue, for tests that push work directly.
    pub fn jobs(&self) -> &jobs::JobQueue {
        &self.jobs
    }

    /// The database handle, for tests that inspect stored state.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Cancelling this token starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(result) => result,
            Err(join) => Err(ServeError::Task(join.to_string())),
        }
    }

    /// Starts a graceful shutdown and waits for it to finish.
    pub async fn stop(self) -> Result<(), ServeError> {
        self.shutdown.cancel();
        self.wait().await
    }
}

/// Serves until shutdown is requested, then gives in-flight requests `grace`
/// to finish before dropping them.
async fn run_until_drained(
    serving: impl std::future::Future<Output = std::io::Result<()>>,
    token: &CancellationToken,
    grace: Duration,
) -> Result<(), ServeError> {
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return result.map_err(ServeError::Http),
        () = token.cancelled() => {}
    }
    match tokio::time::timeout(grace, serving).await {
        Ok(result) => result.map_err(ServeError::Http),
        Err(_) => {
            tracing::warn!(
                grace_seconds = grace.as_secs(),
                "requests still running after the grace period; dropping them"
            );
            Ok(())
        }
    }
}

/// Once a minute, forget rate-limit state of callers idle long enough to be
/// back at full allowance, so memory stays bounded by recent callers.
fn spawn_housekeeping(state: &AppState, shutdown: CancellationToken) {
    let throttle = state.throttle.clone();
    let quotas = state.quotas.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = every.tick() => {
                    throttle.forget_idle();
                    quotas.forget_idle();
                }
            }
        }
    });
}

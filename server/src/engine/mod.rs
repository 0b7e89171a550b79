//! The execution engine's IO: storing workflows and runs, turning ready
//! steps into apalis jobs, running them (shell and HTTP), leases and the
//! sweeper that notices lost workers, logs and secrets. The rules of what
//! runs when are pure functions in `kiln_core::engine`; this is where they
//! meet the database and processes.

pub mod advance;
pub mod approve;
pub mod artifacts;
pub mod cancel;
pub mod checkout;
pub mod control;
pub mod definitions;
pub mod executor;
pub mod feed;
pub mod finish;
pub mod git;
pub mod git_address;
pub mod groups;
pub mod heartbeat;
pub mod http_client;
pub mod http_step;
pub mod invalid_run;
pub mod label_grants;
pub mod launcher;
pub mod leftovers;
pub mod logs;
pub mod mirror;
pub mod object_logs;
pub mod places;
pub mod repo;
pub mod run_close;
pub mod run_shell;
pub mod sandbox;
pub mod secret_store;
pub mod secrets;
pub mod shell;
pub mod slots;
pub mod start;
pub mod step_inputs;
pub mod step_job;
pub mod step_logs;
pub mod sweeper;
pub mod until_reachable;
pub mod workflows;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::ServiceError;
use crate::jobs::JobQueue;
use definitions::Definitions;
use logs::LogBackend;
use secrets::SecretKey;

/// Knobs of the engine (from configuration).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Steps' working directories live below it, one fresh per attempt.
    pub work_dir: PathBuf,
    pub log_cap_bytes: u64,
    /// Largest artifacts one step saves.
    pub artifacts_cap_bytes: u64,
    /// A running step's lease; a worker silent this long is lost.
    pub lease: Duration,
    /// How often a running step renews its lease and checks for cancellation.
    pub heartbeat: Duration,
    /// Between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// This process's name in step rows (`host:pid`).
    pub worker_name: String,
    /// How `run:` steps are isolated.
    pub sandbox: sandbox::Sandbox,
    /// What a workflow file may cost to read when it is saved.
    pub workflow_limits: kiln_core::workflow::Limits,
    /// Most schedules per project, and firings kept per schedule.
    pub schedules_per_project: u64,
    pub schedule_firings_kept: u64,
    /// Whether repositories may be linked by a local path.
    pub allow_local_repositories: bool,
    /// This process's bare mirrors of linked repositories.
    pub mirror_dir: PathBuf,
    /// Steps this process runs at once, across the queues it serves.
    pub step_slots: usize,
}

/// Everything a step job or an API call about runs needs; one per process.
pub struct Engine {
    pub db: DatabaseConnection,
    pub queue: JobQueue,
    pub logs: Arc<dyn LogBackend>,
    pub key: SecretKey,
    pub settings: EngineSettings,
    /// The client of `http:` steps (refuses restricted addresses).
    pub http: http_client::StepClient,
    pub definitions: Definitions,
    /// `run:` steps' directories and output files, made and kept.
    pub places: Arc<places::Places>,
    /// Steps running in this process at once, at most.
    pub slots: slots::StepSlots,
    /// Live run events for the pages following runs.
    pub feed: feed::Feed,
    /// Woken when a schedule changes here, so the scheduler loop reads the
    /// next instant again at once.
    pub schedules_changed: tokio::sync::Notify,
    /// Steps running in this process: step id → (run id, its cancel switch),
    /// so a cancel from this process stops them at once.
    running: Mutex<HashMap<i64, (i64, CancellationToken)>>,
    /// Set when the process shuts down and stops its running steps: their
    /// ends are recorded as "stopped by shutdown" (retried if they may be).
    stopping: AtomicBool,
    /// Set when the process begins to shut down: a finished step no longer
    /// takes its dependent along (see `finish`), so only the steps already
    /// running have to end within the grace period.
    draining: AtomicBool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("worker", &self.settings.worker_name)
            .finish()
    }
}

impl Engine {
    pub fn new(
        db: DatabaseConnection,
        queue: JobQueue,
        logs: Arc<dyn LogBackend>,
        key: SecretKey,
        settings: EngineSettings,
        http: http_client::StepClient,
    ) -> Self {
        let places = places::Places::new(&settings.work_dir, settings.sandbox.place_reuse_owner());
        Engine {
            places: Arc::new(places),
            slots: slots::StepSlots::new(settings.step_slots),
            db,
            queue,
            logs,
            key,
            settings,
            http,
            definitions: Definitions::default(),
            feed: feed::Feed::default(),
            schedules_changed: tokio::sync::Notify::new(),
            running: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (i64, CancellationToken)>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn track(&self, step: i64, run: i64, token: CancellationToken) {
        self.running().insert(step, (run, token));
    }

    pub(crate) fn untrack(&self, step: i64) {
        self.running().remove(&step);
    }

    /// Stops every step running in this process (shutdown, after the grace
    /// period); returns their ids.
    pub fn stop_running(&self) -> Vec<i64> {
        self.stopping.store(true, Ordering::SeqCst);
        let running = self.running();
        for (_, token) in running.values() {
            token.cancel();
        }
        running.keys().copied().collect()
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The process shuts down: a finished step hands nothing over, and a
    /// step handed over but not yet claimed goes to the queue instead.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst) || self.is_stopping()
    }

    /// How many steps run in this process now.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }

    /// Stops this process's running steps of `run` now (other processes
    /// notice on their next heartbeat).
    pub(crate) fn cancel_local(&self, run: i64) {
        for (owner, token) in self.running().values() {
            if *owner == run {
                token.cancel();
            }
        }
    }
}

impl Engine {
    /// The engine as configured: the secrets key (configured, or generated
    /// into the data directory), logs under `data_dir/logs`, step working
    /// directories under `data_dir/work`.
    pub fn from_config(
        config: &crate::config::Config,
        db: DatabaseConnection,
        queue: JobQueue,
    ) -> Result<Engine, ServiceError> {
        let key = SecretKey::load_or_create(config.secrets_key.as_deref(), &config.data_dir)?;
        let logs: Arc<dyn LogBackend> = match &config.log_store_url {
            None => Arc::new(logs::LocalLogs::new(config.data_dir.join("logs"))),
            Some(url) => Arc::new(
                object_logs::ObjectLogs::from_url(url)
                    .map_err(|e| ServiceError::invalid("log_store_url", e))?,
            ),
        };
        let lease = Duration::from_secs(config.step_lease_seconds);
        let settings = EngineSettings {
            // Absolute and without symlinks: the sandbox binds this path as
            // given, and hides the data directory by its real path.
            work_dir: sandbox::absolute(&config.data_dir).join("work"),
            log_cap_bytes: config.step_log_max_bytes,
            artifacts_cap_bytes: config.step_artifacts_max_bytes,
            lease,
            // Several beats per lease, and at least one a second so a
            // cancel reaches a step on another machine within a second.
            heartbeat: (lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(1)),
            kill_grace: Duration::from_secs(config.step_kill_grace_seconds),
            worker_name: worker_name(),
            sandbox: sandbox::Sandbox::from_config(config),
            workflow_limits: config.workflow_limits(),
            schedules_per_project: config.schedules_per_project,
            schedule_firings_kept: config.schedule_firings_kept,
            allow_local_repositories: config.allow_local_repositories,
            mirror_dir: sandbox::absolute(&config.data_dir).join("mirrors"),
            step_slots: config.worker_concurrency(),
        };
        let http = http_client::StepClient::new(config.http_step_allow_networks.clone())
            .map_err(|e| ServiceError::invalid("http_step_allow_networks", e))?;
        Ok(Engine::new(db, queue, logs, key, settings, http))
    }
}

/// `host:pid`, for step rows and logs.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

//! Configuration, layered: built-in defaults < TOML file < `KILN_*`
//! environment variables < command-line flags (figment does the merging).
//! Unknown keys are rejected, naming the key and where it came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use kiln_core::DatabaseUrl;
use kiln_core::accounts::RegistrationMode;
use kiln_core::net::{ExpectedHost, NetworkList};
use kiln_core::sandbox::StepLimits;
use kiln_core::workflow::Limits;
use serde::{Deserialize, Serialize};

mod env_vars;
use env_vars::EnvVars;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// Where Kiln keeps its SQLite database, logs and workspaces.
    pub data_dir: PathBuf,
    /// `sqlite://…`, `postgres://…` or `mysql://…`; default: `kiln.db` in `data_dir`.
    pub database_url: Option<String>,
    /// The compiled site (WASM, JS, CSS); default: `site/` beside the binary's folder.
    pub site_dir: Option<PathBuf>,
    /// The URL users reach Kiln at; `https://…` makes session cookies Secure.
    pub public_url: Option<String>,
    /// `text` (human) or `json` (one object a line).
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,kiln_server=debug`.
    pub log_level: String,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Largest webhook body accepted (pushes with many commits are big).
    pub webhook_max_bytes: usize,
    /// A request still running after this long gets 408.
    pub request_timeout_seconds: u64,
    /// How long shutdown waits for in-flight requests and jobs.
    pub shutdown_timeout_seconds: u64,
    /// How long start-up waits for the database.
    pub database_connect_timeout_seconds: u64,
    /// Maximum connections in the one database pool.
    pub database_max_connections: u32,
    /// Steps this process runs at once, across its queues; 0 = number of
    /// cores.
    pub worker_concurrency: usize,
    /// Who may create an account: `invite` (the default: instance admins
    /// create them), `open` (anyone may sign up) or `closed` (only `kiln
    /// user create`). The first account can be made by signing up (except
    /// when closed), and becomes the instance admin.
    pub registration: RegistrationMode,
    /// Whether every signed-in user may create top-level groups (and so own
    /// a tree of their own); by default only instance admins may.
    pub allow_user_top_level_groups: bool,
    /// A browser session unused for this long is logged out.
    pub session_idle_minutes: u64,
    /// Failed logins allowed per minute, per account and per client address.
    pub login_attempts_per_minute: u32,
    /// API quota, in cost units per minute, of callers who are not signed in
    /// (counted per client address).
    pub quota_anonymous_per_minute: u32,
    /// API quota of signed-in users and their tokens (a token may set its own).
    pub quota_user_per_minute: u32,
    /// API quota of instance admins.
    pub quota_admin_per_minute: u32,
    /// Labels of this process's workers, comma-separated (`gpu,linux`);
    /// a task with `runs_on:` runs only on workers having all its labels.
    pub worker_labels: String,
    /// The key secrets are sealed with: 32 bytes in base64. Default: one
    /// generated into `data_dir/secret.key` on first start (mode 600).
    pub secrets_key: Option<String>,
    /// A step's log is cut past this size (with a note saying so).
    pub step_log_max_bytes: u64,
    /// A pipeline step's saved artifacts may be at most this big; past it
    /// the step fails, saying so.
    pub step_artifacts_max_bytes: u64,
    /// A running step's lease: a worker silent this long is declared lost
    /// and its step retried or failed.
    pub step_lease_seconds: u64,
    /// Between SIGTERM and SIGKILL when a step times out or is cancelled.
    pub step_kill_grace_seconds: u64,
    /// Where step logs go: unset = `data_dir/logs`; `s3://bucket/prefix`
    /// (credentials and endpoint from `AWS_*` variables) or `file:///dir`
    /// through the `object_store` crate.
    pub log_store_url: Option<String>,
    /// Whether `kiln serve` runs steps itself (false: only `kiln worker`
    /// machines do).
    pub server_runs_steps: bool,
    /// How `run:` steps are isolated: `bwrap` (bubblewrap: own namespaces,
    /// read-only root, Kiln's files hidden, an unprivileged uid) or `none`
    /// (as the Kiln user, seeing what it sees: set only where every workflow
    /// author is trusted).
    pub step_sandbox: StepSandbox,
    /// Per-step limits inside the sandbox (0 = unlimited): processes of the
    /// sandbox user, open files, largest file, virtual memory per process,
    /// and the size of the step's private `/tmp` (memory-backed).
    pub step_max_processes: u64,
    pub step_max_open_files: u64,
    pub step_max_file_bytes: u64,
    pub step_max_memory_bytes: u64,
    pub step_tmp_bytes: u64,
    /// Most tasks one workflow may have.
    pub workflow_max_tasks: usize,
    /// Most schedules one project may have (each is work for the
    /// scheduler of every server, so a project cannot flood it).
    pub schedules_per_project: u64,
    /// Firings kept per schedule; older ones are deleted.
    pub schedule_firings_kept: u64,
    /// Networks `http:` steps may reach although they are loopback,
    /// link-local, private, unique-local or otherwise internal (CIDRs; a
    /// list in TOML, comma-separated in the environment). Default: none.
    pub http_step_allow_networks: NetworkList,
    /// Whether a project may link a repository by a local path (tests, and
    /// single-user machines). Off by default: a local path could name any
    /// repository the server can read, another project's mirror included.
    pub allow_local_repositories: bool,
    /// Reverse proxies (CIDRs) whose `X-Forwarded-For` is believed for the
    /// client's address. Default: none, the connection's peer is the client.
    pub trusted_proxies: NetworkList,
    /// Live log streams (`text/event-stream`) one caller may hold open.
    pub log_streams_per_user: u32,
    /// Live log streams the server holds open in all.
    pub log_streams_max: u32,
    /// A live log stream with no new bytes for this long ends.
    pub log_stream_idle_seconds: u64,
    /// The config file this was read from (hidden from steps); not a setting.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepSandbox {
    Bwrap,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        let limits = StepLimits::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            site_dir: None,
            public_url: None,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            max_body_bytes: 2 * 1024 * 1024,
            webhook_max_bytes: 5 * 1024 * 1024,
            request_timeout_seconds: 30,
            shutdown_timeout_seconds: 10,
            database_connect_timeout_seconds: 5,
            database_max_connections: 10,
            worker_concurrency: 0,
            registration: RegistrationMode::Invite,
            allow_user_top_level_groups: false,
            session_idle_minutes: 7 * 24 * 60,
            login_attempts_per_minute: 10,
            quota_anonymous_per_minute: 300,
            quota_user_per_minute: 3000,
            quota_admin_per_minute: 12000,
            worker_labels: String::new(),
            secrets_key: None,
            step_log_max_bytes: 10 * 1024 * 1024,
            step_artifacts_max_bytes: 100 * 1024 * 1024,
            step_lease_seconds: 10,
            step_kill_grace_seconds: 5,
            log_store_url: None,
            server_runs_steps: true,
            step_sandbox: StepSandbox::Bwrap,
            step_max_processes: limits.processes,
            step_max_open_files: limits.open_files,
            step_max_file_bytes: limits.file_bytes,
            step_max_memory_bytes: limits.address_space_bytes,
            step_tmp_bytes: limits.tmp_bytes,
            workflow_max_tasks: kiln_core::workflow::limits::DEFAULT_MAX_TASKS,
            schedules_per_project: 100,
            schedule_firings_kept: 1000,
            config_file: None,
            http_step_allow_networks: NetworkList::default(),
            allow_local_repositories: false,
            trusted_proxies: NetworkList::default(),
            log_streams_per_user: 8,
            log_streams_max: 256,
            log_stream_idle_seconds: 600,
        }
    }
}

/// Values given as command-line flags; only the ones present override.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid value for database_url: {0}")]
    DatabaseUrl(#[from] kiln_core::DatabaseUrlError),
}

impl From<figment::Error> for ConfigError {
    fn from(error: figment::Error) -> Self {
        // figment reports one error per bad key; join them on one line.
        let all: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        ConfigError::Invalid(all.join("; "))
    }
}

impl Config {
    /// Reads the layers: defaults, then `file` (when given), then `KILN_*`
    /// variables from `env`, then `overrides`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(EnvVars::settings(env))
            .merge(Serialized::defaults(overrides));
        let mut config: Config = figment.extract()?;
        config.validate()?;
        config.config_file = file.map(Path::to_owned);
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database_url()?;
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Invalid(
                "max_body_bytes must be above 0".into(),
            ));
        }
        if self.webhook_max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "webhook_max_bytes must be above 0".into(),
            ));
        }
        for (key, value) in [
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("session_idle_minutes", self.session_idle_minutes),
            (
                "login_attempts_per_minute",
                u64::from(self.login_attempts_per_minute),
            ),
            (
                "quota_anonymous_per_minute",
                u64::from(self.quota_anonymous_per_minute),
            ),
            (
                "quota_user_per_minute",
                u64::from(self.quota_user_per_minute),
            ),
            (
                "quota_admin_per_minute",
                u64::from(self.quota_admin_per_minute),
            ),
            (
                "database_connect_timeout_seconds",
                self.database_connect_timeout_seconds,
            ),
            ("step_log_max_bytes", self.step_log_max_bytes),
            ("step_artifacts_max_bytes", self.step_artifacts_max_bytes),
            ("step_lease_seconds", self.step_lease_seconds),
            ("workflow_max_tasks", self.workflow_max_tasks as u64),
            ("schedules_per_project", self.schedules_per_project),
            ("schedule_firings_kept", self.schedule_firings_kept),
            ("log_streams_per_user", u64::from(self.log_streams_per_user)),
            ("log_streams_max", u64::from(self.log_streams_max)),
            ("log_stream_idle_seconds", self.log_stream_idle_seconds),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{key} must be above 0")));
            }
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database_max_connections must be above 0".into(),
            ));
        }
        self.expected_host()?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|e| {
            ConfigError::Invalid(format!(
                "log_level {:?} is not a filter: {e}",
                self.log_level
            ))
        })?;
        Ok(())
    }

    /// The host requests must name, when `public_url` says it.
    pub fn expected_host(&self) -> Result<Option<ExpectedHost>, ConfigError> {
        self.public_url
            .as_deref()
            .map(|url| {
                ExpectedHost::from_public_url(url).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "public_url must be an http:// or https:// URL with a host, got {url:?}"
                    ))
                })
            })
            .transpose()
    }

    /// Whether cookies must be `Secure`: Kiln is reached over https.
    pub fn serves_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// The database to use: the configured URL, or a SQLite file in `data_dir`.
    pub fn database_url(&self) -> Result<DatabaseUrl, kiln_core::DatabaseUrlError> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(DatabaseUrl::sqlite_file(
                &self.data_dir.join("kiln.db").to_string_lossy(),
            )),
        }
    }

    /// Where the compiled WASM/JS/CSS live: configured, else `site/` next to
    /// the folder holding the binary (`target/release/kiln` → `target/site`).
    pub fn site_dir(&self) -> PathBuf {
        if let Some(dir) = &self.site_dir {
            return dir.clone();
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("site")))
            .unwrap_or_else(|| PathBuf::from("target/site"))
    }

    /// The per-step resource limits.
    pub fn step_limits(&self) -> StepLimits {
        StepLimits {
            processes: self.step_max_processes,
            open_files: self.step_max_open_files,
            file_bytes: self.step_max_file_bytes,
            address_space_bytes: self.step_max_memory_bytes,
            tmp_bytes: self.step_tmp_bytes,
        }
    }

    /// What a workflow file may cost to read.
    pub fn workflow_limits(&self) -> Limits {
        Limits {
            max_tasks: self.workflow_max_tasks,
            ..Limits::default()
        }
    }

    /// The worker labels, trimmed, without empty ones.
    pub fn worker_labels(&self) -> Vec<String> {
        self.worker_labels
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn worker_concurrency(&self) -> usize {
        match self.worker_concurrency {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests;

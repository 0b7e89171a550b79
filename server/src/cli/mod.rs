//! The command line: `kiln serve`, `kiln worker`, `kiln migrate up|down N|status`,
//! `kiln user create|reset-password`, `kiln version`. Every failure ends as one `error: …` line on stderr and a
//! non-zero exit code; never a panic message or a backtrace.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod user;

use crate::config::{Config, Overrides};
use crate::db::{self, Database};
use crate::serve::{ServeError, Server};

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "Kiln: CI/CD pipelines, cron schedules and workflow DAGs in one binary."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web UI, API, scheduler and an embedded worker pool.
    Serve(ServeArgs),
    /// Run step workers only, against the server's database (for more machines).
    Worker(WorkerArgs),
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create accounts and reset passwords (the password is read from a
    /// prompt, or from stdin with --password-stdin; never from arguments).
    User {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        action: user::UserAction,
    },
    /// Check a workflow file offline: every error with its line and column;
    /// exits 1 when there is any.
    Lint {
        /// The workflow YAML file.
        file: PathBuf,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, env = "KILN_CONFIG", value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and other local data.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH, postgres://… or mysql://… (default: SQLite in the data directory).
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Address to listen on, e.g. 127.0.0.1:3000 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Steps run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// This worker's labels, comma-separated; tasks with `runs_on:` need all
    /// of theirs.
    #[arg(long, value_name = "A,B")]
    labels: Option<String>,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the last N applied migrations.
    Down {
        #[arg(default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

impl ConfigArgs {
    fn load(self, listen: Option<SocketAddr>) -> Result<Config, ServeError> {
        let overrides = Overrides {
            listen,
            data_dir: self.data_dir,
            database_url: self.database_url,
        };
        Ok(Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &overrides,
        )?)
    }
}

/// Parses the arguments, runs the command, and turns any error into one line.
pub fn main() -> ExitCode {
    quiet_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(crate::memory::allocator::on_idle)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), ServeError> {
    match cli.command {
        Command::Lint { file } => lint(&file),
        Command::Version => {
            println!("kiln {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Serve(args) => {
            let config = args.config.load(args.listen)?;
            crate::telemetry::init(&config);
            let server = Server::start(config).await?;
            crate::shutdown::cancel_on_signal(server.shutdown_token());
            server.wait().await
        }
        Command::Worker(args) => {
            let mut config = args.config.load(None)?;
            if let Some(n) = args.concurrency {
                config.worker_concurrency = n;
            }
            if let Some(labels) = args.labels {
                config.worker_labels = labels;
            }
            crate::telemetry::init(&config);
            let shutdown = tokio_util::sync::CancellationToken::new();
            crate::shutdown::cancel_on_signal(shutdown.clone());
            crate::worker::run(config, shutdown).await
        }
        Command::User { config, action } => {
            let config = config.load(None)?;
            crate::telemetry::init(&Config {
                log_level: "warn".into(),
                ..config.clone()
            });
            let database = crate::serve::open_database(&config).await?;
            let result = match db::migrate::up(&database).await {
                Ok(()) => user::run(&database, action).await,
                Err(e) => Err(db::DbError::from(e).into()),
            };
            database.close().await;
            result
        }
        Command::Migrate { config, action } => {
            let config = config.load(None)?;
            crate::telemetry::init(&config);
            let database = crate::serve::open_database(&config).await?;
            let result = migrate(&database, action).await;
            database.close().await;
            result
        }
    }
}

async fn migrate(database: &Database, action: MigrateAction) -> Result<(), ServeError> {
    match action {
        MigrateAction::Up => {
            db::migrate::up(database).await.map_err(db::DbError::from)?;
            println!("database is up to date");
        }
        MigrateAction::Down { steps } => {
            db::migrate::down(database, steps)
                .await
                .map_err(db::DbError::from)?;
            println!("reverted up to {steps} migration(s)");
        }
        MigrateAction::Status => {
            for state in db::migrate::status(database)
                .await
                .map_err(db::DbError::from)?
            {
                let mark = if state.applied { "applied" } else { "pending" };
                println!("{mark:8} {}", state.name);
            }
        }
    }
    Ok(())
}

/// `kiln lint FILE`: `FILE:LINE:COLUMN: message` per error, like compilers,
/// so editors can jump to them. A pipeline file (`.kiln.yml`, a file in
/// `.kiln/`, or any file whose top has `steps:`) is read as a pipeline,
/// anything else as a workflow.
fn lint(file: &std::path::Path) -> Result<(), ServeError> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| ServeError::Input(format!("cannot read {}: {e}", file.display())))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_kiln_dir = file
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == ".kiln");
    let as_pipeline = in_kiln_dir
        || kiln_core::pipeline::is_pipeline_file(&name)
        || kiln_core::pipeline::has_steps(&source);
    let checked = if as_pipeline {
        kiln_core::pipeline::load(&name, &source, &kiln_core::workflow::Limits::default())
            .map(|p| format!("pipeline {} ({} steps)", p.name, p.workflow.tasks.len()))
    } else {
        kiln_core::workflow::load(&source).map(|w| format!("{} tasks", w.tasks.len()))
    };
    match checked {
        Ok(summary) => {
            println!("{}: ok ({summary})", file.display());
            Ok(())
        }
        Err(errors) => {
            for error in &errors {
                println!(
                    "{}:{}:{}: {}",
                    file.display(),
                    error.at.line,
                    error.at.column,
                    error.message
                );
            }
            Err(ServeError::Input(format!(
                "{} has {} error(s)",
                file.display(),
                errors.len()
            )))
        }
    }
}

/// clap's own messages are several lines (usage, tips); keep the first.
fn clap_exit(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{}", error.render());
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            eprintln!("{first} (see kiln --help)");
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line: `a: b: c`.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

/// A bug must still end in one line, not a backtrace.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        // Inside the server the JSON log stream must stay JSON; before
        // logging is set up, plain stderr is all there is.
        if tracing::dispatcher::has_been_set() {
            tracing::error!(location, message, "internal bug");
        } else {
            eprintln!("error: internal bug{location}: {message}");
        }
    }));
}

//! How this process isolates `run:` steps, decided once at start: which of
//! Kiln's paths a step must not see, the limits, and whether processes are
//! started as an unprivileged host user. The command lines are the
//! domain's ([`kiln_core::sandbox`]); this module knows the machine: it
//! checks at start that the sandbox works here (so a broken sandbox stops
//! start-up instead of failing every step), and prepares a step's directory
//! so the sandbox user can write it. With a launcher binary (always, in
//! `kiln`) steps start through the resident launcher inside one sandbox;
//! without (a test binary embedding the server), one bubblewrap per step.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiln_core::sandbox::{Network, SandboxSpec, StepLimits, command_line, launcher_command_line};

use tokio_util::sync::CancellationToken;

use super::launcher::{self, client, client::LauncherCommand, protocol::Isolation};
use super::shell::{self, Ending, ShellStep};
use crate::config::{Config, StepSandbox};

/// How steps run in this process.
#[derive(Debug, Clone)]
pub enum Sandbox {
    /// As the Kiln user, no isolation (`step_sandbox = "none"`).
    None,
    Bwrap(Box<Bwrap>),
}

#[derive(Debug, Clone)]
pub struct Bwrap {
    /// bubblewrap's absolute path, found at start: a step's own `PATH`
    /// never decides which program builds its sandbox.
    program: String,
    hidden_dirs: Vec<PathBuf>,
    hidden_files: Vec<PathBuf>,
    limits: StepLimits,
    /// Kiln runs as root: sandboxes start as a host user that is not Kiln's
    /// (see [`host_user_of`]): the launcher's, one per Kiln process (each
    /// step still has a user namespace and a process count of its own), or
    /// without a launcher one per step.
    as_own_user: bool,
    /// The directory of every step's directory and files.
    work_root: PathBuf,
    /// The resident launcher inside one sandbox that starts this process's
    /// steps (when Kiln has a launcher binary): bubblewrap runs once, not
    /// once per step.
    launcher: Option<Arc<LauncherCommand>>,
}

/// Host uids (and gids) for sandboxes when Kiln runs as root: far above
/// any account or subordinate-id range, one per step of this process, and
/// step 0 (none) for its sandboxed launcher (several Kiln processes may
/// share a host). Two steps landing on the same one would share their
/// process limit, nothing else: each has its own namespaces.
pub const HOST_ID_BASE: u32 = 1_900_000_000;
pub const HOST_ID_RANGE: u32 = 100_000_000;

pub fn host_user_of(step: i64) -> (u32, u32) {
    let mixed = (u64::from(std::process::id()) << 32)
        .wrapping_add(step as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let offset = u32::try_from((mixed >> 32) % u64::from(HOST_ID_RANGE)).unwrap_or(0);
    (HOST_ID_BASE + offset, HOST_ID_BASE + offset)
}

/// What went wrong when checking the sandbox at start.
#[derive(Debug, thiserror::Error)]
#[error(
    "the step sandbox does not work here: {0}. Install bubblewrap (apt-get install bubblewrap; \
     it needs unprivileged user namespaces), or set step_sandbox = \"none\" \
     (KILN_STEP_SANDBOX=none) to run steps without isolation"
)]
pub struct SandboxError(String);

impl Sandbox {
    pub fn from_config(config: &Config) -> Sandbox {
        match config.step_sandbox {
            StepSandbox::None => Sandbox::None,
            StepSandbox::Bwrap => Sandbox::Bwrap(Box::new(Bwrap::from_config(config))),
        }
    }

    /// The process that runs step `step`'s `command` in `workdir` with
    /// `env`, its `output` file writable (it must exist) and `network`.
    /// Inside the sandbox `HOME` is the step's own directory and `PATH` the
    /// system's (Kiln's own may name directories the step cannot see).
    pub fn shell_step(
        &self,
        step: i64,
        command: &str,
        workdir: &Path,
        output: &Path,
        network: Network,
        mut env: Vec<(String, String)>,
    ) -> ShellStep {
        match self {
            Sandbox::None => ShellStep::plain(command, workdir.to_owned(), env),
            Sandbox::Bwrap(bwrap) => {
                env.push(("HOME".into(), workdir.display().to_string()));
                env.push(("PATH".into(), DEFAULT_PATH.into()));
                // Through the sandboxed launcher: the plain shell, the
                // launcher makes the rest. Without one: bubblewrap's
                // command line around it, as the step's own host user.
                let (argv, host_user, sandboxed) = match &bwrap.launcher {
                    Some(launcher) => {
                        let isolation = Isolation {
                            work_root: bwrap.work_root.clone(),
                            binds: vec![workdir.to_owned(), output.to_owned()],
                            network,
                            tmp_bytes: bwrap.limits.tmp_bytes,
                        };
                        let sandboxed = shell::Sandboxed {
                            launcher: launcher.clone(),
                            isolation,
                        };
                        let argv = vec!["/bin/sh".into(), "-c".into(), command.into()];
                        (argv, None, Some(sandboxed))
                    }
                    None => (
                        bwrap.command_line(command, workdir, output, network),
                        bwrap.as_own_user.then(|| host_user_of(step)),
                        None,
                    ),
                };
                ShellStep {
                    argv,
                    host_user,
                    limits: bwrap.limits.process_limits(),
                    workdir: workdir.to_owned(),
                    env,
                    timeout: None,
                    grace: Duration::from_secs(5),
                    sandboxed,
                }
            }
        }
    }

    /// Gives step `step`'s directory and files to the host user its
    /// sandbox runs as (when Kiln is root; otherwise they are Kiln's).
    pub fn hand_over(&self, step: i64, paths: &[&Path]) -> std::io::Result<()> {
        if let Some((uid, gid)) = self.user_of(step) {
            for path in paths {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
            }
        }
        Ok(())
    }

    /// Gives everything below `dir` (a checkout) to step `step`'s user,
    /// links themselves rather than what they point at.
    pub async fn hand_over_tree(&self, step: i64, dir: &Path) -> std::io::Result<()> {
        let Some((uid, gid)) = self.user_of(step) else {
            return Ok(());
        };
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut stack = vec![dir];
            while let Some(path) = stack.pop() {
                std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
                if std::fs::symlink_metadata(&path)?.is_dir() {
                    for entry in std::fs::read_dir(&path)? {
                        stack.push(entry?.path());
                    }
                }
            }
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// The host user owning every step's place, when places may be kept
    /// for later steps (see `places`): only for steps started by the
    /// sandboxed launcher on a kernel that keeps abstract sockets in their
    /// step.
    pub fn place_reuse_owner(&self) -> Option<(u32, u32)> {
        let Sandbox::Bwrap(bwrap) = self else {
            return None;
        };
        bwrap.launcher.as_ref()?;
        launcher::scope_abi()?;
        Some(self.user_of(0).unwrap_or_else(|| {
            (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            )
        }))
    }

    /// The host user step `step` runs as, when it is not Kiln's: its own,
    /// or its launcher's (whose steps each have a user namespace and a
    /// process count of their own).
    fn user_of(&self, step: i64) -> Option<(u32, u32)> {
        match self {
            Sandbox::Bwrap(bwrap) if bwrap.as_own_user => Some(match bwrap.launcher {
                Some(ref launcher) => launcher.user.unwrap_or_else(|| host_user_of(0)),
                None => host_user_of(step),
            }),
            _ => None,
        }
    }

    /// Runs a step that only exits, in a scratch directory below
    /// `work_dir`, the way real steps run: any failure (bubblewrap missing,
    /// user namespaces refused, a path the sandbox user cannot reach) is
    /// reported now, at start.
    pub async fn check(&self, work_dir: &Path) -> Result<(), SandboxError> {
        let Sandbox::Bwrap(_) = self else {
            return Ok(());
        };
        let fail = |what: &str, e: &dyn std::fmt::Display| SandboxError(format!("{what}: {e}"));
        let probe = work_dir.join(format!("sandbox-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&probe);
        std::fs::create_dir_all(&probe).map_err(|e| fail("cannot create a step directory", &e))?;
        let result = async {
            let output = probe.join("output");
            std::fs::write(&output, b"")
                .map_err(|e| fail("cannot create a step's output file", &e))?;
            self.hand_over(0, &[&probe, &output])
                .map_err(|e| fail("cannot give the step directory to the sandbox user", &e))?;
            let step = ShellStep {
                timeout: Some(Duration::from_secs(20)),
                ..self.shell_step(
                    0,
                    "touch written",
                    &probe,
                    &output,
                    Network::None,
                    Vec::new(),
                )
            };
            let (lines, mut said) = tokio::sync::mpsc::channel(64);
            let ending = shell::run(&step, lines, CancellationToken::new())
                .await
                .map_err(|e| fail("cannot start bwrap", &e))?;
            let mut stderr = String::new();
            while let Some(line) = said.recv().await {
                stderr.push_str(&String::from_utf8_lossy(&line.bytes));
                stderr.push(' ');
            }
            if ending != Ending::Exited(0) || !probe.join("written").exists() {
                return Err(SandboxError(format!(
                    "a test step failed ({ending:?}): {}",
                    stderr.trim()
                )));
            }
            Ok(())
        }
        .await;
        let _ = std::fs::remove_dir_all(&probe);
        if result.is_ok() {
            say_what_is_scoped(self);
        }
        result
    }
}

/// Abstract Unix sockets belong to the network namespace: with `network:
/// host` only Landlock's scopes keep a step from another's (or the host's).
/// Says once at start whether this kernel has them.
fn say_what_is_scoped(sandbox: &Sandbox) {
    let Sandbox::Bwrap(bwrap) = sandbox else {
        return;
    };
    match (launcher::scope_abi(), &bwrap.launcher) {
        (Some(abi), Some(_)) => tracing::info!(
            landlock_abi = abi,
            "steps' abstract Unix sockets and signals are scoped to each step"
        ),
        (None, Some(_)) => tracing::warn!(
            "this kernel has no Landlock scopes (Linux 6.12 or later): steps with \
             network: host can reach abstract Unix sockets of the host and of other steps"
        ),
        // Test binaries only (no launcher binary).
        (_, None) => {}
    }
}

/// The `PATH` steps get in the sandbox when Kiln's own is not usable.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Bwrap {
    fn from_config(config: &Config) -> Bwrap {
        let mut hidden_dirs = vec![absolute(&config.data_dir), PathBuf::from("/run")];
        let mut hidden_files = Vec::new();
        if let Some(file) = &config.config_file {
            hidden_files.push(absolute(file));
        }
        // A SQLite database or a log directory outside the data directory.
        if let Ok(url) = config.database_url()
            && let Some(path) = url.sqlite_path()
            && let Some(dir) = absolute(Path::new(&path)).parent()
        {
            hidden_dirs.push(dir.to_owned());
        }
        if let Some(dir) = config
            .log_store_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
        {
            // Made now, private, so it is hidden although no log exists yet.
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir);
            hidden_dirs.push(absolute(&dir));
        }
        let root = nix::unistd::geteuid().is_root();
        // Kiln's own home (its dotfiles, credentials) when it is not root:
        // the sandbox runs as Kiln's user outside its namespaces.
        if !root
            && let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
            && home.is_absolute()
            && home != Path::new("/")
        {
            hidden_dirs.push(home);
        }
        if !root {
            tracing::warn!(
                "Kiln is not root: sandboxed steps run as its host user outside their \
                 namespaces (any Unix socket that trusts that user trusts them); run it as \
                 root for a host user of their own"
            );
        }
        hidden_dirs.retain(|d| d.is_absolute() && d != Path::new("/") && d.exists());
        hidden_files.retain(|f| f.is_file());
        let program = find_program("bwrap");
        let limits = config.step_limits();
        let work_root = absolute(&config.data_dir).join("work");
        let launcher = launcher::binary().map(|binary| {
            let spec = SandboxSpec {
                workdir: work_root.clone(),
                writable_files: Vec::new(),
                hidden_dirs: hidden_dirs.clone(),
                hidden_files: hidden_files.clone(),
                network: Network::Host,
                limits,
            };
            let mut argv = launcher_command_line(
                &spec,
                client::BINARY_FD,
                &[launcher::MODE, "1", launcher::SANDBOXED],
            );
            if let Some(first) = argv.first_mut() {
                first.clone_from(&program);
            }
            Arc::new(LauncherCommand {
                argv,
                // Step 0 is none: this process's sandbox user.
                user: root.then(|| host_user_of(0)),
                binary: Some(binary.to_owned()),
            })
        });
        Bwrap {
            program,
            hidden_dirs,
            hidden_files,
            limits,
            as_own_user: root,
            work_root,
            launcher,
        }
    }
}

impl Bwrap {
    /// bubblewrap's command line that runs `command` as a step of its own.
    fn command_line(
        &self,
        command: &str,
        workdir: &Path,
        output: &Path,
        network: Network,
    ) -> Vec<String> {
        let mut argv = command_line(
            &SandboxSpec {
                workdir: workdir.to_owned(),
                writable_files: vec![output.to_owned()],
                hidden_dirs: self.hidden_dirs.clone(),
                hidden_files: self.hidden_files.clone(),
                network,
                limits: self.limits,
            },
            command,
        );
        if let Some(program) = argv.first_mut() {
            program.clone_from(&self.program);
        }
        argv
    }
}

/// `name`'s absolute path in Kiln's own `PATH` (else the system's); the
/// bare name when it is nowhere (starting a step then fails, and the check
/// at start says so).
fn find_program(name: &str) -> String {
    let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_owned());
    path.split(':')
        .chain(DEFAULT_PATH.split(':'))
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| candidate.is_file())
        .map_or_else(|| name.to_owned(), |found| found.display().to_string())
}

/// `path` made absolute with its symlinks resolved (as far as it exists).
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|dir| dir.join(path))
            .unwrap_or_else(|_| path.to_owned())
    })
}

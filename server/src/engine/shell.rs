//! One `run:` step as a process: `/bin/sh -c COMMAND` (directly, or inside
//! the sandbox's command line) in its own process group and working
//! directory, with the step's environment and nothing else. Output comes
//! back line by line as it is written (stdout and stderr apart; overlong
//! lines are split, bytes need not be UTF-8). A timeout or a cancellation
//! sends SIGTERM to the whole group, then SIGKILL after a grace period, so
//! nothing the step started outlives it. The process dies with the Kiln
//! process that started it (a killed worker's steps do not run on), and
//! starts with its resource limits already set: through the resident
//! launcher (see [`launcher`]) when this process has one, else by fork
//! with the same setup in the child.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kiln_core::sandbox::{Limit, steers_loader};
use nix::fcntl::OFlag;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, pipe2};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::unix::pipe;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::launcher::{self, client};

/// Longest line delivered in one piece; longer ones arrive in parts.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct ShellStep {
    /// Program and arguments: `/bin/sh -c COMMAND`, or the sandbox's
    /// command line around it.
    pub argv: Vec<String>,
    /// The host user and group to start it as (the sandbox's, when Kiln
    /// runs as root).
    pub host_user: Option<(u32, u32)>,
    /// Resource limits (soft and hard) set before the program starts.
    pub limits: Vec<(Limit, u64)>,
    pub workdir: PathBuf,
    /// The whole environment of the process: nothing is inherited, so a
    /// step sees only what it is given.
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Started by this sandboxed launcher, in namespaces of its own
    /// (`argv` is then the plain shell).
    pub sandboxed: Option<Sandboxed>,
}

/// A step started by a launcher inside the sandbox, in namespaces of its
/// own (see [`launcher`]).
#[derive(Debug, Clone)]
pub struct Sandboxed {
    pub launcher: std::sync::Arc<client::LauncherCommand>,
    pub isolation: launcher::protocol::Isolation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl ShellStep {
    /// `/bin/sh -c command` as the Kiln user, with `PATH` and `HOME` from
    /// Kiln's own environment added to `env` (no sandbox).
    pub fn plain(command: &str, workdir: PathBuf, mut env: Vec<(String, String)>) -> ShellStep {
        for key in ["PATH", "HOME"] {
            if let Ok(value) = std::env::var(key) {
                env.insert(0, (key.to_owned(), value));
            }
        }
        ShellStep {
            argv: vec!["/bin/sh".into(), "-c".into(), command.into()],
            host_user: None,
            limits: Vec::new(),
            workdir,
            env,
            timeout: None,
            grace: Duration::from_secs(5),
            sandboxed: None,
        }
    }
}

/// A piece of output, as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    pub stream: Stream,
    pub bytes: Vec<u8>,
    /// False when a line longer than [`MAX_LINE_BYTES`] was cut here and
    /// goes on in the next piece.
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The process exited by itself with this code (a signal N counts as
    /// 128 + N, as shells report it).
    Exited(i32),
    TimedOut,
    Cancelled,
}

/// Runs the step to its end, sending output to `lines` as it arrives.
pub async fn run(
    step: &ShellStep,
    lines: mpsc::Sender<OutputLine>,
    cancel: CancellationToken,
) -> std::io::Result<Ending> {
    if step.argv.is_empty() {
        return Err(std::io::Error::other("no program to run"));
    }
    let mut setup = launcher::Setup {
        host_user: step.host_user,
        limits: step.limits.clone(),
        isolation: None,
    };
    // The environment also reaches the sandbox's own program, outside the
    // sandbox: nothing in it may steer how that program loads.
    let env: Vec<(String, String)> = step
        .env
        .iter()
        .filter(|(k, _)| !steers_loader(k))
        .cloned()
        .collect();
    let (mut child, stdout, stderr) = match (launcher::binary(), &step.sandboxed) {
        // Never without its sandbox, whatever else this process has.
        (_, Some(sandboxed)) => {
            setup.isolation = Some(sandboxed.isolation.clone());
            let argv = step.argv.clone();
            start_launched(&sandboxed.launcher, argv, step, env, &setup).await?
        }
        (Some(binary), None) => {
            let command = client::LauncherCommand::plain(binary);
            start_launched(&command, step.argv.clone(), step, env, &setup).await?
        }
        (None, None) => start_forked(step, env, &setup)?,
    };
    let readers = [
        tokio::spawn(forward(stdout, Stream::Stdout, lines.clone())),
        tokio::spawn(forward(stderr, Stream::Stderr, lines.clone())),
    ];
    drop(lines);

    let deadline = async {
        match step.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    // Its end unknown (the launcher went): stopped like a cancelled step,
    // then reported as an error.
    let mut lost = None;
    let ending = tokio::select! {
        code = child.wait() => match code {
            Ok(code) => Ending::Exited(code),
            Err(error) => {
                lost = Some(error);
                Ending::Cancelled
            }
        },
        () = deadline => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };
    if matches!(ending, Ending::TimedOut | Ending::Cancelled) {
        stop_group(&mut child, step.grace).await;
    } else if let Process::Forked { .. } = &child {
        // The shell is gone; anything it left running in the background
        // goes too. (The launcher does this itself, before it reaps.)
        child.signal(Signal::SIGKILL);
    }
    // A background process that left the group (setsid) may hold the pipes
    // open for ever: read what is there for at most the grace period.
    for mut reader in readers {
        if tokio::time::timeout(step.grace, &mut reader).await.is_err() {
            reader.abort();
        }
    }
    match lost {
        Some(error) => Err(error),
        None => Ok(ending),
    }
}

/// A step's stdout or stderr, as it is read.
type Output = Box<dyn AsyncRead + Send + Unpin>;

/// Through a resident launcher, with pipes of Kiln's own for its output.
async fn start_launched(
    command: &client::LauncherCommand,
    argv: Vec<String>,
    step: &ShellStep,
    env: Vec<(String, String)>,
    setup: &launcher::Setup,
) -> std::io::Result<(Process, Output, Output)> {
    let (out_read, out_write) = pipe2(OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
    let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
    let launched = client::launch(
        command,
        argv,
        env,
        step.workdir.clone(),
        setup,
        out_write,
        err_write,
    )
    .await?;
    Ok((
        Process::Launched(launched),
        Box::new(pipe::Receiver::from_owned_fd(out_read)?),
        Box::new(pipe::Receiver::from_owned_fd(err_read)?),
    ))
}

/// Forked from this process (no launcher binary), set up in the child.
fn start_forked(
    step: &ShellStep,
    env: Vec<(String, String)>,
    setup: &launcher::Setup,
) -> std::io::Result<(Process, Output, Output)> {
    let Some((program, args)) = step.argv.split_first() else {
        return Err(std::io::Error::other("no program to run"));
    };
    let mut command = Command::new(program);
    command.args(args);
    before_exec(&mut command, setup);
    command
        .current_dir(&step.workdir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let missing = || std::io::Error::other("the step's output was not connected");
    // Known now: once the child is reaped, tokio forgets its id.
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    Ok((
        Process::Forked { child, group },
        Box::new(stdout.ok_or_else(missing)?),
        Box::new(stderr.ok_or_else(missing)?),
    ))
}

/// Without a launcher: in the forked child, before the program starts,
/// the host user, the death signal (SIGKILL when the thread that started
/// it goes, so a killed worker's steps stop too) and the step's resource
/// limits. The signal follows the spawning *thread*: steps are spawned from
/// the runtime's worker threads, which live as long as it does; never spawn
/// one from `spawn_blocking` (those threads exit when idle, and would kill
/// the step). All are single system calls, which is all a forked child of a
/// threaded process may safely do.
#[allow(unsafe_code)]
fn before_exec(command: &mut Command, setup: &launcher::Setup) {
    if let Some((uid, gid)) = setup.host_user {
        command.uid(uid).gid(gid);
    }
    let limits: Vec<(Resource, u64)> = setup
        .limits
        .iter()
        .map(|&(limit, value)| (launcher::resource_of(limit), value))
        .collect();
    let parent = nix::unistd::getpid();
    let restore_thp = crate::memory::allocator::thp_turned_off();
    let setup = move || -> std::io::Result<()> {
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
        if restore_thp {
            // The server turned them off for itself alone.
            nix::sys::prctl::set_thp_disable(false)?;
        }
        // Kiln died before the signal was armed: it will never come.
        if nix::unistd::getppid() != parent {
            return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
        }
        for &(resource, value) in &limits {
            setrlimit(resource, value, value)?;
        }
        Ok(())
    };
    // SAFETY: the closure runs between fork and exec. It only makes the
    // prctl, getppid and setrlimit system calls through nix's thin
    // wrappers, reading a Vec allocated before the fork: it allocates
    // nothing, takes no lock and touches no state another thread could
    // have held at the fork.
    unsafe {
        command.pre_exec(setup);
    }
}

/// The step's process, however it was started.
enum Process {
    Launched(client::Launched),
    Forked {
        child: tokio::process::Child,
        /// Its process group (it leads its own).
        group: Option<Pid>,
    },
}

impl Process {
    /// Sends `signal` to its whole process group.
    fn signal(&self, signal: Signal) {
        match self {
            Process::Launched(launched) => launched.signal(signal),
            Process::Forked { group, .. } => {
                if let Some(group) = group {
                    let _ = killpg(*group, signal);
                }
            }
        }
    }

    async fn wait(&mut self) -> std::io::Result<i32> {
        match self {
            Process::Launched(launched) => launched.wait().await,
            Process::Forked { child, .. } => child.wait().await.map(exit_code),
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// SIGTERM to the group, SIGKILL after `grace` if the shell is still there
/// (and to what it left behind if it is not).
async fn stop_group(child: &mut Process, grace: Duration) {
    child.signal(Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        child.signal(Signal::SIGKILL);
        let _ = child.wait().await;
    } else {
        child.signal(Signal::SIGKILL);
    }
}

async fn forward(
    pipe: Box<dyn AsyncRead + Send + Unpin>,
    stream: Stream,
    lines: mpsc::Sender<OutputLine>,
) {
    let mut reader = BufReader::with_capacity(MAX_LINE_BYTES, pipe);
    loop {
        let mut line = Vec::new();
        // Read up to a newline, but never hold more than one line's cap.
        let mut complete = true;
        let read = loop {
            let buffer = match reader.fill_buf().await {
                Ok(buffer) => buffer,
                Err(_) => break 0,
            };
            if buffer.is_empty() {
                break line.len();
            }
            let room = MAX_LINE_BYTES - line.len();
            let take = buffer.len().min(room);
            match buffer[..take].iter().position(|&b| b == b'\n') {
                Some(end) => {
                    line.extend_from_slice(&buffer[..=end]);
                    reader.consume(end + 1);
                    break line.len();
                }
                None => {
                    line.extend_from_slice(&buffer[..take]);
                    reader.consume(take);
                    if line.len() >= MAX_LINE_BYTES {
                        complete = false;
                        break line.len();
                    }
                }
            }
        };
        if read == 0 {
            return;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if lines
            .send(OutputLine {
                stream,
                bytes: line,
                complete,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

//! Kiln's side of the resident launcher. A thread of its own starts the
//! launcher process (so the launcher's parent-death signal is tied to a
//! thread that never ends), reads its replies and hands each to whoever
//! waits for it; when the launcher goes, everyone waiting is told, and a
//! new one is started. Requests are written under a lock from the caller's
//! task: they are small, and the launcher reads as soon as it can.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::oneshot;

use super::protocol::{self, Reply, Request};
use super::{MODE, Setup};

/// How long a start waits for a launcher (the first, or one restarting).
const WAIT_FOR_LAUNCHER: Duration = Duration::from_secs(10);
/// Between a launcher's end and its successor's start.
const RESTART_PAUSE: Duration = Duration::from_millis(200);

/// A step's process, started by the launcher.
#[derive(Debug)]
pub struct Launched {
    pid: i32,
    exit: oneshot::Receiver<i32>,
    code: Option<i32>,
}

impl Launched {
    /// Its process (group) id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Its exit code (128 + N for signal N). An error when the launcher
    /// went before it could tell.
    pub async fn wait(&mut self) -> std::io::Result<i32> {
        if let Some(code) = self.code {
            return Ok(code);
        }
        match (&mut self.exit).await {
            Ok(code) => {
                self.code = Some(code);
                Ok(code)
            }
            Err(_) => Err(std::io::Error::other(
                "the step launcher stopped before the step ended",
            )),
        }
    }
}

impl Drop for Launched {
    /// Whoever ran it is gone: so is the step (as tokio's `kill_on_drop`).
    fn drop(&mut self) {
        if self.code.is_none() {
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
        }
    }
}

/// Starts `argv` through the launcher `binary`, with stdout and stderr
/// going to the given write ends (closed here once they are handed over).
pub async fn launch(
    binary: &Path,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    workdir: PathBuf,
    setup: &Setup,
    stdout: OwnedFd,
    stderr: OwnedFd,
) -> std::io::Result<Launched> {
    static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| Shared::start(binary.to_owned()));
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    let (started_tx, started) = oneshot::channel();
    let (exit_tx, exit) = oneshot::channel();
    shared.waiting().starting.insert(
        id,
        Pending {
            started: started_tx,
            exit: exit_tx,
        },
    );
    let request = Request::new(id, argv, env, workdir, setup);
    let sent = serde_json::to_vec(&request)
        .map_err(std::io::Error::from)
        .and_then(|bytes| {
            let writer = shared.writer()?;
            let socket = writer
                .as_ref()
                .ok_or_else(|| std::io::Error::other("the step launcher is not running"))?;
            protocol::send(socket, &bytes, &[stdout.as_raw_fd(), stderr.as_raw_fd()])
        });
    drop((stdout, stderr));
    if let Err(error) = sent {
        shared.waiting().starting.remove(&id);
        return Err(error);
    }
    match started.await {
        Ok(Ok(pid)) => Ok(Launched {
            pid,
            exit,
            code: None,
        }),
        Ok(Err(message)) => Err(std::io::Error::other(message)),
        Err(_) => Err(std::io::Error::other(
            "the step launcher stopped before the step started",
        )),
    }
}

struct Pending {
    started: oneshot::Sender<Result<i32, String>>,
    exit: oneshot::Sender<i32>,
}

#[derive(Default)]
struct Waiting {
    starting: HashMap<u64, Pending>,
    running: HashMap<i32, oneshot::Sender<i32>>,
}

struct Shared {
    /// The socket to the running launcher; `None` while there is none.
    writer: Mutex<Option<UnixStream>>,
    ready: Condvar,
    waiting: Mutex<Waiting>,
    next: AtomicU64,
}

impl Shared {
    fn start(binary: PathBuf) -> Arc<Shared> {
        let shared = Arc::new(Shared {
            writer: Mutex::new(None),
            ready: Condvar::new(),
            waiting: Mutex::new(Waiting::default()),
            next: AtomicU64::new(1),
        });
        let keeper = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("kiln-launcher".into())
            .spawn(move || keeper.keep_running(&binary));
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the step launcher's thread");
        }
        shared
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer, once a launcher runs (waits a little for one).
    fn writer(&self) -> std::io::Result<MutexGuard<'_, Option<UnixStream>>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .ready
            .wait_timeout_while(guard, WAIT_FOR_LAUNCHER, |w| w.is_none())
            .unwrap_or_else(|e| e.into_inner());
        Ok(guard)
    }

    fn set_writer(&self, socket: Option<UnixStream>) {
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = socket;
        self.ready.notify_all();
    }

    /// The thread's life: a launcher, its replies until it ends, the next.
    fn keep_running(&self, binary: &Path) {
        loop {
            match spawn_launcher(binary) {
                Ok((mut process, socket)) => {
                    match socket.try_clone() {
                        Ok(writer) => {
                            self.set_writer(Some(writer));
                            self.read_replies(&socket);
                        }
                        Err(error) => tracing::error!(%error, "the step launcher's socket"),
                    }
                    self.set_writer(None);
                    drop(socket);
                    let _ = process.kill();
                    let _ = process.wait();
                    // Everyone still waiting hears that it is over.
                    let mut waiting = self.waiting();
                    waiting.starting.clear();
                    waiting.running.clear();
                    tracing::error!("the step launcher stopped; starting a new one");
                }
                Err(error) => tracing::error!(%error, "could not start the step launcher"),
            }
            std::thread::sleep(RESTART_PAUSE);
        }
    }

    fn read_replies(&self, socket: &UnixStream) {
        loop {
            let reply = match protocol::receive(socket) {
                Ok(Some((bytes, _))) => serde_json::from_slice::<Reply>(&bytes),
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(%error, "reading from the step launcher");
                    return;
                }
            };
            match reply {
                Ok(reply) => self.deliver(reply),
                Err(error) => {
                    tracing::error!(%error, "the step launcher said something unreadable");
                    return;
                }
            }
        }
    }

    fn deliver(&self, reply: Reply) {
        let mut waiting = self.waiting();
        match reply {
            Reply::Started { id, pid } => {
                let Some(pending) = waiting.starting.remove(&id) else {
                    return;
                };
                if pending.started.send(Ok(pid)).is_ok() {
                    waiting.running.insert(pid, pending.exit);
                } else {
                    // Whoever asked is gone: so is the step.
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            Reply::Refused { id, message } => {
                if let Some(pending) = waiting.starting.remove(&id) {
                    let _ = pending.started.send(Err(message));
                }
            }
            Reply::Exited { pid, code } => {
                if let Some(exit) = waiting.running.remove(&pid) {
                    let _ = exit.send(code);
                }
            }
        }
    }
}

/// The launcher process, its socket on its stdin.
fn spawn_launcher(binary: &Path) -> std::io::Result<(std::process::Child, UnixStream)> {
    let (ours, theirs) = UnixStream::pair()?;
    let process = Command::new(binary)
        .arg(MODE)
        .arg(std::process::id().to_string())
        .env_clear()
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .spawn()?;
    Ok((process, ours))
}

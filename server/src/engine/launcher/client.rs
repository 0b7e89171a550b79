//! Kiln's side of the resident launchers: one per [`LauncherCommand`] (the
//! plain one, and a sandboxed one inside bubblewrap). A thread of its own
//! starts each launcher process (so the launcher's parent-death signal is
//! tied to a thread that never ends), reads its replies and hands each to
//! whoever waits for it; when the launcher goes, everyone waiting is told,
//! and a new one is started. Requests are written under a lock, off the
//! runtime's threads (waiting for a launcher that restarts blocks). Steps
//! are signalled through their launcher: a sandboxed launcher's process
//! ids are those of its own PID namespace.

use std::collections::HashMap;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::oneshot;

use super::protocol::{self, Message, Reply, Request};
use super::{MODE, Setup};

/// How long a start waits for a launcher (the first, or one restarting).
const WAIT_FOR_LAUNCHER: Duration = Duration::from_secs(10);
/// How long a start may take once requested.
const WAIT_FOR_START: Duration = Duration::from_secs(30);
/// Between a launcher's end and its successor's start.
const RESTART_PAUSE: Duration = Duration::from_millis(200);

/// How a launcher process is started: its program and arguments, and the
/// host user it runs as (`None`: Kiln's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LauncherCommand {
    pub argv: Vec<String>,
    pub user: Option<(u32, u32)>,
    /// Kiln's binary, handed to the program open as [`BINARY_FD`] (for
    /// bubblewrap to bind: the file Kiln runs, readable or not by the
    /// launcher's user, the same even once replaced on disk).
    pub binary: Option<PathBuf>,
}

/// The descriptor the launcher's program gets Kiln's binary on.
pub const BINARY_FD: i32 = 3;

impl LauncherCommand {
    /// The launcher `binary` on the host, as Kiln's user.
    pub fn plain(binary: &Path) -> LauncherCommand {
        LauncherCommand {
            argv: vec![
                binary.display().to_string(),
                MODE.to_owned(),
                std::process::id().to_string(),
            ],
            user: None,
            binary: None,
        }
    }
}

/// A step's process, started by the launcher.
pub struct Launched {
    shared: Arc<Shared>,
    /// The launcher that started it (its pids are that launcher's).
    generation: u64,
    pid: i32,
    /// `None` once it has answered.
    exit: Option<oneshot::Receiver<i32>>,
    code: Option<i32>,
}

impl Launched {
    /// Sends `signal` to its process group (through its launcher; nothing
    /// once its end is known).
    pub fn signal(&self, signal: Signal) {
        if self.code.is_none() && self.exit.is_some() {
            self.shared.signal(self.generation, self.pid, signal);
        }
    }

    /// Its exit code (128 + N for signal N). An error when the launcher
    /// went before it could tell (the step died with it).
    pub async fn wait(&mut self) -> std::io::Result<i32> {
        if let Some(code) = self.code {
            return Ok(code);
        }
        let lost = || std::io::Error::other("the step launcher stopped before the step ended");
        let exit = self.exit.as_mut().ok_or_else(lost)?;
        let result = exit.await;
        // A finished receiver must not be polled again.
        self.exit = None;
        let code = result.map_err(|_| lost())?;
        self.code = Some(code);
        Ok(code)
    }
}

impl Drop for Launched {
    /// Whoever ran it is gone: so is the step (as tokio's `kill_on_drop`).
    /// Not once its end is known, nor when it died with its launcher (its
    /// id may be another process's by now).
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// Starts `argv` through the launcher started by `command`, with stdout
/// and stderr going to the given write ends (closed here once they are
/// handed over).
pub async fn launch(
    command: &LauncherCommand,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    workdir: PathBuf,
    setup: &Setup,
    stdout: OwnedFd,
    stderr: OwnedFd,
) -> std::io::Result<Launched> {
    static LAUNCHERS: OnceLock<Mutex<HashMap<LauncherCommand, Arc<Shared>>>> = OnceLock::new();
    let shared = LAUNCHERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(command.clone())
        .or_insert_with(|| Shared::start(command.clone()))
        .clone();
    let (started_tx, started) = oneshot::channel();
    let (exit_tx, exit) = oneshot::channel();
    let pending = Pending {
        started: started_tx,
        exit: exit_tx,
    };
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    let request = Request::new(id, argv, env, workdir, setup);
    let bytes = serde_json::to_vec(&Message::Start(request))?;
    // Refused here, before a byte is written: a frame the launcher would
    // refuse must not cost the socket (and every running step with it).
    if bytes.len() > protocol::MAX_FRAME_BYTES {
        return Err(std::io::Error::other(format!(
            "the step's command and environment are too large to start ({} bytes)",
            bytes.len()
        )));
    }
    // Waiting for a launcher (one restarting) and writing to it block:
    // not on the runtime's threads.
    let sender = shared.clone();
    tokio::task::spawn_blocking(move || sender.send(id, pending, &bytes, stdout, stderr))
        .await
        .map_err(std::io::Error::other)??;
    match tokio::time::timeout(WAIT_FOR_START, started).await {
        Ok(Ok(Ok((pid, generation)))) => Ok(Launched {
            shared,
            generation,
            pid,
            exit: Some(exit),
            code: None,
        }),
        Ok(Ok(Err(message))) => Err(std::io::Error::other(message)),
        Ok(Err(_)) => Err(std::io::Error::other(
            "the step launcher stopped before the step started",
        )),
        // Should it start after all, nobody waits for it: it is killed.
        Err(_) => Err(std::io::Error::other(
            "the step launcher did not start the step in time",
        )),
    }
}

struct Pending {
    /// The pid and the launcher's generation, or why it did not start.
    started: oneshot::Sender<Result<(i32, u64), String>>,
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
    /// Which launcher runs (one more at each start), changed under the
    /// writer's lock: a pid is only ever signalled through the launcher
    /// that started it (a new sandboxed launcher's pids start over).
    generation: AtomicU64,
    ready: Condvar,
    waiting: Mutex<Waiting>,
    next: AtomicU64,
    /// To the thread that writes signals (never the caller, who may be on
    /// the runtime's threads or the reader's).
    signals: std::sync::mpsc::Sender<(u64, i32, Signal)>,
}

impl Shared {
    fn start(command: LauncherCommand) -> Arc<Shared> {
        let (signals, to_send) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            writer: Mutex::new(None),
            generation: AtomicU64::new(0),
            ready: Condvar::new(),
            waiting: Mutex::new(Waiting::default()),
            next: AtomicU64::new(1),
            signals,
        });
        let keeper = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("kiln-launcher".into())
            .spawn(move || keeper.keep_running(&command));
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the step launcher's thread");
        }
        // Holds only a weak handle: it ends with the last user of `shared`.
        let signaller = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new()
            .name("kiln-launcher-signals".into())
            .spawn(move || {
                while let Ok((generation, pid, signal)) = to_send.recv() {
                    match signaller.upgrade() {
                        Some(shared) => shared.write_signal(generation, pid, signal),
                        None => return,
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the step launcher's signal thread");
        }
        shared
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers request `id` and sends it to the running launcher (waits
    /// a little for one), with the step's output ends, closed here after.
    /// Registration and sending happen under the writer's lock, which a
    /// launcher's end also takes to clear what waits: a request is either
    /// known to the launcher that got it, or refused here.
    fn send(
        &self,
        id: u64,
        pending: Pending,
        bytes: &[u8],
        stdout: OwnedFd,
        stderr: OwnedFd,
    ) -> std::io::Result<()> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .ready
            .wait_timeout_while(guard, WAIT_FOR_LAUNCHER, |w| w.is_none())
            .unwrap_or_else(|e| e.into_inner());
        let socket = guard
            .as_ref()
            .ok_or_else(|| std::io::Error::other("the step launcher is not running"))?;
        self.waiting().starting.insert(id, pending);
        let sent = protocol::send(socket, bytes, &[stdout.as_raw_fd(), stderr.as_raw_fd()]);
        if sent.is_err() {
            self.waiting().starting.remove(&id);
            // Part of a frame may have gone: the stream can no longer be
            // trusted. The launcher sees its end and a new one starts.
            let _ = socket.shutdown(Shutdown::Both);
        }
        sent
    }

    /// Has `pid` of launcher `generation` signalled, without waiting.
    fn signal(&self, generation: u64, pid: i32, signal: Signal) {
        let _ = self.signals.send((generation, pid, signal));
    }

    /// Asks the launcher to signal `pid`'s group, if it is still the one
    /// that started it (else the step died with its launcher, and `pid`
    /// may be another step's by now).
    fn write_signal(&self, generation: u64, pid: i32, signal: Signal) {
        let message = Message::Signal {
            pid,
            signal: signal as i32,
        };
        let Ok(bytes) = serde_json::to_vec(&message) else {
            return;
        };
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Relaxed) != generation {
            return;
        }
        if let Some(socket) = writer.as_ref()
            && protocol::send(socket, &bytes, &[]).is_err()
        {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// The running launcher's socket (its generation), or none.
    fn set_writer(&self, socket: Option<UnixStream>) -> u64 {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        if socket.is_none() {
            // Everyone still waiting hears that it is over; nothing new is
            // registered meanwhile (that takes the writer's lock).
            let mut waiting = self.waiting();
            waiting.starting.clear();
            waiting.running.clear();
        }
        *writer = socket;
        self.ready.notify_all();
        generation
    }

    /// The thread's life: a launcher, its replies until it ends, the next.
    fn keep_running(self: Arc<Self>, command: &LauncherCommand) {
        loop {
            match spawn_launcher(command) {
                Ok((mut process, socket)) => {
                    match socket.try_clone() {
                        Ok(writer) => {
                            let generation = self.set_writer(Some(writer));
                            self.read_replies(&socket, generation);
                        }
                        Err(error) => tracing::error!(%error, "the step launcher's socket"),
                    }
                    self.set_writer(None);
                    drop(socket);
                    let _ = process.kill();
                    let _ = process.wait();
                    tracing::error!("the step launcher stopped; starting a new one");
                }
                Err(error) => tracing::error!(%error, "could not start the step launcher"),
            }
            std::thread::sleep(RESTART_PAUSE);
        }
    }

    fn read_replies(&self, socket: &UnixStream, generation: u64) {
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
                Ok(reply) => {
                    if let Some(orphan) = self.deliver(reply, generation) {
                        self.signal(generation, orphan, Signal::SIGKILL);
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "the step launcher said something unreadable");
                    return;
                }
            }
        }
    }

    /// Hands `reply` to whoever waits for it; a started step nobody waits
    /// for any more is returned, to be killed.
    fn deliver(&self, reply: Reply, generation: u64) -> Option<i32> {
        let mut waiting = self.waiting();
        match reply {
            Reply::Started { id, pid } => {
                let taken = waiting.starting.remove(&id).and_then(|pending| {
                    let started = pending.started.send(Ok((pid, generation)));
                    started.ok().map(|()| pending.exit)
                });
                match taken {
                    Some(exit) => {
                        waiting.running.insert(pid, exit);
                    }
                    // Whoever asked is gone (or was told it failed): so is
                    // the step. Its group exists before this reply.
                    None => return Some(pid),
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
        None
    }
}

/// The launcher process, its socket on its stdin.
fn spawn_launcher(command: &LauncherCommand) -> std::io::Result<(std::process::Child, UnixStream)> {
    let (program, args) = command
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("no launcher program"))?;
    let (ours, theirs) = UnixStream::pair()?;
    let mut process = Command::new(program);
    if let Some((uid, gid)) = command.user {
        // As root, std drops the supplementary groups first.
        process.uid(uid).gid(gid);
    }
    if let Some(binary) = &command.binary {
        pass_as_binary_fd(&mut process, std::fs::File::open(binary)?);
    }
    let process = process
        .args(args)
        .env_clear()
        .envs(crate::memory::allocator::launcher_env())
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        // A terminal's Ctrl-C or a signal to Kiln's group must not reach
        // it: its end would take every running step with it, while Kiln
        // itself lets them finish.
        .process_group(0)
        .spawn()?;
    Ok((process, ours))
}

/// Hands `binary` to the launcher's program as [`BINARY_FD`].
#[allow(unsafe_code)]
fn pass_as_binary_fd(command: &mut Command, binary: std::fs::File) {
    let fd = OwnedFd::from(binary);
    // SAFETY: between fork and exec only fcntl or dup2 on a descriptor
    // opened before the fork (the closure owns it): no allocation, no lock.
    unsafe {
        command.pre_exec(move || {
            let raw = fd.as_raw_fd();
            let done = if raw == BINARY_FD {
                nix::libc::fcntl(raw, nix::libc::F_SETFD, 0)
            } else {
                nix::libc::dup2(raw, BINARY_FD)
            };
            if done < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

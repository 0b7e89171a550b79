//! The resident launcher process: Kiln's binary in launcher mode, one
//! thread, its socket to Kiln on stdin. It waits for requests and for its
//! children's ends at once (the socket, a signalfd for SIGCHLD and, when
//! sandboxed, the pipe on which steps' inits tell their ends early: see
//! `early_ends`), starts a child per request (see `vfork`), and reports
//! each start and each end, once. It dies with
//! the Kiln thread that started it, and its children die with it: nothing
//! a step started outlives the Kiln process that ran it.

use std::collections::HashMap;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal, killpg};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use super::early_ends;
use super::isolate;
use super::protocol::{self, Message, Reply, Request};
use super::scope;
use super::stacks;
use super::vfork::{self, Place};

/// Serves Kiln (process `parent`) until it goes; never returns. A
/// `sandboxed` launcher starts every step in namespaces of its own (and
/// refuses a request without them); any other refuses them.
pub fn serve(parent: i32, sandboxed: bool) -> ! {
    match serve_until_eof(parent, sandboxed) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("kiln: the step launcher stopped: {error}");
            std::process::exit(1)
        }
    }
}

fn serve_until_eof(parent: i32, sandboxed: bool) -> std::io::Result<()> {
    forget_what_is_freed();
    crate::memory::allocator::restore_for_steps();
    stacks::prepare()?;
    // Asked once here: every init inherits the answer.
    let _ = scope::supported();
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
    if nix::unistd::getppid() != Pid::from_raw(parent) {
        // Kiln went before the death signal was armed.
        return Ok(());
    }
    // SAFETY: fd 0 is the socket Kiln gave this process as its stdin; it
    // is owned here alone from now on.
    #[allow(unsafe_code)]
    let socket = UnixStream::from(unsafe { OwnedFd::from_raw_fd(0) });
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    chld.thread_block()?;
    // Kept pending for each step's init until its shell exists (see
    // `isolate`); the launcher itself is stopped with SIGKILL.
    let mut stops = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        stops.add(signal);
    }
    stops.thread_block()?;
    let exits = SignalFd::with_flags(&chld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    // Only inits tell ends early; a launcher without a sandbox starts no
    // init (the pipe is still polled, and stays empty).
    let (told, tell) = early_ends::pipe()?;
    // Steps started and not yet reported ended, by pid, with their
    // request's id: the only processes Kiln may have signalled.
    let mut running = HashMap::new();
    loop {
        let (requests, ended, told_ends) = {
            let mut fds = [
                PollFd::new(socket.as_fd(), PollFlags::POLLIN),
                PollFd::new(exits.as_fd(), PollFlags::POLLIN),
                PollFd::new(told.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => other?,
            };
            let ready = |fd: &PollFd| fd.any().unwrap_or(false);
            (ready(&fds[0]), ready(&fds[1]), ready(&fds[2]))
        };
        if told_ends {
            for (id, code) in early_ends::read_all(&told)? {
                let pid = running
                    .iter()
                    .find_map(|(pid, started)| (*started == id).then_some(*pid));
                // Not running: reaped already (the record came late).
                if let Some(pid) = pid {
                    running.remove(&pid);
                    report_end(&socket, pid, code)?;
                }
            }
        }
        if ended {
            while exits.read_signal()?.is_some() {}
            reap(&socket, &mut running)?;
        }
        if requests {
            let Some((mut bytes, fds)) = protocol::receive(&socket)? else {
                return Ok(());
            };
            let message = serde_json::from_slice::<Message>(&bytes);
            // A step's environment holds its secrets; every later step's
            // init starts as a copy of this process (not dumpable, but
            // still): nothing of it is left in freed memory.
            bytes.fill(0);
            std::hint::black_box(&bytes);
            match message {
                Ok(Message::Signal { pid, signal }) => {
                    if running.contains_key(&pid)
                        && let Ok(signal) = Signal::try_from(signal)
                    {
                        let _ = killpg(Pid::from_raw(pid), signal);
                    }
                }
                Ok(Message::Start(mut request)) => {
                    let reply = start(&request, fds, sandboxed, tell.as_raw_fd());
                    for (_, value) in &mut request.env {
                        let mut value = std::mem::take(value).into_bytes();
                        value.fill(0);
                        std::hint::black_box(&value);
                    }
                    if let Reply::Started { id, pid } = reply {
                        running.insert(pid, id);
                    }
                    protocol::send(&socket, &serde_json::to_vec(&reply)?, &[])?;
                }
                Err(error) => {
                    let reply = Reply::Refused {
                        id: 0,
                        message: format!("unreadable request: {error}"),
                    };
                    protocol::send(&socket, &serde_json::to_vec(&reply)?, &[])?;
                }
            }
        }
    }
}

/// Reaps every child that has ended and reports those whose init did not
/// tell their end already. Whatever a step left running in its group is
/// killed first, while the leader's zombie still holds the group's id (so
/// the id cannot have been reused by then).
fn reap(socket: &UnixStream, running: &mut HashMap<i32, u64>) -> std::io::Result<()> {
    let waiting = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG;
    loop {
        let pid = match waitid(Id::All, waiting | WaitPidFlag::WNOWAIT) {
            Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::ECHILD) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error.into()),
            Ok(status) => match status.pid() {
                Some(pid) => pid,
                None => return Ok(()),
            },
        };
        let _ = killpg(pid, Signal::SIGKILL);
        let code = match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, signal, _)) => 128 + signal as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error.into()),
        };
        if running.remove(&pid.as_raw()).is_some() {
            report_end(socket, pid.as_raw(), code)?;
        }
    }
}

fn report_end(socket: &UnixStream, pid: i32, code: i32) -> std::io::Result<()> {
    let reply = Reply::Exited { pid, code };
    protocol::send(socket, &serde_json::to_vec(&reply)?, &[])
}

/// Starts the child of one request.
fn start(request: &Request, fds: Vec<OwnedFd>, sandboxed: bool, ends: RawFd) -> Reply {
    let id = request.id;
    let refuse = |message: &str| Reply::Refused {
        id,
        message: message.to_owned(),
    };
    let [stdout, stderr]: [OwnedFd; 2] = match fds.try_into() {
        Ok(pair) => pair,
        Err(_) => return refuse("a start request needs stdout and stderr"),
    };
    let spawned = match (&request.isolation, sandboxed) {
        (Some(isolation), true) => isolate::spawn(request, isolation, &stdout, &stderr, ends)
            .map(|pid| vfork::Spawned { pid, error: None }),
        (None, false) => vfork::spawn(
            request,
            Place::Host {
                stdout: &stdout,
                stderr: &stderr,
            },
        ),
        (None, true) => return refuse("this launcher starts steps only in their own namespaces"),
        (Some(_), false) => return refuse("this launcher has no sandbox to start steps in"),
    };
    match spawned {
        Ok(spawned) => {
            let pid = Pid::from_raw(spawned.pid);
            // The child makes its own process group before it execs, so
            // the group exists before Kiln hears of the process and a kill
            // right after the start reaches it. (Once it has execed this
            // fails; it is here for a child that exited early.)
            let _ = nix::unistd::setpgid(pid, pid);
            if let Some(error) = spawned.error {
                // Where the step's own output goes; it has exited 126, as a
                // shell reports a program it cannot run.
                let mut err = std::fs::File::from(stderr);
                let _ = writeln!(err, "kiln: cannot start the step: {error}");
            }
            Reply::Started {
                id,
                pid: spawned.pid,
            }
        }
        Err(message) => Reply::Refused { id, message },
    }
}

/// Every later step's init starts as a copy of this process's memory, and
/// requests carry steps' secrets: glibc (this process's only allocator,
/// see `memory::allocator`) is asked to overwrite what is freed (the
/// parser's scratch copies included), beside the explicit zeroing of each
/// request.
fn forget_what_is_freed() {
    #[cfg(target_env = "gnu")]
    // SAFETY: a malloc tunable set once, before this single-threaded
    // process allocates for any request.
    #[allow(unsafe_code)]
    unsafe {
        nix::libc::mallopt(nix::libc::M_PERTURB, 0x5a);
    }
}

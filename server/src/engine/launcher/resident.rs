//! The resident launcher process: Kiln's binary in launcher mode, one
//! thread, its socket to Kiln on stdin. It waits for requests and for its
//! children's ends at once (the socket and a signalfd for SIGCHLD), forks
//! a child per request, and reports each start and each exit. It dies with
//! the Kiln thread that started it, and its children die with it: nothing
//! a step started outlives the Kiln process that ran it.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::resource::setrlimit;
use nix::sys::signal::{SigSet, Signal, killpg};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid};

use super::protocol::{self, Reply, Request};
use super::resource_of;

/// Serves Kiln (process `parent`) until it goes; never returns.
pub fn serve(parent: i32) -> ! {
    match serve_until_eof(parent) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("kiln: the step launcher stopped: {error}");
            std::process::exit(1)
        }
    }
}

fn serve_until_eof(parent: i32) -> std::io::Result<()> {
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
    let exits = SignalFd::with_flags(&chld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    loop {
        let (requests, ended) = {
            let mut fds = [
                PollFd::new(socket.as_fd(), PollFlags::POLLIN),
                PollFd::new(exits.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => other?,
            };
            (fds[0].any().unwrap_or(false), fds[1].any().unwrap_or(false))
        };
        if ended {
            while exits.read_signal()?.is_some() {}
            reap(&socket)?;
        }
        if requests {
            let Some((bytes, fds)) = protocol::receive(&socket)? else {
                return Ok(());
            };
            let reply = start(&bytes, fds);
            protocol::send(&socket, &serde_json::to_vec(&reply)?, &[])?;
        }
    }
}

/// Reports every child that has ended. Whatever a step left running in
/// its group is killed first, while the leader's zombie still holds the
/// group's id (so the id cannot have been reused by then).
fn reap(socket: &UnixStream) -> std::io::Result<()> {
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
        let reply = Reply::Exited {
            pid: pid.as_raw(),
            code,
        };
        protocol::send(socket, &serde_json::to_vec(&reply)?, &[])?;
    }
}

/// Forks the child of one request.
fn start(bytes: &[u8], fds: Vec<OwnedFd>) -> Reply {
    let request: Request = match serde_json::from_slice(bytes) {
        Ok(request) => request,
        Err(error) => {
            return Reply::Refused {
                id: 0,
                message: format!("unreadable request: {error}"),
            };
        }
    };
    let id = request.id;
    let [stdout, stderr]: [OwnedFd; 2] = match fds.try_into() {
        Ok(pair) => pair,
        Err(_) => {
            return Reply::Refused {
                id,
                message: "a start request needs stdout and stderr".into(),
            };
        }
    };
    let launcher = Pid::this();
    // SAFETY: this process has one thread, so the child may do anything
    // the parent could (allocate, take locks) before it execs.
    #[allow(unsafe_code)]
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => child(&request, stdout, stderr, launcher),
        Ok(ForkResult::Parent { child }) => {
            // Also in the child, whichever runs first: the group exists
            // before Kiln hears of the process, so a kill right after the
            // start reaches it.
            let _ = nix::unistd::setpgid(child, child);
            Reply::Started {
                id,
                pid: child.as_raw(),
            }
        }
        Err(error) => Reply::Refused {
            id,
            message: format!("fork failed: {error}"),
        },
    }
}

/// In the forked child: output first (so a failure below reaches the
/// step's log), then the setup, then the program. Never returns.
fn child(request: &Request, stdout: OwnedFd, stderr: OwnedFd, launcher: Pid) -> ! {
    let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
    let error = match (
        nix::unistd::dup2_stdout(&stdout),
        nix::unistd::dup2_stderr(&stderr),
    ) {
        (Ok(()), Ok(())) => {
            drop((stdout, stderr));
            exec(request, launcher)
        }
        (Err(error), _) | (_, Err(error)) => format!("its output could not be connected: {error}"),
    };
    eprintln!("kiln: cannot start the step: {error}");
    // Not `exit`: nothing of the launcher's own (buffers, handlers) runs
    // in its child. As a shell reports a program it cannot run.
    #[allow(unsafe_code)]
    // SAFETY: `_exit` ends this process at once; it is always safe to call.
    unsafe {
        nix::libc::_exit(126)
    }
}

/// The working directory (as Kiln's user: the step's may not pass its
/// parents), the host user, the death signal (after the user: a change of
/// user clears it), the limits, then the program with exactly the step's
/// environment. Returns only on failure.
fn exec(request: &Request, launcher: Pid) -> String {
    let limits = match request.limits() {
        Ok(limits) => limits,
        Err(error) => return error,
    };
    let result = (|| -> nix::Result<()> {
        nix::unistd::chdir(&request.workdir)?;
        if let Some((uid, gid)) = request.host_user {
            nix::unistd::setgroups(&[])?;
            nix::unistd::setgid(Gid::from_raw(gid))?;
            nix::unistd::setuid(Uid::from_raw(uid))?;
        }
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
        if nix::unistd::getppid() != launcher {
            return Err(nix::errno::Errno::ESRCH);
        }
        for &(limit, value) in &limits {
            setrlimit(resource_of(limit), value, value)?;
        }
        SigSet::all().thread_unblock()?;
        Ok(())
    })();
    if let Err(errno) = result {
        return format!("setting up its process failed: {errno}");
    }
    let Some((program, args)) = request.argv.split_first() else {
        return "no program to run".into();
    };
    // std resets the signal mask and SIGPIPE before it execs.
    let error = Command::new(program)
        .args(args)
        .env_clear()
        .envs(request.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .exec();
    format!("{program}: {error}")
}

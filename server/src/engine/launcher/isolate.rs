//! Starting one step in namespaces of its own, from a launcher that lives
//! inside a bubblewrap sandbox (see `launcher_command_line` in the domain).
//! bubblewrap builds the expensive part once, for the launcher: the user
//! namespace, the read-only root, Kiln's own files covered, `/dev`. Per
//! step only what differs is made:
//!
//! The launcher forks a child into new mount, PID, IPC and UTS namespaces
//! (and network, for `network: none`). That child is the step's init
//! (PID 1 of its namespace). It mounts the step's own `/proc`, a private
//! `/tmp` and `/dev/shm`, covers the directory of every step's files with
//! an empty read-only tmpfs and binds back only this step's directory and
//! `$KILN_OUTPUT`; then it gives up being dumpable, enters a Landlock
//! domain of its own (so the step's abstract sockets and signals stay in
//! the step: `scope`) and starts the step's shell (`vfork`), which enters
//! a user namespace of its own as uid 65534 (so its process limit counts
//! its own processes, and it can make no further namespaces) and execs.
//! The init drops every capability and waits: when the shell ends it kills
//! whatever else is left in the namespace, reaps it, closes the step's
//! output, tells the launcher the step's status (`early_ends`) and exits
//! with it.
//!
//! Why an init and not the shell as PID 1: a PID 1 ignores every signal it
//! has no handler for, so a step's shell would shrug off the SIGTERM of a
//! timeout or a cancel. The init is a copy of the launcher (a fork of a
//! small single-threaded process, no exec), in the step's process group.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use kiln_core::sandbox::Network;
use nix::libc;

use super::early_ends;
use super::protocol::{Isolation, Request};
use super::scope;
use super::stacks;
use super::step_view::{self, Failure, check, errno};
use super::vfork::{self, Place};

/// Everything the init does, prepared by the launcher.
struct Plan<'a> {
    request: &'a Request,
    stdout: RawFd,
    stderr: RawFd,
    /// Where the init tells the step's end (see `early_ends`).
    ends: RawFd,
    view: step_view::View,
}

/// Starts `request` in new namespaces; its pid in the launcher's, the
/// leader of its own process group. A failure of the setup is written to
/// the step's stderr and the step exits 126. Its end is told on `ends`
/// (the write end of `early_ends`' pipe) before the init exits.
pub fn spawn(
    request: &Request,
    isolation: &Isolation,
    stdout: &OwnedFd,
    stderr: &OwnedFd,
    ends: RawFd,
) -> Result<libc::pid_t, String> {
    let plan = Plan {
        request,
        stdout: stdout.as_raw_fd(),
        stderr: stderr.as_raw_fd(),
        ends,
        view: step_view::prepare(isolation)?,
    };
    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if isolation.network == Network::None {
        flags |= libc::CLONE_NEWNET;
    }
    let top = stacks::init_top()?;
    // SAFETY: without CLONE_VM the child runs on its own copy of this
    // (single-threaded) process, its stack (see `stacks`) and `plan`
    // included; `init` never returns into the launcher's code.
    #[allow(unsafe_code)]
    let pid = unsafe {
        libc::clone(
            init,
            top,
            flags | libc::SIGCHLD,
            std::ptr::from_ref(&plan).cast_mut().cast(),
        )
    };
    if pid < 0 {
        return Err(format!(
            "cannot make the step's namespaces: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(pid)
}

/// The step's init: set up, start the shell, wait. Never returns.
#[allow(unsafe_code)]
extern "C" fn init(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is this process's copy of the launcher's `Plan`.
    let plan = unsafe { &*(arg as *const Plan) };
    if let Err((what, errno)) = set_up(plan) {
        let errno = std::io::Error::from_raw_os_error(errno);
        say(&format!(
            "kiln: cannot start the step: setting up its sandbox failed: {what}: {errno}\n"
        ));
        exit(126);
    }
    let shell = match vfork::spawn(plan.request, Place::Sandbox) {
        Ok(spawned) => {
            // The shell has exited 126 by itself.
            if let Some(error) = spawned.error {
                say(&format!("kiln: cannot start the step: {error}\n"));
            }
            spawned.pid
        }
        Err(message) => {
            say(&format!("kiln: cannot start the step: {message}\n"));
            exit(126)
        }
    };
    // Kept until the shell runs: writing its user namespace's maps and
    // limit is refused without them. The init is not dumpable meanwhile.
    drop_capabilities();
    forward_early_stops(shell);
    loop {
        let mut status = 0;
        // SAFETY: waits for any child of this init, writing its status.
        let ended = unsafe { libc::waitpid(-1, &mut status, 0) };
        if ended == shell {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
            if end_the_rest() {
                // SAFETY: closes the step's input and output, which nothing
                // in the namespace holds any more.
                unsafe {
                    libc::close(0);
                    libc::close(1);
                    libc::close(2);
                }
                early_ends::tell(plan.ends, plan.request.id, code);
            }
            exit(code);
        }
        if ended < 0 && errno() != libc::EINTR {
            exit(125);
        }
    }
}

/// Kills every other process of the step's namespace and reaps them all
/// (again and again, so that one forked meanwhile goes too), as the
/// kernel would once the init exits. Whether none is left: only then may
/// the step's end be told before the init's exit. Every process here runs
/// as the init's own user (the shell's namespace maps one id to it), in
/// its Landlock domain or one nested in it: the init may signal them all.
#[allow(unsafe_code)]
fn end_the_rest() -> bool {
    loop {
        // SAFETY: signals every process of this PID namespace but the
        // init; then waits for any child of the init, writing its status.
        let ended = unsafe {
            libc::kill(-1, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(-1, &mut status, 0)
        };
        if ended < 0 {
            match errno() {
                libc::EINTR => {}
                libc::ECHILD => return true,
                _ => return false,
            }
        }
    }
}

/// A stop (SIGTERM, SIGINT, SIGHUP) sent before the shell existed: the
/// launcher blocks them, so they wait here, pending (an init would
/// discard them), and go on to the shell. Later ones reach the shell
/// directly: it is in the group they are sent to.
#[allow(unsafe_code)]
fn forward_early_stops(shell: libc::pid_t) {
    // SAFETY: reads this process's pending signals into a zeroed set.
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        if libc::sigpending(&mut pending) != 0 {
            return;
        }
        for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            if libc::sigismember(&pending, signal) == 1 {
                libc::kill(shell, signal);
            }
        }
    }
}

/// Everything before the shell starts, in the init's namespaces.
#[allow(unsafe_code)]
fn set_up(plan: &Plan) -> Result<(), Failure> {
    // SAFETY: plain system calls on values and C strings of `plan`.
    unsafe {
        check("its process group", libc::setpgid(0, 0))?;
        check(
            "its parent-death signal",
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong),
        )?;
        let null = check(
            "its output",
            libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC),
        )?;
        check("its output", libc::dup2(null, 0))?;
        check("its output", libc::dup2(plan.stdout, 1))?;
        check("its output", libc::dup2(plan.stderr, 2))?;
        step_view::make(&plan.view)?;
        // Nothing of the launcher's (its socket, its signals) stays open
        // but the pipe that tells the step's end, which the step's exec
        // closes.
        let ends =
            libc::c_uint::try_from(plan.ends).map_err(|_| ("its descriptors", libc::EBADF))?;
        if ends > 3 {
            check("its descriptors", libc::close_range(3, ends - 1, 0))?;
        }
        check(
            "its descriptors",
            libc::close_range(ends.max(2) + 1, libc::c_uint::MAX, 0),
        )?;
        // Not dumpable: a step (same user outside) may not trace its init,
        // which holds the launcher's capabilities until the shell runs.
        check(
            "its privileges",
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0),
        )?;
        check(
            "its privileges",
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        )?;
    }
    scope::restrict().map_err(|errno| ("its abstract sockets and signals", errno))?;
    Ok(())
}

/// The init keeps none of the launcher's capabilities once the shell runs.
#[allow(unsafe_code)]
fn drop_capabilities() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let none = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset with a version-3 header and its two data words.
    let result = unsafe { libc::syscall(libc::SYS_capset, &header, none.as_ptr()) };
    if result != 0 {
        exit(125);
    }
}

/// Writes `text` to the step's stderr (the init's fd 2).
fn say(text: &str) {
    // SAFETY: a write of a buffer we own to fd 2.
    #[allow(unsafe_code)]
    unsafe {
        libc::write(2, text.as_ptr().cast(), text.len());
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: ends the init at once: none of the launcher's state (its
    // socket's buffers, at-exit handlers) is touched from this copy.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

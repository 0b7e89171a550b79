//! Starting one step's program from the resident launcher the way
//! `posix_spawn` does: everything is prepared in the launcher (C strings,
//! argument and environment arrays, limits), then a child that shares the
//! launcher's memory (`CLONE_VM | CLONE_VFORK`: no page tables copied, no
//! copy-on-write faults, nothing torn down at exec) makes only system
//! calls — its process group, output, working directory, host user,
//! parent-death signal, limits, signal mask — and execs. The launcher is
//! suspended until then. A failure is left in the shared plan for the
//! launcher to write to the step's stderr; the child exits 126. The price:
//! until the child execs, the launcher waits for it (a working directory
//! on a hung network file system would hold every step's start).
//!
//! The child calls the kernel directly for the user and groups: glibc's
//! wrappers would signal every thread of the process to change theirs, and
//! the launcher's only thread is the one suspended waiting for this child.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;

use kiln_core::sandbox::SANDBOX_ID;

use super::protocol::Request;
use super::resource_of;
use super::stacks;

/// What the child does, prepared by the launcher; the child only reads it
/// (and writes `failed`).
struct Plan {
    program: CString,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    workdir: CString,
    dev_null: CString,
    host_user: Option<(libc::uid_t, libc::gid_t)>,
    limits: Vec<(libc::__rlimit_resource_t, libc::rlimit)>,
    /// stdout and stderr, in a process group of its own; `None` in a
    /// sandbox, where the child keeps its init's output and group.
    output: Option<(RawFd, RawFd)>,
    /// Maps for a user namespace of its own (in a sandbox).
    user_namespace: Option<UserNamespace>,
    launcher: libc::pid_t,
    /// The step of the setup that failed (index into [`STAGES`]) and its
    /// errno, packed; 0 while nothing failed.
    failed: AtomicI32,
}

/// The contents of a new user namespace's map files: the step is
/// [`SANDBOX_ID`] inside, its init's user outside.
struct UserNamespace {
    uid_map: CString,
    gid_map: CString,
}

const STAGES: [&str; 9] = [
    "its process group",
    "its output",
    "its working directory",
    "its host user",
    "its parent-death signal",
    "its resource limits",
    "its signals",
    "the program",
    "its user namespace",
];

/// Where the child starts.
pub enum Place<'a> {
    /// From the launcher: its own process group and output.
    Host {
        stdout: &'a OwnedFd,
        stderr: &'a OwnedFd,
    },
    /// From a step's init in its namespaces (see `isolate`): in the
    /// init's group with its output, in a user namespace of its own.
    Sandbox,
}

/// A started step: its pid, or why it could not start (then `pid` is the
/// child that failed and exits 126, `error` says why).
pub struct Spawned {
    pub pid: libc::pid_t,
    pub error: Option<String>,
}

/// Starts `request` at `place`. Errors are only those of preparing (a
/// program not named by absolute path, a string with a NUL byte) or of
/// `clone` itself.
pub fn spawn(request: &Request, place: Place) -> Result<Spawned, String> {
    let program_path = request
        .argv
        .first()
        .ok_or_else(|| "no program to run".to_owned())?;
    // Kiln names its programs by absolute path (`/bin/sh`, bubblewrap's
    // found at start): nothing is looked up, so nothing is statted here,
    // where a hung file system would stop every step's start.
    if !program_path.starts_with('/') {
        return Err(format!(
            "{program_path}: a step's program is named by its absolute path"
        ));
    }
    let program = c_string(OsStr::new(program_path))?;
    let argv_strings: Vec<CString> = request
        .argv
        .iter()
        .map(|a| c_string(OsStr::new(a)))
        .collect::<Result<_, _>>()?;
    let env_strings: Vec<CString> = last_of_each(&request.env)
        .map(|(k, v)| c_string(OsStr::new(&format!("{k}={v}"))))
        .collect::<Result<_, _>>()?;
    let limits = request
        .limits()?
        .into_iter()
        .map(|(limit, value)| {
            let resource = resource_of(limit) as libc::__rlimit_resource_t;
            let value = value as libc::rlim_t;
            (
                resource,
                libc::rlimit {
                    rlim_cur: value,
                    rlim_max: value,
                },
            )
        })
        .collect();
    let (output, user_namespace, host_user) = match place {
        Place::Host { stdout, stderr } => (
            Some((stdout.as_raw_fd(), stderr.as_raw_fd())),
            None,
            request.host_user,
        ),
        Place::Sandbox => {
            // SAFETY: geteuid and getegid only read this process's ids.
            #[allow(unsafe_code)]
            let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
            let map = |id: u32| c_string(OsStr::new(&format!("{SANDBOX_ID} {id} 1\n")));
            let maps = UserNamespace {
                uid_map: map(uid)?,
                gid_map: map(gid)?,
            };
            (None, Some(maps), None)
        }
    };
    let plan = Plan {
        program,
        argv: pointers(&argv_strings),
        envp: pointers(&env_strings),
        workdir: c_string(request.workdir.as_os_str())?,
        dev_null: c_string(OsStr::new("/dev/null"))?,
        host_user,
        limits,
        output,
        user_namespace,
        launcher: std::process::id() as libc::pid_t,
        failed: AtomicI32::new(0),
    };
    let top = stacks::child_top()?;
    // SAFETY: the stack lives as long as this process and only one child
    // uses it at a time (with CLONE_VFORK this process resumes only once
    // the child has execed or exited; see `stacks`); `child` reads `plan`
    // (alive for the same span) and makes only system calls.
    #[allow(unsafe_code)]
    let pid = unsafe {
        libc::clone(
            child,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            std::ptr::from_ref(&plan).cast_mut().cast(),
        )
    };
    if pid < 0 {
        return Err(format!("clone failed: {}", std::io::Error::last_os_error()));
    }
    // Kept alive until here: the child is done with them.
    drop((argv_strings, env_strings));
    let failed = plan.failed.load(Ordering::Acquire);
    let error = (failed != 0).then(|| {
        let stage = STAGES
            .get((failed >> 16) as usize)
            .copied()
            .unwrap_or("its setup");
        let errno = std::io::Error::from_raw_os_error(failed & 0xffff);
        if stage == "the program" {
            format!("{}: {errno}", program_path)
        } else {
            format!("setting up {stage} failed: {errno}")
        }
    });
    Ok(Spawned { pid, error })
}

/// The child: system calls only, then exec. Never returns.
#[allow(unsafe_code)]
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the launcher's `Plan`, alive until this child has
    // execed or exited (CLONE_VFORK).
    let plan = unsafe { &*(arg as *const Plan) };
    let fail = |stage: i32| -> libc::c_int {
        // SAFETY: reading errno is a plain load of this thread's variable.
        let errno = unsafe { *libc::__errno_location() };
        plan.failed
            .store((stage << 16) | (errno & 0xffff).max(1), Ordering::Release);
        // SAFETY: `_exit` ends this child at once, running nothing of the
        // launcher's (no atexit handlers, no buffers flushed).
        unsafe { libc::_exit(126) }
    };
    // SAFETY: each call below is a system call on plain values or on
    // pointers into `plan`, which stays valid; none allocates or takes a
    // lock another thread could hold.
    unsafe {
        if let Some((stdout, stderr)) = plan.output {
            if libc::setpgid(0, 0) != 0 {
                return fail(0);
            }
            let null = libc::open(plan.dev_null.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if null < 0
                || libc::dup2(null, 0) < 0
                || libc::dup2(stdout, 1) < 0
                || libc::dup2(stderr, 2) < 0
            {
                return fail(1);
            }
        }
        if libc::chdir(plan.workdir.as_ptr()) != 0 {
            return fail(2);
        }
        if let Some((uid, gid)) = plan.host_user
            && (libc::syscall(
                libc::SYS_setgroups,
                0 as libc::c_long,
                std::ptr::null::<libc::gid_t>(),
            ) != 0
                || libc::syscall(
                    libc::SYS_setresgid,
                    libc::c_long::from(gid),
                    libc::c_long::from(gid),
                    libc::c_long::from(gid),
                ) != 0
                || libc::syscall(
                    libc::SYS_setresuid,
                    libc::c_long::from(uid),
                    libc::c_long::from(uid),
                    libc::c_long::from(uid),
                ) != 0)
        {
            return fail(3);
        }
        if let Some(maps) = &plan.user_namespace
            && !enter_user_namespace(maps)
        {
            return fail(8);
        }
        // After the user: a change of user clears it.
        // Variadic: the signal goes as the full-width value prctl reads.
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
            return fail(4);
        }
        if libc::getppid() != plan.launcher {
            *libc::__errno_location() = libc::ESRCH;
            return fail(4);
        }
        for (resource, limit) in &plan.limits {
            if libc::setrlimit(*resource, limit) != 0 {
                return fail(5);
            }
        }
        // The launcher blocks SIGCHLD and Rust ignores SIGPIPE: the step
        // starts with neither.
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0
            || libc::signal(libc::SIGPIPE, libc::SIG_DFL) == libc::SIG_ERR
        {
            return fail(6);
        }
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        );
        fail(7)
    }
}

/// A user namespace of its own, where the child is [`SANDBOX_ID`] and may
/// make no further one. System calls only (the child shares the memory of
/// its parent).
#[allow(unsafe_code)]
fn enter_user_namespace(maps: &UserNamespace) -> bool {
    // SAFETY: unshare, then open, write and close of files named by C
    // string literals with contents prepared in `maps`.
    unsafe {
        let write = |path: &std::ffi::CStr, text: &std::ffi::CStr| {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return false;
            }
            let length = text.to_bytes().len();
            let written = libc::write(fd, text.as_ptr().cast(), length);
            libc::close(fd);
            written == length as isize
        };
        libc::unshare(libc::CLONE_NEWUSER) == 0
            && write(c"/proc/self/setgroups", c"deny")
            && write(c"/proc/self/uid_map", &maps.uid_map)
            && write(c"/proc/self/gid_map", &maps.gid_map)
            && write(c"/proc/sys/user/max_user_namespaces", c"0")
    }
}

fn c_string(text: &OsStr) -> Result<CString, String> {
    CString::new(text.as_bytes()).map_err(|_| "an argument holds a NUL byte".to_owned())
}

/// Null-terminated pointers to `strings` (which must outlive them).
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Each variable once, with the last value given for it (as the shell
/// and `Command::envs` resolve duplicates), in the order of their last
/// occurrence.
fn last_of_each(env: &[(String, String)]) -> impl Iterator<Item = &(String, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<&(String, String)> = env
        .iter()
        .rev()
        .filter(|(k, _)| seen.insert(k.as_str()))
        .collect();
    kept.reverse();
    kept.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_of_a_variable_wins() {
        let env: Vec<(String, String)> = [("PATH", "/a"), ("HOME", "/h"), ("PATH", "/b")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let kept: Vec<(&str, &str)> = last_of_each(&env)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(kept, [("HOME", "/h"), ("PATH", "/b")]);
    }
}

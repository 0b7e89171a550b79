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
//! `$KILN_OUTPUT`; then it gives up being dumpable and starts the step's
//! shell (`vfork`), which enters a user namespace of its own as uid
//! 65534 (so its process limit counts its own processes, and it can make
//! no further namespaces) and execs. The init drops every capability and
//! waits: when the shell ends it exits with its status, and the kernel
//! kills whatever else is left in the namespace.
//!
//! Why an init and not the shell as PID 1: a PID 1 ignores every signal it
//! has no handler for, so a step's shell would shrug off the SIGTERM of a
//! timeout or a cancel. The init is a copy of the launcher (a fork of a
//! small single-threaded process, no exec), in the step's process group.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use kiln_core::sandbox::Network;
use nix::libc;

use super::protocol::{Isolation, Request};
use super::vfork::{self, Place};

/// The init's stack until it has started the shell.
const INIT_STACK_BYTES: usize = 256 * 1024;

/// A bind of one step path back into the covered work root.
struct Bind {
    source: CString,
    /// Directories below the work root down to the target's parent.
    parents: Vec<CString>,
    target: CString,
}

/// Everything the init does, prepared by the launcher.
struct Plan<'a> {
    request: &'a Request,
    stdout: RawFd,
    stderr: RawFd,
    /// The work root and every directory above it, from the top (made in a
    /// fresh `/tmp` when the work root lies below it).
    root_and_parents: Vec<CString>,
    work_root: CString,
    binds: Vec<Bind>,
    tmp_options: CString,
    offline: bool,
}

/// Starts `request` in new namespaces; its pid in the launcher's, the
/// leader of its own process group. A failure of the setup is written to
/// the step's stderr and the step exits 126.
pub fn spawn(
    request: &Request,
    isolation: &Isolation,
    stdout: &OwnedFd,
    stderr: &OwnedFd,
) -> Result<libc::pid_t, String> {
    let plan = prepare(request, isolation, stdout.as_raw_fd(), stderr.as_raw_fd())?;
    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if isolation.network == Network::None {
        flags |= libc::CLONE_NEWNET;
    }
    let mut stack = vec![0u8; INIT_STACK_BYTES];
    // SAFETY: without CLONE_VM the child runs on its own copy of this
    // (single-threaded) process, stack and `plan` included; `init` never
    // returns into the launcher's code. The top is aligned down to 16
    // bytes as the ABI wants.
    #[allow(unsafe_code)]
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(INIT_STACK_BYTES);
        let top = top.sub(top as usize % 16);
        libc::clone(
            init,
            top.cast(),
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

fn prepare<'a>(
    request: &'a Request,
    isolation: &Isolation,
    stdout: RawFd,
    stderr: RawFd,
) -> Result<Plan<'a>, String> {
    let root = &isolation.work_root;
    if !root.is_absolute() || root == Path::new("/") {
        return Err(format!("{}: not a work root", root.display()));
    }
    let binds = isolation
        .binds
        .iter()
        .map(|path| {
            let below = path
                .strip_prefix(root)
                .ok()
                .filter(|p| p.components().count() > 0)
                .filter(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
                .ok_or_else(|| format!("{} is not below the work root", path.display()))?;
            let mut parents = Vec::new();
            let mut dir = root.clone();
            let components: Vec<_> = below.components().collect();
            for part in &components[..components.len() - 1] {
                dir.push(part);
                parents.push(c_path(&dir)?);
            }
            Ok(Bind {
                source: c_path(path)?,
                parents,
                target: c_path(path)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let root_and_parents = root
        .ancestors()
        .filter(|p| *p != Path::new("/"))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(c_path)
        .collect::<Result<_, _>>()?;
    let tmp_options = match isolation.tmp_bytes {
        0 => "mode=1777".to_owned(),
        bytes => format!("mode=1777,size={bytes}"),
    };
    Ok(Plan {
        request,
        stdout,
        stderr,
        root_and_parents,
        work_root: c_path(root)?,
        binds,
        tmp_options: CString::new(tmp_options).map_err(|e| e.to_string())?,
        offline: isolation.network == Network::None,
    })
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{}: a path holds a NUL byte", path.display()))
}

/// A failed part of the setup and its errno.
type Failure = (&'static str, i32);

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `result` of a libc call: an error (with errno) when negative.
fn check(what: &'static str, result: libc::c_int) -> Result<libc::c_int, Failure> {
    if result < 0 {
        Err((what, errno()))
    } else {
        Ok(result)
    }
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
            exit(code);
        }
        if ended < 0 && errno() != libc::EINTR {
            exit(125);
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
        let mount =
            |what, source: &CStr, target: &CStr, kind: &CStr, flags, data: *const libc::c_void| {
                check(
                    what,
                    libc::mount(source.as_ptr(), target.as_ptr(), kind.as_ptr(), flags, data),
                )
            };
        let private = libc::MS_REC | libc::MS_PRIVATE;
        check(
            "its mounts",
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                private,
                std::ptr::null(),
            ),
        )?;
        // The step's own files, taken before the work root is covered.
        let mut trees = Vec::with_capacity(plan.binds.len());
        for bind in &plan.binds {
            let tree = libc::syscall(
                libc::SYS_open_tree,
                libc::AT_FDCWD,
                bind.source.as_ptr(),
                (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint,
            );
            trees.push(check("its directory", tree as libc::c_int)?);
        }
        let hidden = libc::MS_NOSUID | libc::MS_NODEV;
        for dir in [c"/tmp", c"/dev/shm"] {
            mount(
                "its /tmp",
                c"tmpfs",
                dir,
                c"tmpfs",
                hidden,
                plan.tmp_options.as_ptr().cast(),
            )?;
        }
        // Its own terminals: the sandbox's are shared by every step.
        mount(
            "its /dev/pts",
            c"devpts",
            c"/dev/pts",
            c"devpts",
            // Not `nodev`: its nodes are the point.
            libc::MS_NOSUID | libc::MS_NOEXEC,
            c"newinstance,ptmxmode=0666,mode=620".as_ptr().cast(),
        )?;
        // A work root below /tmp is now under the fresh one: made again,
        // and sealed below (read-only, as in the launcher's view).
        let made = plan
            .root_and_parents
            .iter()
            .find(|dir| libc::mkdir(dir.as_ptr(), 0o755) == 0);
        for dir in &plan.root_and_parents {
            libc::mkdir(dir.as_ptr(), 0o755);
        }
        mount(
            "covering the other steps",
            c"tmpfs",
            &plan.work_root,
            c"tmpfs",
            hidden | libc::MS_NOEXEC,
            c"mode=0755,size=1m".as_ptr().cast(),
        )?;
        for (bind, tree) in plan.binds.iter().zip(&trees) {
            for dir in &bind.parents {
                libc::mkdir(dir.as_ptr(), 0o711);
            }
            let mut stat: libc::stat = std::mem::zeroed();
            check("its directory", libc::fstat(*tree, &mut stat))?;
            // The target may be there already, inside a bind made before.
            if stat.st_mode & libc::S_IFMT == libc::S_IFDIR {
                if libc::mkdir(bind.target.as_ptr(), 0o700) != 0 && errno() != libc::EEXIST {
                    return Err(("its directory", errno()));
                }
            } else {
                let file = libc::open(
                    bind.target.as_ptr(),
                    libc::O_RDONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                    0o600,
                );
                libc::close(check("its output file", file)?);
            }
            check(
                "its directory",
                libc::syscall(
                    libc::SYS_move_mount,
                    *tree,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    bind.target.as_ptr(),
                    libc::MOVE_MOUNT_F_EMPTY_PATH,
                ) as libc::c_int,
            )?;
        }
        let sealed = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | hidden | libc::MS_NOEXEC;
        check(
            "covering the other steps",
            libc::mount(
                std::ptr::null(),
                plan.work_root.as_ptr(),
                std::ptr::null(),
                sealed,
                std::ptr::null(),
            ),
        )?;
        if let Some(top) = made {
            let sealing = "sealing Kiln's directories";
            check(
                sealing,
                libc::mount(
                    top.as_ptr(),
                    top.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ),
            )?;
            check(
                sealing,
                libc::mount(
                    std::ptr::null(),
                    top.as_ptr(),
                    std::ptr::null(),
                    sealed,
                    std::ptr::null(),
                ),
            )?;
        }
        mount(
            "its /proc",
            c"proc",
            c"/proc",
            c"proc",
            hidden | libc::MS_NOEXEC,
            std::ptr::null(),
        )?;
        if plan.offline {
            loopback_up()?;
        }
        // Nothing of the launcher's (its socket, its signals) stays open.
        check(
            "its descriptors",
            libc::close_range(3, libc::c_uint::MAX, 0),
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
    Ok(())
}

/// The loopback interface of a new network namespace starts down.
#[allow(unsafe_code)]
fn loopback_up() -> Result<(), Failure> {
    // SAFETY: a socket and two ioctls on a zeroed `ifreq` naming "lo".
    unsafe {
        let socket = check(
            "its loopback interface",
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0),
        )?;
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
            *slot = *byte as libc::c_char;
        }
        check(
            "its loopback interface",
            libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request),
        )?;
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(
            "its loopback interface",
            libc::ioctl(socket, libc::SIOCSIFFLAGS, &request),
        )?;
        libc::close(socket);
    }
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

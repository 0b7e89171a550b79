//! What a sandboxed step sees of its launcher's file system, made by its
//! init in the step's new mount namespace (see `isolate`): a private,
//! size-bounded `/tmp` and `/dev/shm`, terminals of its own, the directory
//! of every step's files covered by an empty read-only tmpfs with only this
//! step's directory and `$KILN_OUTPUT` bound back, its own `/proc` (with
//! some of the kernel's knobs read-only, as bubblewrap leaves them), and for an
//! offline step its loopback interface up.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use kiln_core::sandbox::Network;
use nix::libc;

use super::protocol::Isolation;

/// A bind of one step path back into the covered work root.
struct Bind {
    source: CString,
    /// Directories below the work root down to the target's parent.
    parents: Vec<CString>,
    target: CString,
}

/// Everything the init mounts, prepared by the launcher.
pub struct View {
    /// The work root and every directory above it, from the top (made in a
    /// fresh `/tmp` when the work root lies below it).
    root_and_parents: Vec<CString>,
    work_root: CString,
    binds: Vec<Bind>,
    tmp_options: CString,
    offline: bool,
}

/// The view of `isolation`, prepared in the launcher (the init only makes
/// system calls with it).
pub fn prepare(isolation: &Isolation) -> Result<View, String> {
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
    Ok(View {
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
pub type Failure = (&'static str, i32);

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `result` of a libc call: an error (with errno) when negative.
pub fn check(what: &'static str, result: libc::c_int) -> Result<libc::c_int, Failure> {
    if result < 0 {
        Err((what, errno()))
    } else {
        Ok(result)
    }
}

/// Makes `view` in the calling init's mount namespace (and network
/// namespace, for an offline step).
#[allow(unsafe_code)]
pub fn make(view: &View) -> Result<(), Failure> {
    // SAFETY: plain system calls on values and C strings of `view`.
    unsafe {
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
        let mut trees = Vec::with_capacity(view.binds.len());
        for bind in &view.binds {
            let tree = libc::syscall(
                libc::SYS_open_tree,
                libc::AT_FDCWD,
                bind.source.as_ptr(),
                (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint,
            );
            trees.push(check("its directory", tree as libc::c_int)?);
        }
        let hidden = libc::MS_NOSUID | libc::MS_NODEV;
        for (what, dir) in [("its /tmp", c"/tmp"), ("its /dev/shm", c"/dev/shm")] {
            mount(
                what,
                c"tmpfs",
                dir,
                c"tmpfs",
                hidden,
                view.tmp_options.as_ptr().cast(),
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
        let made = view
            .root_and_parents
            .iter()
            .find(|dir| libc::mkdir(dir.as_ptr(), 0o755) == 0);
        for dir in &view.root_and_parents {
            libc::mkdir(dir.as_ptr(), 0o755);
        }
        mount(
            "covering the other steps",
            c"tmpfs",
            &view.work_root,
            c"tmpfs",
            hidden | libc::MS_NOEXEC,
            c"mode=0755,size=1m".as_ptr().cast(),
        )?;
        for (bind, tree) in view.binds.iter().zip(&trees) {
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
                view.work_root.as_ptr(),
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
        seal_proc()?;
        if view.offline {
            loopback_up()?;
        }
    }
    Ok(())
}

/// The kernel's knobs in the step's `/proc`, read-only as bubblewrap
/// leaves them in its own (the step's user could not write them anyway).
/// Not `/proc/sys`: the step's shell writes its user namespace's limit
/// there before it execs (see `vfork`); the rest of it belongs to
/// namespaces the step has no capability in.
#[allow(unsafe_code)]
fn seal_proc() -> Result<(), Failure> {
    let read_only = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    for path in [c"/proc/sysrq-trigger", c"/proc/irq", c"/proc/bus"] {
        // SAFETY: bind mounts of a path onto itself, then read-only.
        unsafe {
            let bound = libc::mount(
                path.as_ptr(),
                path.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            );
            // Not every kernel has every one of them.
            if bound != 0 && errno() == libc::ENOENT {
                continue;
            }
            check("its /proc", bound)?;
            check(
                "its /proc",
                libc::mount(
                    std::ptr::null(),
                    path.as_ptr(),
                    std::ptr::null(),
                    read_only | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ),
            )?;
        }
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

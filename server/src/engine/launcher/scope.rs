//! Scoping a step's abstract Unix sockets and signals to the step, with
//! Landlock (Linux 6.12, ABI 6). A step with `network: host` shares the
//! host's network namespace, and abstract Unix sockets belong to the
//! network namespace, not the file system: without this, a step could
//! connect to another step's (or a host service's) abstract socket, and
//! mounts cannot hide one. Landlock's scopes refuse a connect to an
//! abstract socket made outside the caller's Landlock domain and a signal
//! to a process outside it; each step's init makes a domain of its own,
//! so the step's processes reach each other and nothing else.
//!
//! No file system or network access is handled: what a step sees of files
//! is the mounts' business (`step_view`), what it reaches by IP its
//! network namespace's.

use std::sync::OnceLock;

use nix::libc;

/// `struct landlock_ruleset_attr` as of ABI 6.
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

const CREATE_RULESET_VERSION: libc::c_long = 1;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1;
const SCOPE_SIGNAL: u64 = 1 << 1;
/// The first ABI with scopes.
const SCOPES_ABI: libc::c_long = 6;

/// The kernel's Landlock ABI when it has scopes; `None` on an older
/// kernel or with Landlock disabled. Asked once per process (the launcher
/// asks at start, so its inits inherit the answer).
pub fn supported() -> Option<i64> {
    static ABI: OnceLock<Option<i64>> = OnceLock::new();
    *ABI.get_or_init(|| {
        // SAFETY: the version query takes no attribute (null, size 0).
        #[allow(unsafe_code)]
        let abi = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<RulesetAttr>(),
                0usize,
                CREATE_RULESET_VERSION,
            )
        };
        (abi >= SCOPES_ABI).then_some(abi)
    })
}

/// Puts the calling (single-threaded) process and its future children in
/// a Landlock domain of their own that scopes abstract sockets and
/// signals. Needs `no_new_privs` set. Does nothing where the kernel has no
/// scopes (`supported` is `None`; the server says so at start).
/// The error is the errno of the call that failed.
pub fn restrict() -> Result<(), i32> {
    if supported().is_none() {
        return Ok(());
    }
    let attr = RulesetAttr {
        handled_access_fs: 0,
        handled_access_net: 0,
        scoped: SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL,
    };
    // SAFETY: a ruleset from an attribute we own, of its own size; the
    // descriptor it gives is closed below.
    #[allow(unsafe_code)]
    unsafe {
        let fd = libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr,
            std::mem::size_of::<RulesetAttr>(),
            0 as libc::c_long,
        );
        if fd < 0 {
            return Err(super::step_view::errno());
        }
        let fd = fd as libc::c_int;
        let restricted = libc::syscall(libc::SYS_landlock_restrict_self, fd, 0 as libc::c_long);
        let error = super::step_view::errno();
        libc::close(fd);
        if restricted != 0 {
            return Err(error);
        }
    }
    Ok(())
}

//! The stacks the launcher's children run on until they exec: mapped once
//! per launcher and reused for every step. A fresh `Vec` per step cost the
//! launcher a quarter of its time: the allocator zeroes it (and, with the
//! launcher's free-perturbing, fills it again when freed), faulting in
//! every page, before the child had run a line.
//!
//! Reuse is safe because of how each stack is used:
//! - a step's init is cloned without `CLONE_VM`: it runs on its own
//!   copy-on-write copy of the init stack; the launcher writes only the
//!   few bytes glibc's `clone` puts at the top (the function and its
//!   argument), so the next init starts from the same pages;
//! - a `vfork` child runs on the other stack inside the process that
//!   cloned it (the launcher, or a step's init), which stays suspended
//!   until the child has execed or exited: one child at a time.
//!
//! Only the launcher (one thread) and its inits clone children: never call
//! these from a process with more threads.

use std::sync::OnceLock;

use nix::libc;

/// The step's init: it sets up mounts and waits (nothing deep).
const INIT_STACK_BYTES: usize = 256 * 1024;
/// A `vfork` child: system calls only, then exec.
const CHILD_STACK_BYTES: usize = 64 * 1024;

static INIT: OnceLock<usize> = OnceLock::new();
static CHILD: OnceLock<usize> = OnceLock::new();

/// Maps both stacks; the launcher calls it once at start, before any step,
/// so that every init inherits them already mapped. A failure ends the
/// launcher (Kiln starts another).
pub fn prepare() -> std::io::Result<()> {
    init_top().map_err(std::io::Error::other)?;
    child_top().map_err(std::io::Error::other)?;
    Ok(())
}

/// The top of the stack for a step's init.
pub fn init_top() -> Result<*mut libc::c_void, String> {
    top(&INIT, INIT_STACK_BYTES)
}

/// The top of the stack for a `vfork` child.
pub fn child_top() -> Result<*mut libc::c_void, String> {
    top(&CHILD, CHILD_STACK_BYTES)
}

/// A failure is not kept: the next step tries again.
fn top(stack: &OnceLock<usize>, bytes: usize) -> Result<*mut libc::c_void, String> {
    let address = match stack.get() {
        Some(address) => *address,
        None => {
            let address =
                map(bytes).map_err(|error| format!("cannot map a stack for the step: {error}"))?;
            *stack.get_or_init(|| address)
        }
    };
    Ok(address as *mut libc::c_void)
}

/// A private anonymous mapping of `bytes` above one inaccessible guard
/// page (an overflow faults instead of running into other memory), never
/// unmapped: it lives as long as the launcher. Returns its top.
fn map(bytes: usize) -> std::io::Result<usize> {
    // SAFETY: sysconf reads a constant of the system.
    #[allow(unsafe_code)]
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    // SAFETY: a new anonymous mapping, then its lowest page made
    // inaccessible; nothing else refers to its range.
    #[allow(unsafe_code)]
    unsafe {
        let base = libc::mmap(
            std::ptr::null_mut(),
            bytes + page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        );
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        if libc::mprotect(base, page, libc::PROT_NONE) != 0 {
            let error = std::io::Error::last_os_error();
            libc::munmap(base, bytes + page);
            return Err(error);
        }
        // Page-aligned base plus multiples of 16: already aligned.
        Ok(base as usize + page + bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_mapped_once_aligned_and_apart() {
        let init = init_top().unwrap() as usize;
        let child = child_top().unwrap() as usize;
        assert_eq!(init % 16, 0);
        assert_eq!(child % 16, 0);
        assert_eq!(init_top().unwrap() as usize, init, "mapped once");
        // Neither range overlaps the other.
        assert!(init - INIT_STACK_BYTES >= child || child - CHILD_STACK_BYTES >= init);
    }
}

//! The stacks the launcher's children run on until they exec: mapped once
//! per launcher and reused for every step. A fresh `Vec` per step cost the
//! launcher a quarter of its time: the allocator zeroes it (and, with the
//! launcher's free-perturbing, fills it again when freed), faulting in
//! every page, before the child had run a line.
//!
//! Reuse is safe because of how each stack is used:
//! - a step's init is cloned without `CLONE_VM`: it runs on its own
//!   copy-on-write copy of the init stack, and the launcher never writes
//!   its own, so the next init starts from the same untouched pages;
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

/// The top of a mapped stack (16-byte aligned), or why it could not be
/// mapped.
type Top = Result<usize, i32>;

static INIT: OnceLock<Top> = OnceLock::new();
static CHILD: OnceLock<Top> = OnceLock::new();

/// Maps both stacks; the launcher calls it once at start, before any step,
/// so that every init inherits them already mapped.
pub fn prepare() {
    let _ = init_top();
    let _ = child_top();
}

/// The top of the stack for a step's init.
pub fn init_top() -> Result<*mut libc::c_void, String> {
    top(&INIT, INIT_STACK_BYTES)
}

/// The top of the stack for a `vfork` child.
pub fn child_top() -> Result<*mut libc::c_void, String> {
    top(&CHILD, CHILD_STACK_BYTES)
}

fn top(stack: &OnceLock<Top>, bytes: usize) -> Result<*mut libc::c_void, String> {
    let top = *stack.get_or_init(|| map(bytes));
    top.map(|address| address as *mut libc::c_void)
        .map_err(|errno| {
            format!(
                "cannot map a stack for the step: {}",
                std::io::Error::from_raw_os_error(errno)
            )
        })
}

/// A private anonymous mapping of `bytes` (never unmapped: it lives as
/// long as the launcher), and its top.
fn map(bytes: usize) -> Top {
    // SAFETY: a new anonymous mapping; nothing else refers to its range.
    #[allow(unsafe_code)]
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // Page-aligned base plus a multiple of 16: already aligned.
    Ok(base as usize + bytes)
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

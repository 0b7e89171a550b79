//! The process's allocator: glibc's malloc by default, or mimalloc (v2)
//! when `KILN_ALLOCATOR=mimalloc`.
//!
//! The choice is a trade, measured side by side on two cores (bench/pages,
//! bench/engine, SQLite). glibc's malloc, its arenas capped at two for
//! memory, is a quarter of a page view's CPU under load: every thread
//! queues on the arenas' locks. mimalloc's heap per thread served most
//! dashboard pages faster, up to 2.6 times the requests/s in the cleanest
//! pass (run-to-run noise on two cores was large). But it started
//! independent steps a fifth slower (231 against 293 tasks/s) and held
//! more after work (92 MB against 66 with 10,000 steps queued, above the
//! engine's 80 MB budget), so it is the operator's choice, not the default.
//!
//! mimalloc hands memory back only when the thread that freed it calls in
//! again, so an idle runtime thread collects on its way to sleep
//! ([`on_idle`]). The step launcher always keeps glibc: each step's init
//! starts as a copy of its memory, and glibc is told there to overwrite
//! what is freed (steps' secrets passed through it), which mimalloc cannot
//! do.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use libmimalloc_sys as mi;

/// The environment variable that picks the allocator: `system` (glibc's
/// malloc, the default) or `mimalloc`.
pub const CHOICE_ENV: &str = "KILN_ALLOCATOR";
/// The same name for `getenv`, which must not allocate.
const CHOICE_ENV_C: &std::ffi::CStr = c"KILN_ALLOCATOR";

const UNDECIDED: u8 = 0;
const MIMALLOC: u8 = 1;
const SYSTEM: u8 = 2;

/// Decided at the first allocation, before `main`, and never changed: a
/// block is always freed by the allocator that made it.
static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Kiln's global allocator (set in the `kiln` binary).
pub struct Allocator;

#[inline]
fn choice() -> u8 {
    match CHOICE.load(Ordering::Relaxed) {
        UNDECIDED => decide(),
        chosen => chosen,
    }
}

/// Reads the choice without allocating (this runs inside the first
/// allocation). The process is still single-threaded then.
#[cold]
#[allow(unsafe_code)]
fn decide() -> u8 {
    // SAFETY: `getenv` with a NUL-terminated name; nothing sets the
    // environment while the first allocation is made.
    let value = unsafe { nix::libc::getenv(CHOICE_ENV_C.as_ptr()) };
    // SAFETY: a non-null result is a NUL-terminated string of the
    // environment.
    let mimalloc = !value.is_null() && unsafe { std::ffi::CStr::from_ptr(value) } == c"mimalloc";
    let chosen = if mimalloc { MIMALLOC } else { SYSTEM };
    CHOICE.store(chosen, Ordering::Relaxed);
    chosen
}

fn mimalloc_in_use() -> bool {
    choice() == MIMALLOC
}

/// Whether mimalloc serves this process's allocations, without deciding:
/// for code outside the allocator (in a test binary the global allocator
/// is another one, and nothing was decided).
fn mimalloc_serves() -> bool {
    CHOICE.load(Ordering::Relaxed) == MIMALLOC
}

// SAFETY: each method hands out a block of at least the size and alignment
// asked from one allocator, and a block goes back to the one that made it
// (the choice never changes once made).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mimalloc_in_use() {
            // SAFETY: mimalloc takes any size and power-of-two alignment.
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()).cast() }
        } else {
            // SAFETY: the caller's layout contract, passed on.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mimalloc_in_use() {
            // SAFETY: as `alloc`.
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()).cast() }
        } else {
            // SAFETY: as `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mimalloc_in_use() {
            // SAFETY: `ptr` came from mimalloc (see the choice).
            unsafe { mi::mi_free(ptr.cast::<c_void>()) }
        } else {
            // SAFETY: `ptr` came from `System` with `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if mimalloc_in_use() {
            // SAFETY: `ptr` came from mimalloc with `layout.align()`.
            unsafe { mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast() }
        } else {
            // SAFETY: `ptr` came from `System` with `layout`.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

/// Set for the launcher when the server turned transparent huge pages off
/// for itself: the launcher turns them back on for the steps.
const RESTORE_THP_ENV: &str = "KILN_LAUNCHER_RESTORE_THP";

static THP_TURNED_OFF: AtomicBool = AtomicBool::new(false);

/// Fits mimalloc (when chosen) to a long-running server, unless the
/// operator chose (`MIMALLOC_ALLOW_THP`): transparent huge pages off. With
/// them an idle server held 74 MB, 35 MB of it in huge pages, against 43 MB
/// without (bench/engine). mimalloc's own option is read before `main`, so
/// the process's flag is set here. An operator's `MIMALLOC_ALLOW_THP=0` is
/// applied by mimalloc itself (it is linked into every process and reads
/// its `MIMALLOC_*` variables even when glibc serves), and steps inherit
/// it. An unknown `KILN_ALLOCATOR` is an error.
pub fn tune() -> Result<(), String> {
    match std::env::var(CHOICE_ENV) {
        Ok(value) if value != "mimalloc" && value != "system" => {
            return Err(format!(
                "{CHOICE_ENV} is \"{}\": it takes system (the default) or mimalloc",
                value.escape_debug()
            ));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{CHOICE_ENV} takes system or mimalloc"));
        }
        _ => {}
    }
    if !mimalloc_serves() || std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return Ok(());
    }
    if nix::sys::prctl::get_thp_disable() == Ok(false)
        && nix::sys::prctl::set_thp_disable(true).is_ok()
    {
        THP_TURNED_OFF.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Whether the server turned transparent huge pages off for itself (steps
/// forked without the launcher turn them back on).
pub fn thp_turned_off() -> bool {
    THP_TURNED_OFF.load(Ordering::Relaxed)
}

/// The environment of the step launcher (which starts with an empty one):
/// glibc's malloc, which it asks to overwrite what is freed, and the
/// process flags the server changed for itself alone.
pub fn launcher_env() -> Vec<(&'static str, &'static str)> {
    let mut env = vec![(CHOICE_ENV, "system")];
    if thp_turned_off() {
        env.push((RESTORE_THP_ENV, "1"));
    }
    env
}

/// In the launcher: steps get transparent huge pages as the system has
/// them, not as the server chose for itself.
pub fn restore_for_steps() {
    if std::env::var_os(RESTORE_THP_ENV).is_some() {
        let _ = nix::sys::prctl::set_thp_disable(false);
    }
}

/// How often at most a runtime thread collects on its way to sleep: a
/// collection visits the thread's pages, so not at every park of a busy
/// thread.
const COLLECT_EVERY: Duration = Duration::from_millis(250);

thread_local! {
    static LAST_COLLECT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// For the runtime's threads before they sleep: hands back the pages this
/// thread freed once their purge delay is over (mimalloc purges a thread's
/// pages only when that thread calls in).
pub fn on_idle() {
    if !mimalloc_serves() {
        return;
    }
    let now = Instant::now();
    let due = LAST_COLLECT.with(|last| {
        let due = last
            .get()
            .is_none_or(|at| now.duration_since(at) >= COLLECT_EVERY);
        if due {
            last.set(Some(now));
        }
        due
    });
    if due {
        collect(false);
    }
}

/// Hands back what this thread's heap holds free (all of it when `force`)
/// and the shared arenas' expired purges.
#[allow(unsafe_code)]
pub fn collect(force: bool) {
    if mimalloc_serves() {
        // SAFETY: `mi_collect` takes no pointers and may run on any thread.
        unsafe { mi::mi_collect(force) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_name_the_same_variable() {
        assert_eq!(CHOICE_ENV_C.to_str(), Ok(CHOICE_ENV));
    }
}

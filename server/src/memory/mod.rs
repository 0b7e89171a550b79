//! Giving memory back to the system after work. glibc keeps what a burst
//! freed (a fan-out's rows, a 10,000-task run's parse) in its heaps, so the
//! resident size stayed near its peak long after the work was done; a trim
//! now and then hands the free pages back. The allocator itself lives in
//! `allocator`; glibc's arena count (for the C libraries' own allocations)
//! is set once in `main`.

pub mod allocator;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often free heap pages are handed back. A trim walks the heaps'
/// free lists (well under a millisecond when there is little to give).
const EVERY: Duration = Duration::from_secs(5);

/// Hands free heap pages back to the system every few seconds until
/// `shutdown`.
pub async fn return_freed(shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                // Off the runtime's threads: a trim holds each arena's lock.
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    }
}

/// Returns glibc's free pages, and with mimalloc this thread's, the
/// abandoned heaps' and the arenas' (each runtime thread collects its own
/// on its way to sleep; SQLite's worker threads, outside the runtime, keep
/// theirs until they allocate again).
pub fn trim() {
    allocator::collect(true);
    trim_libc();
}

/// Returns the free pages at the top and in the middle of every heap.
#[cfg(target_env = "gnu")]
#[allow(unsafe_code)]
fn trim_libc() {
    // SAFETY: `malloc_trim` is glibc's own, thread-safe (it locks each
    // arena), and takes no pointers.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Other C libraries give memory back by themselves (or not at all).
#[cfg(not(target_env = "gnu"))]
fn trim_libc() {}

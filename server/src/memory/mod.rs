//! Giving memory back to the system after work. glibc keeps what a burst
//! freed (a fan-out's rows, a 10,000-task run's parse) in its heaps, so the
//! resident size stayed near its peak long after the work was done; a trim
//! now and then hands the free pages back. The allocator itself lives in
//! `allocator`; glibc's arena count (for the C libraries' own allocations)
//! is set once in `main`.

pub mod allocator;

use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often free heap pages are handed back. A trim walks the heaps'
/// free lists (well under a millisecond when there is little to give).
const EVERY: Duration = Duration::from_secs(5);

/// How long after a burst ([`after_burst`]) its trim waits. Trimmed at
/// once, as the burst's own code ended, a 10,000-task run's start gave
/// nothing back: what follows it (the answer, the event reader's catch-up
/// on its 10,000 events) still held the memory, and RSS stayed 30 MB
/// above its rest until the next periodic trim, up to 5 s later.
const SETTLE: Duration = Duration::from_millis(500);

/// Woken by [`after_burst`].
static BURST: Notify = Notify::const_new();

/// Hands free heap pages back to the system every few seconds, and soon
/// after each burst of work, until `shutdown`.
pub async fn return_freed(shutdown: CancellationToken) {
    trim_when(shutdown, &BURST, || async {
        // Off the runtime's threads: a trim holds each arena's lock.
        let _ = tokio::task::spawn_blocking(trim).await;
    })
    .await;
}

/// Calls `trim` every [`EVERY`], and [`SETTLE`] after each wake of
/// `burst`, until `shutdown`.
async fn trim_when<F, T>(shutdown: CancellationToken, burst: &Notify, mut trim: F)
where
    F: FnMut() -> T,
    T: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
            () = burst.notified() => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(SETTLE) => {}
                }
                // Counted from here: no periodic trim right behind this one.
                ticker.reset();
            }
        }
        trim().await;
    }
}

/// Tells the trimming loop that a burst of work (a large run's start) has
/// just freed much: it trims once that work has settled, rather than at
/// its next tick. Bursts while it waits make one trim, and at most one
/// more after it.
pub fn after_burst() {
    BURST.notify_one();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_trimmed_once_it_settled_and_the_period_starts_again() {
        let (shutdown, burst) = (CancellationToken::new(), Arc::new(Notify::new()));
        let trims = Arc::new(AtomicUsize::new(0));
        let count = trims.clone();
        let looping = tokio::spawn({
            let (shutdown, burst) = (shutdown.clone(), burst.clone());
            async move {
                trim_when(shutdown, &burst, || {
                    count.fetch_add(1, Ordering::SeqCst);
                    async {}
                })
                .await;
            }
        });
        let after = |ms| tokio::time::sleep(Duration::from_millis(ms));
        after(10).await;
        assert_eq!(
            trims.load(Ordering::SeqCst),
            1,
            "the first tick trims at once"
        );
        after(1_000).await;
        burst.notify_one();
        after(SETTLE.as_millis() as u64 - 50).await;
        assert_eq!(
            trims.load(Ordering::SeqCst),
            1,
            "not before the burst settled"
        );
        after(100).await;
        assert_eq!(
            trims.load(Ordering::SeqCst),
            2,
            "the burst's trim, long before the tick"
        );
        // The period counts from the burst's trim: none at the old 5 s.
        after(EVERY.as_millis() as u64 - 200).await;
        assert_eq!(trims.load(Ordering::SeqCst), 2);
        after(300).await;
        assert_eq!(trims.load(Ordering::SeqCst), 3);
        shutdown.cancel();
        looping.await.unwrap();
    }
}

//! What wakes one worker, and how a wake-up is never lost between its
//! arrival and the worker's next fetch.
//!
//! apalis asks a worker's poll strategy each time it asks the backend for
//! a job (once the worker has room for one), and a wake-up that arrives
//! while a fetch is in flight only lets that fetch finish. A fetch whose snapshot came before the job's commit comes back
//! empty, and the wake-up is spent: the job waited for an echo (15 ms) or,
//! worse, for the fallback poll. Worse because apalis' strategy stops at its
//! first ready source and does not poll the rest, nor the ready one again:
//! a source that just gave a wake-up is not listening for the next, and a
//! fallback timer that just fired is not armed again, until something else
//! polls the worker. 2–9 of 1,000 PostgreSQL pickups waited the whole
//! fallback poll (500 ms) that way. Three things close it:
//! - every source is merged into one stream (so apalis has one source that
//!   polls all of them), with the fallback ticks among them;
//! - that stream asks to be polled again right after each wake-up it gives,
//!   so its sources are listening again at once;
//! - each worker counts its wake-ups ([`WakeCount`]), and a fetch that
//!   comes back empty although a wake-up came while it ran fetches again
//!   ([`fetch_after_wakeups`]): the job it woke for may have been committed
//!   after that fetch's snapshot. A wake-up is counted before it is given
//!   (this process's pushes: when they notify; PostgreSQL's notifications:
//!   as the stream yields them, which apalis does before it polls the
//!   fetch). So a wake-up taken in the very poll in which a fetch ends
//!   empty makes it fetch again; one counted after the fetch ended wakes
//!   the worker, which then fetches anyway.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::SelectAll;
use futures::{Stream, StreamExt};

use super::echo::echoed;

/// How many times an empty fetch is made again in a row for wake-ups that
/// came while it ran; beyond that the echoes and the fallback poll take over
/// (a stream of wake-ups for jobs other workers take first would otherwise
/// keep one worker fetching).
const REFETCHES: usize = 3;

/// How many wake-ups one worker has had. Cheap to clone; a count nobody
/// bumps (a queue handle that only pushes) never asks for a second fetch.
#[derive(Debug, Clone, Default)]
pub struct WakeCount(Arc<AtomicU64>);

impl WakeCount {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn seen(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `fetch`, and again (up to [`REFETCHES`] times) while it comes back
/// empty and `wakes` moved while it ran.
pub async fn fetch_after_wakeups<T, E, F, Fut>(wakes: &WakeCount, mut fetch: F) -> Result<Vec<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let mut again = 0;
    loop {
        let seen = wakes.seen();
        let tasks = fetch().await?;
        if !tasks.is_empty() || wakes.seen() == seen || again == REFETCHES {
            return Ok(tasks);
        }
        again += 1;
    }
}

/// A worker's wake-ups: each of `sources`, echoed (see `echo`), and a tick
/// every `fallback`, merged into one stream that is polled again after
/// each wake-up it gives. Never ends (the fallback ticks go on when every
/// source has ended).
pub fn merged(
    sources: Vec<Source>,
    fallback: Duration,
) -> impl Stream<Item = ()> + Send + Sync + Unpin + 'static {
    let mut all: SelectAll<Source> = sources
        .into_iter()
        .map(|source| Box::pin(echoed(source)) as Source)
        .collect();
    // `interval_at`: the first tick after one period, not at once. Ticks
    // missed while the worker was busy do not come in a burst after.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + fallback, fallback);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    all.push(Box::pin(futures::stream::unfold(
        ticks,
        |mut ticks| async move {
            ticks.tick().await;
            Some(((), ticks))
        },
    )));
    PolledAgain(all)
}

/// One source of wake-ups (`Sync`, as apalis' strategies ask).
pub type Source = Pin<Box<dyn Stream<Item = ()> + Send + Sync>>;

/// `source`'s items as wake-ups.
pub fn source<S>(source: S) -> Source
where
    S: Stream + Send + Sync + 'static,
{
    Box::pin(source.map(drop))
}

/// After each item, wakes its poller once more: the poll that takes an
/// item leaves the stream not listening for the next one (a ready stream
/// registers no waker), and apalis may not poll it again on its own.
struct PolledAgain<S>(S);

impl<S: Stream + Unpin> Stream for PolledAgain<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let polled = self.0.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = &polled {
            cx.waker().wake_by_ref();
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    use super::*;

    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_wake_up_given_asks_for_another_poll() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<()>();
        let mut stream = merged(vec![source(rx)], Duration::from_secs(3600));
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(counting.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        tx.unbounded_send(()).unwrap();
        let woken = counting.0.load(Ordering::SeqCst);
        assert_eq!(
            Pin::new(&mut stream).poll_next(&mut cx),
            Poll::Ready(Some(()))
        );
        assert_eq!(
            counting.0.load(Ordering::SeqCst),
            woken + 1,
            "polled again after the wake-up it gave"
        );
        // Polled again, it listens: the next wake-up wakes it.
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        let before = counting.0.load(Ordering::SeqCst);
        tx.unbounded_send(()).unwrap();
        assert!(counting.0.load(Ordering::SeqCst) > before);
    }

    #[tokio::test]
    async fn the_fallback_ticks_after_every_source_ended() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<()>();
        drop(tx);
        let mut stream = merged(vec![source(rx)], Duration::from_millis(50));
        let began = tokio::time::Instant::now();
        for _ in 0..3 {
            assert_eq!(stream.next().await, Some(()));
        }
        let took = began.elapsed();
        // Ticks one period apart, the first after one period.
        assert!(took >= Duration::from_millis(150), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[tokio::test]
    async fn an_empty_fetch_during_a_wake_up_is_made_again() {
        let wakes = WakeCount::default();
        let fetches = AtomicUsize::new(0);
        // The first fetch misses the job; a wake-up comes while it runs.
        let got = fetch_after_wakeups(&wakes, || {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            let wakes = wakes.clone();
            async move {
                if n == 0 {
                    wakes.bump();
                    Ok::<_, ()>(vec![])
                } else {
                    Ok(vec![n])
                }
            }
        })
        .await;
        assert_eq!(got, Ok(vec![1]));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    /// How many fetches `fetch_after_wakeups` makes when every fetch comes
    /// back empty, with a wake-up during each one or during none.
    async fn empty_fetches(woken_during_each: bool) -> usize {
        let wakes = WakeCount::default();
        let fetches = AtomicUsize::new(0);
        let got = fetch_after_wakeups(&wakes, || {
            fetches.fetch_add(1, Ordering::SeqCst);
            if woken_during_each {
                wakes.bump();
            }
            async { Ok::<Vec<u8>, ()>(vec![]) }
        })
        .await;
        assert_eq!(got, Ok(vec![]));
        fetches.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn an_empty_fetch_without_a_wake_up_is_not_made_again() {
        assert_eq!(empty_fetches(false).await, 1);
    }

    #[tokio::test]
    async fn wake_ups_during_every_fetch_stop_after_a_few_fetches() {
        assert_eq!(empty_fetches(true).await, 1 + REFETCHES);
    }
}

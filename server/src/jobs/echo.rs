//! Wake-ups that repeat themselves. apalis takes one wake-up per poll and
//! starts a fetch only when none is in flight: a wake-up that comes while a
//! fetch runs is used up, and that fetch (its snapshot taken before the job
//! was committed) comes back empty. The job then waited for the fallback
//! poll (1-3 % of PostgreSQL pickups, up to 250 ms). Each burst of wake-ups
//! is therefore echoed twice, shortly after its last one: one of the echoes
//! finds the worker idle and fetches again. On PostgreSQL and MySQL, whose
//! fetch is Kiln's, such a fetch is now made again at once (see
//! `wakeups`); there the echoes only back that up (a worker that fetched
//! again three times in a row), while SQLite's fetch, apalis' own, still
//! relies on them.

use std::time::Duration;

use futures::{Stream, StreamExt};

/// When the echoes come, after the last wake-up of a burst.
const ECHOES: [Duration; 2] = [Duration::from_millis(15), Duration::from_millis(60)];

/// `wakeups` as `()`, each burst followed by its echoes. Ends when
/// `wakeups` ends.
pub fn echoed<S>(wakeups: S) -> impl Stream<Item = ()> + Send + Sync + Unpin + 'static
where
    S: Stream + Send + Sync + Unpin + 'static,
{
    let state = (wakeups, 0usize);
    // Fused: a stream may be polled again after it ended (PostgreSQL's
    // listener ends after an error), which `unfold` alone must not be.
    let stream = futures::stream::unfold(state, |(mut wakeups, echoed)| async move {
        let Some(&pause) = ECHOES.get(echoed) else {
            // Quiet: wait for the next wake-up.
            return wakeups.next().await.map(|_| ((), (wakeups, 0)));
        };
        tokio::select! {
            woken = wakeups.next() => woken.map(|_| ((), (wakeups, 0))),
            () = tokio::time::sleep(pause) => Some(((), (wakeups, echoed + 1))),
        }
    });
    Box::pin(stream.fuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_is_echoed_twice_then_quiet() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut stream = echoed(rx);
        tx.unbounded_send(1).unwrap();
        tx.unbounded_send(2).unwrap();
        let began = tokio::time::Instant::now();
        for _ in 0..4 {
            stream.next().await;
        }
        // Two wake-ups, then echoes 15 ms and 15 + 60 ms after the last.
        let took = began.elapsed();
        assert!(took >= Duration::from_millis(75), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let quiet = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
        assert!(quiet.is_err(), "no echo without a new wake-up");
        drop(tx);
        assert_eq!(stream.next().await, None);
        assert_eq!(stream.next().await, None, "polled again after its end");
    }
}

//! Wakes this process's workers of one queue the moment a job is pushed to
//! it, instead of on apalis' heartbeat. Only that queue's: on SQLite a
//! worker's fetch is a write transaction, and waking every queue's worker
//! for every step's job cost one empty write per step. Wake-ups coalesce:
//! a worker that is already awake fetches every ready job anyway. Each
//! wake-up is counted in the worker's [`WakeCount`] first (see `wakeups`).

use std::sync::{Arc, Mutex, PoisonError};

use futures::channel::mpsc;

use super::wakeups::WakeCount;

#[derive(Clone, Default, Debug)]
pub struct Notifier(Arc<Mutex<Vec<Subscriber>>>);

/// One worker's wake-ups, for the queue it serves.
#[derive(Debug)]
struct Subscriber {
    queue: String,
    wake: mpsc::Sender<()>,
    count: WakeCount,
}

impl Notifier {
    /// A stream of wake-ups for one worker of `queue`, each counted in
    /// `count` before it is sent.
    pub fn subscribe(&self, queue: &str, count: &WakeCount) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel(0);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                queue: queue.to_owned(),
                wake: tx,
                count: count.clone(),
            });
        rx
    }

    /// Wakes every live subscriber of `queue`; forgets the ones that went
    /// away.
    pub fn notify(&self, queue: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain_mut(|subscriber| {
                if subscriber.queue != queue {
                    return !subscriber.wake.is_closed();
                }
                subscriber.count.bump();
                match subscriber.wake.try_send(()) {
                    Ok(()) => true,
                    Err(e) => !e.is_disconnected(),
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn wakes_subscribers_and_drops_closed_ones() {
        let notifier = Notifier::default();
        let count = WakeCount::default();
        let mut live = notifier.subscribe("steps", &count);
        drop(notifier.subscribe("steps", &WakeCount::default()));
        notifier.notify("steps");
        notifier.notify("steps"); // coalesces with the first
        assert_eq!(live.next().await, Some(()));
        assert_eq!(count.seen(), 2, "both counted");
        assert_eq!(notifier.0.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn wakes_only_the_queue_pushed_to() {
        let notifier = Notifier::default();
        let mut steps = notifier.subscribe("steps", &WakeCount::default());
        let mut cleanup = notifier.subscribe("cleanup", &WakeCount::default());
        notifier.notify("steps");
        assert_eq!(steps.next().await, Some(()));
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), cleanup.next());
        assert!(
            quiet.await.is_err(),
            "the cleanup worker was woken for a step"
        );
        drop(steps);
        notifier.notify("cleanup");
        assert_eq!(cleanup.next().await, Some(()));
        assert_eq!(
            notifier.0.lock().unwrap().len(),
            1,
            "the closed one is forgotten"
        );
    }
}

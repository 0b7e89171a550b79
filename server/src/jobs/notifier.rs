//! Wakes this process's SQLite workers the moment a job is pushed, instead of
//! on apalis' heartbeat. Wake-ups coalesce: a worker that is already awake
//! fetches every ready job anyway.

use std::sync::{Arc, Mutex, PoisonError};

use futures::channel::mpsc;

#[derive(Clone, Default, Debug)]
pub struct Notifier(Arc<Mutex<Vec<mpsc::Sender<()>>>>);

impl Notifier {
    /// A stream of wake-ups for one worker.
    pub fn subscribe(&self) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel(0);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// Wakes every live subscriber; forgets the ones that went away.
    pub fn notify(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain_mut(|tx| match tx.try_send(()) {
                Ok(()) => true,
                Err(e) => !e.is_disconnected(),
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
        let mut live = notifier.subscribe();
        drop(notifier.subscribe());
        notifier.notify();
        notifier.notify(); // coalesces with the first
        assert_eq!(live.next().await, Some(()));
        assert_eq!(notifier.0.lock().unwrap().len(), 1);
    }
}

//! A job queue whose SQL is Kiln's own, driven by apalis-core's
//! `Persisted` (polling, heartbeats, acknowledgements, orphan recovery):
//! the backend, config, wire-format and sink plumbing apalis asks of a
//! queue, written once for every database whose statements Kiln writes
//! (MySQL's tables, see `mysql`; PostgreSQL's statements without a
//! transaction each, see `postgres`; SQLite's at the write gate, in as few
//! trips as they can, see `sqlite`). The SQL is the [`QueueSql`].

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_codec::json::JsonCodec;
use apalis_core::backend::finalize::Durable;
use apalis_core::backend::persistence::{Persisted, Persistence, TaskEvent, TaskPersistLayer};
use apalis_core::backend::{Backend, BackendConfig, TaskResult, WireFormatBackend};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use futures::Sink;
use serde_json::Value;
use ulid::Ulid;

/// The statements of one queue, and the settings `Persisted` needs.
pub trait QueueSql:
    Persistence<Compact = Vec<u8>, Response = Value, Error: Send + Sync + 'static>
    + Unpin
    + Send
    + Sync
    + 'static
{
    type Config;
    fn config(&self) -> &Self::Config;
    /// The queue's name, for logs.
    fn queue(&self) -> &str;
    fn heartbeat_interval(&self) -> Duration;
    /// Most jobs one fetch takes.
    fn batch_size(&self) -> usize;
}

/// A worker's batch of events, split: the finished jobs' results, and the
/// jobs to lock that the batch does not also finish (a finished job needs
/// no lock; with `lock_tasks` off, as on every Kiln queue, there are none).
pub fn acks_and_locks(events: &[TaskEvent<Value>]) -> (Vec<&TaskResult<Value>>, Vec<String>) {
    let acks: Vec<&TaskResult<Value>> = events
        .iter()
        .filter_map(|event| match event {
            TaskEvent::Complete(result) => Some(result),
            _ => None,
        })
        .collect();
    let locks = events
        .iter()
        .filter_map(|event| match event {
            TaskEvent::Lock { task_id } => Some(task_id),
            _ => None,
        })
        .filter(|id| !acks.iter().any(|ack| &ack.task_id == *id))
        .map(ToString::to_string)
        .collect();
    (acks, locks)
}

/// Logs jobs of a silent worker that a registration or heartbeat put back
/// in `queue`.
pub fn log_requeued(count: u64, queue: &str) {
    if count > 0 {
        tracing::warn!(count, queue, "re-queued jobs of a silent worker");
    }
}

/// A queue of `Args` jobs on `P`'s statements; cheap to clone, `push`
/// needs `&mut`.
pub struct PersistedQueue<P: QueueSql, Args> {
    persistence: Persisted<P>,
    codec: JsonCodec<Vec<u8>>,
    // `fn() -> Args`: the queue holds no `Args`, so it is Unpin, Send and
    // Sync whatever `Args` is.
    args: PhantomData<fn() -> Args>,
}

impl<P: QueueSql, Args> PersistedQueue<P, Args> {
    pub fn on(sql: P) -> Self {
        Self {
            persistence: Persisted::new(sql),
            codec: JsonCodec::default(),
            args: PhantomData,
        }
    }
}

impl<P: QueueSql, Args> std::fmt::Debug for PersistedQueue<P, Args> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueue")
            .field("queue", &self.persistence.queue())
            .finish()
    }
}

impl<P: QueueSql, Args> Clone for PersistedQueue<P, Args> {
    fn clone(&self) -> Self {
        Self {
            persistence: self.persistence.clone(),
            codec: JsonCodec::default(),
            args: PhantomData,
        }
    }
}

impl<P: QueueSql, Args> Backend for PersistedQueue<P, Args> {
    type Task = Task<Vec<u8>>;
    type Error = P::Error;

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        let interval = self.persistence.heartbeat_interval();
        self.persistence.poll_ready(cx, worker, interval)
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Option<Result<Self::Task, Self::Error>>> {
        self.persistence.poll_next(cx, worker)
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        self.persistence.poll_close(cx, worker)
    }
}

impl<P: QueueSql, Args> BackendConfig for PersistedQueue<P, Args> {
    type Args = Args;
    type Id = Ulid;
    type Kind = Durable;
    type Config = P::Config;
    type Layer = TaskPersistLayer<JsonCodec<Value>, Value>;

    fn config(&self) -> &Self::Config {
        self.persistence.config()
    }

    fn middleware(&mut self, _: &mut WorkerContext) -> Self::Layer {
        let batch = self.persistence.batch_size();
        self.persistence
            .layer(JsonCodec::default(), batch)
            .persist_results(true)
            // As on the other backends (see `storage`), whatever a queue's
            // config says: no lock statement is ever sent.
            .lock_tasks(false)
    }
}

impl<P: QueueSql, Args> WireFormatBackend for PersistedQueue<P, Args> {
    type Codec = JsonCodec<Vec<u8>>;
    type Compact = Vec<u8>;

    fn codec(&self) -> &Self::Codec {
        &self.codec
    }
}

impl<P: QueueSql, Args> Sink<Task<Vec<u8>>> for PersistedQueue<P, Args> {
    type Error = P::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Task<Vec<u8>>) -> Result<(), Self::Error> {
        Pin::new(&mut self.get_mut().persistence).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().persistence).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().persistence).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use apalis_core::backend::TaskResult;
    use apalis_core::backend::persistence::TaskEvent;
    use apalis_core::task::status::Status;
    use apalis_core::task::task_id::TaskId;
    use ulid::Ulid;

    use super::acks_and_locks;

    /// A job finished in the same batch is acknowledged, not locked; a
    /// job only locked is locked.
    #[test]
    fn a_finished_job_is_not_also_locked() {
        let (done, held) = (
            TaskId::from_ulid(Ulid::generate()),
            TaskId::from_ulid(Ulid::generate()),
        );
        let events = vec![
            TaskEvent::Lock {
                task_id: done.clone(),
            },
            TaskEvent::Lock {
                task_id: held.clone(),
            },
            TaskEvent::Complete(TaskResult {
                task_id: done.clone(),
                attempt: 1,
                status: Status::Done,
                result: Ok(serde_json::Value::Null),
            }),
        ];
        let (acks, locks) = acks_and_locks(&events);
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].task_id.to_string(), done.to_string());
        assert_eq!(locks, vec![held.to_string()]);
    }
}

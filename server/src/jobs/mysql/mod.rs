//! An apalis 1.0 backend for MySQL/MariaDB: apalis ships none that compiles
//! against 1.0 (apalis-mysql 1.0.0-rc.8 targets a pre-1.0 apalis-core), so
//! this one follows apalis-sqlite's design on Kiln's own `kiln_jobs` and
//! `kiln_workers` tables (created by the migrations crate). apalis-core's
//! `Persisted` drives polling, heartbeats, acks and orphan recovery; this
//! module supplies the SQL (`persistence.rs`) and the row decoding (`row.rs`).

mod persistence;
mod row;

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_codec::json::JsonCodec;
use apalis_core::backend::finalize::Durable;
use apalis_core::backend::persistence::{Persisted, TaskPersistLayer};
use apalis_core::backend::{Backend, BackendConfig, WireFormatBackend};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use futures::Sink;
use serde_json::Value;
use sqlx::MySqlPool;
use ulid::Ulid;

use persistence::MySqlPersistence;

/// How a queue on MySQL behaves; the same knobs as apalis-sqlite's `Config`.
#[derive(Debug, Clone)]
pub struct MySqlQueueConfig {
    pub queue: String,
    pub batch_size: usize,
    pub heartbeat_interval: Duration,
    pub missed_heartbeats: u32,
}

impl MySqlQueueConfig {
    pub fn new(queue: &str) -> Self {
        Self {
            queue: queue.to_owned(),
            batch_size: 10,
            heartbeat_interval: Duration::from_secs(30),
            missed_heartbeats: 3,
        }
    }

    /// A worker silent this long is considered dead and its jobs re-queued.
    fn orphaned_after(&self) -> Duration {
        self.heartbeat_interval * self.missed_heartbeats
    }
}

/// A queue of `Args` jobs on MySQL; cheap to clone, `push` needs `&mut`.
pub struct MySqlStorage<Args> {
    persistence: Persisted<MySqlPersistence>,
    codec: JsonCodec<Vec<u8>>,
    // `fn() -> Args`: the storage holds no `Args`, so it is Unpin, Send and
    // Sync whatever `Args` is.
    args: PhantomData<fn() -> Args>,
}

impl<Args> std::fmt::Debug for MySqlStorage<Args> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlStorage")
            .field("queue", &self.persistence.config.queue)
            .finish()
    }
}

impl<Args> Clone for MySqlStorage<Args> {
    fn clone(&self) -> Self {
        Self {
            persistence: self.persistence.clone(),
            codec: JsonCodec::default(),
            args: PhantomData,
        }
    }
}

impl<Args> MySqlStorage<Args> {
    pub fn new(pool: &MySqlPool, config: MySqlQueueConfig) -> Self {
        Self {
            persistence: Persisted::new(MySqlPersistence {
                pool: pool.clone(),
                config,
            }),
            codec: JsonCodec::default(),
            args: PhantomData,
        }
    }
}

impl<Args> Backend for MySqlStorage<Args> {
    type Task = Task<Vec<u8>>;
    type Error = sqlx::Error;

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        let interval = self.persistence.config.heartbeat_interval;
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

impl<Args> BackendConfig for MySqlStorage<Args> {
    type Args = Args;
    type Id = Ulid;
    type Kind = Durable;
    type Config = MySqlQueueConfig;
    type Layer = TaskPersistLayer<JsonCodec<Value>, Value>;

    fn config(&self) -> &Self::Config {
        &self.persistence.config
    }

    fn middleware(&mut self, _: &mut WorkerContext) -> Self::Layer {
        let batch = self.persistence.config.batch_size;
        self.persistence
            .layer(JsonCodec::default(), batch)
            .persist_results(true)
            // As on the other backends (see `storage`).
            .lock_tasks(false)
    }
}

impl<Args> WireFormatBackend for MySqlStorage<Args> {
    type Codec = JsonCodec<Vec<u8>>;
    type Compact = Vec<u8>;

    fn codec(&self) -> &Self::Codec {
        &self.codec
    }
}

impl<Args> Sink<Task<Vec<u8>>> for MySqlStorage<Args> {
    type Error = sqlx::Error;

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

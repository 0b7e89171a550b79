//! The connections this process's workers use for the queue's own
//! bookkeeping (fetching jobs, acknowledging them, heartbeats, listening).
//! On PostgreSQL they are a pool of their own whose commits do not wait for
//! the WAL flush (`synchronous_commit = off`); elsewhere they are the shared
//! pool.
//!
//! Why that is safe: a job is only a pointer to a step, and Kiln's claim
//! and end (written on the shared pool, flushed) decide what a step does; a
//! stale job does nothing. PostgreSQL keeps commit order, and an unflushed
//! commit is lost only if the database server itself crashes within about
//! three WAL writer delays (600 ms by default), together with everything
//! committed after it. A lost fetch returns its job to the queue; a lost
//! acknowledgement leaves a job "running" until this worker is gone, when
//! apalis hands it out again and it does nothing. That is SQLite's
//! `synchronous = NORMAL` (Kiln's default) for the whole database. What it
//! saves is one WAL flush, a disk sync of 1–2 ms, for each fetch and each
//! acknowledgement: on a worker that waits for each of its commits in turn,
//! those flushes were the largest part of a no-op step's time.
//!
//! Pushes do not go through here: a pushed job must survive, or its step
//! would wait for the sweeper.

use sqlx::postgres::PgPoolOptions;

use crate::db::Pool;

/// The pool the workers of one process poll and acknowledge through;
/// `workers` is how many apalis workers share it (each holds a listening
/// connection and, at most, a fetch, an acknowledgement and a heartbeat at
/// once).
pub fn pool_for_workers(pool: &Pool, workers: usize) -> Pool {
    match pool {
        Pool::Postgres(shared) => {
            let options = (*shared.connect_options())
                .clone()
                .options([("synchronous_commit", "off")]);
            let connections = u32::try_from(workers.max(1) * 4).unwrap_or(u32::MAX);
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(shared.options().get_acquire_timeout())
                    // Connections open when first needed: a worker that
                    // cannot reach the database yet starts all the same,
                    // and its supervisor retries.
                    .connect_lazy_with(options),
            )
        }
        Pool::Sqlite(_) | Pool::MySql(_) => pool.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use sqlx::postgres::PgPoolOptions;

    use super::pool_for_workers;
    use crate::db::Pool;

    async fn setting(pool: &sqlx::PgPool) -> String {
        sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// The workers' connections commit without waiting for the flush; the
    /// shared pool's (every step's claim aside, every write of Kiln's) still
    /// waits.
    #[tokio::test]
    async fn only_the_workers_connections_skip_the_flush() {
        let shared = PgPoolOptions::new()
            .max_connections(2)
            .connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .expect("PostgreSQL at 127.0.0.1:5432");
        let Pool::Postgres(workers) = pool_for_workers(&Pool::Postgres(shared.clone()), 2) else {
            panic!("a PostgreSQL pool");
        };
        assert_eq!(setting(&workers).await, "off");
        assert_eq!(setting(&shared).await, "on");
        assert_eq!(workers.options().get_max_connections(), 8);
    }
}

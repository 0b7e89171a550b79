//! The connections this process's workers use for the queue's own
//! bookkeeping (fetching jobs, acknowledging them, heartbeats, listening).
//! On PostgreSQL they are a pool of their own whose commits do not wait for
//! the WAL flush (`synchronous_commit = off`); elsewhere they are the shared
//! pool.
//!
//! Why that is safe: a job only points at a step, and the step's rows,
//! written on the shared pool and flushed (its claim before anything of it
//! runs, its end), decide what a step does; a stale job does nothing.
//! PostgreSQL keeps commit order, and an unflushed commit is lost only if
//! the database server itself crashes within about three WAL writer delays
//! (600 ms by default), together with everything committed after it; the
//! next flushed commit of any connection flushes it. A lost fetch returns
//! its job to the queue, and its step had not started (the claim's flush
//! would have flushed the fetch before it); a lost acknowledgement leaves
//! a finished step's job "running" until its apalis worker stops (a
//! restart names a new one) and misses its heartbeats, when apalis hands
//! it out again and it does nothing.
//! SQLite's `synchronous = NORMAL` (Kiln's default) is the same for every
//! commit. What it saves is one WAL flush, a disk sync of 1–2 ms here, for
//! each fetch and each acknowledgement: a worker waits for each of its
//! commits in turn.
//!
//! Pushes and claims do not go through here: a pushed job must survive, or
//! its step waits for the sweeper; a claim must, or a step that already
//! started could be claimed and started a second time.
//!
//! These connections come on top of `database_max_connections`: each
//! apalis worker holds its listener and, in turn, one connection for
//! whatever it does next; four per worker leave room.
//!
//! The setting is per session: Kiln needs its connections to be its own
//! (PostgreSQL directly, or a pooler in session mode, as LISTEN and apalis'
//! advisory locks need anyway). Behind a pooler in transaction mode a
//! session's `SET` would stay on a server connection that the shared pool's
//! claims and ends could then use.

use sqlx::postgres::PgPoolOptions;

use crate::db::Pool;
use crate::db::connect::ping_if_idle;

/// The pool the workers of one process poll and acknowledge through;
/// `workers` is how many apalis workers share it.
pub fn pool_for_workers(pool: &Pool, workers: usize) -> Pool {
    match pool {
        Pool::Postgres(shared) => {
            let connections = u32::try_from(workers.max(1) * 4).unwrap_or(u32::MAX);
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(shared.options().get_acquire_timeout())
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| ping_if_idle(conn, meta))
                    // A statement, not a startup option: connection poolers
                    // such as PgBouncer refuse unknown startup options (in
                    // session mode; see above for transaction mode).
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(conn, "SET synchronous_commit = off")
                                .await
                                .map(drop)
                        })
                    })
                    // Connections open when first needed: a worker that
                    // cannot reach the database yet starts all the same,
                    // and its supervisor retries.
                    .connect_lazy_with((*shared.connect_options()).clone()),
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

    /// The setting on a connection of `pool`, and where it comes from
    /// ("session" when a connection set it itself).
    async fn setting(pool: &sqlx::PgPool) -> (String, String) {
        sqlx::query_as("SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// The workers' connections commit without waiting for the flush; the
    /// shared pool's (every claim, end and push) keep the server's setting.
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
        assert_eq!(setting(&workers).await, ("off".into(), "session".into()));
        let (_, source) = setting(&shared).await;
        assert_ne!(
            source, "session",
            "the shared pool keeps the server's setting"
        );
        assert_eq!(workers.options().get_max_connections(), 8);
    }
}

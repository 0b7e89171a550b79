//! SQLite: one step's one-hop move (a worker's claim, a leaf's end) in a
//! single trip to the connection's thread. sqlx runs each SQLite
//! connection on a thread of its own; every statement is a hand-over to
//! it and back. The move's transaction was four (`BEGIN IMMEDIATE`, the
//! guarded update, the event's insert, `COMMIT`), holding the write lock
//! across the hand-overs, and a fan-out pays it twice per step. Here the
//! four go as one batch: the event is inserted only when the update
//! changed the row (`changes()`), and the batch answers how many events
//! it wrote, so "not moved" writes nothing, as before. A caller may ask
//! one more question inside the same transaction (a leaf's end: is any
//! step of its run still pending?), answered as whether it found a row.
//!
//! A batch that fails part-way may leave its transaction open on the
//! connection, and so may one its caller stopped waiting for: the
//! connection is held by `db::sqlite_batch::InBatch` until the batch is
//! in.

use std::sync::Arc;

use sea_orm::{ConnAcquireErr, DatabaseConnection, DbErr, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;
use sqlx::Row;

use crate::db::sqlite_batch::InBatch;
use crate::db::write_gate;
use crate::db::write_txn::Writer;

/// The batch around `update` (a guarded `UPDATE` of one step, its values
/// first), its event's seven values (run, step, task, attempt, from, to,
/// at), and `then` (a query, its values last), if any.
fn batch(update: &str, then: Option<&str>) -> String {
    let then = then.map(|sql| format!("{sql}; ")).unwrap_or_default();
    format!(
        "BEGIN IMMEDIATE; {update}; \
         INSERT INTO kiln_run_events (run_id, step_id, task, attempt, from_state, to_state, at_ms) \
         SELECT ?, ?, ?, ?, ?, ?, ? WHERE changes() > 0; \
         SELECT changes(); \
         {then}COMMIT"
    )
}

/// What one trip answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trip {
    /// Whether the row moved.
    pub moved: bool,
    /// Whether the caller's query found a row, read after the move in its
    /// transaction (under the write lock: no other write came between).
    pub found: bool,
}

/// Runs `update` (a statement guarded to change one step's row or none)
/// with `event` (its seven values), then `then` if given, as one
/// transaction. Takes the file's turn at the write gate, as every Kiln
/// write transaction does.
pub async fn move_in_one_trip(
    db: &DatabaseConnection,
    update: Statement,
    event: Values,
    then: Option<Statement>,
) -> Result<Trip, DbErr> {
    let _turn = write_gate::turn_at(db.write_gate()).await?;
    let mut values = update.values.map(|v| v.0).unwrap_or_default();
    values.extend(event.0);
    let then = then.map(|then| {
        values.extend(then.values.map(|v| v.0).unwrap_or_default());
        then.sql
    });
    let sql = batch(&update.sql, then.as_deref());
    let connection = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(acquire_error)?;
    let mut batch = InBatch::new(connection);
    let query = sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(Values(values)));
    let ran = match batch.connection() {
        Some(connection) => query.fetch_all(connection).await,
        None => Err(sqlx::Error::PoolClosed),
    };
    match ran {
        Ok(rows) => {
            batch.release();
            let written: i64 = match rows.first() {
                Some(row) => row.try_get(0).map_err(query_error)?,
                None => 0,
            };
            // The count's row, then the query's, if it found any.
            Ok(Trip {
                moved: written > 0,
                found: rows.len() > 1,
            })
        }
        Err(error) => {
            batch.undo().await;
            Err(exec_error(error))
        }
    }
}

fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
    }
}

fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value, Values};

    use super::{Trip, move_in_one_trip};
    use crate::db::connect::Database;
    use crate::db::test_files;

    /// A file with a one-row table to move and the events table's columns.
    async fn sqlite_file(dir: &tempfile::TempDir, max_connections: u32) -> Database {
        let schema = "CREATE TABLE t (n INTEGER NOT NULL); INSERT INTO t (n) VALUES (0); \
                      CREATE TABLE kiln_run_events (id INTEGER PRIMARY KEY, run_id INTEGER, \
                      step_id INTEGER, task TEXT, attempt INTEGER, from_state TEXT, \
                      to_state TEXT NOT NULL, at_ms INTEGER NOT NULL)";
        test_files::sqlite_file(dir, max_connections, schema).await
    }

    /// After a batch that did not land: the next write transaction begins
    /// (on the pool's only connection, or a new one), `t` holds what that
    /// transaction wrote over the untouched row, and no event is there.
    async fn assert_nothing_left_behind(db: &Database, what: &str) {
        let txn = crate::db::write_txn::begin(&db.conn)
            .await
            .unwrap_or_else(|e| panic!("a connection out of the {what} batch's transaction: {e}"));
        txn.execute_unprepared("UPDATE t SET n = n + 1")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(number(&db.conn, "SELECT n FROM t").await, 1);
        assert_eq!(
            number(&db.conn, "SELECT count(*) FROM kiln_run_events").await,
            0
        );
    }

    fn update(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    fn event() -> Values {
        Values(vec![
            Value::from(1i64),
            Value::from(2i64),
            Value::from("build"),
            Value::from(1i32),
            Value::from("queued"),
            Value::from("running"),
            Value::from(1234i64),
        ])
    }

    async fn number(db: &impl ConnectionTrait, sql: &str) -> i64 {
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// The update's values and the event's bind across the batch's
    /// statements; a guard that no longer holds writes no event.
    #[tokio::test]
    async fn a_move_and_its_event_land_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir, 2).await;
        let guarded = || {
            update(
                "UPDATE t SET n = ? WHERE n = ?",
                vec![7i64.into(), 0i64.into()],
            )
        };
        let then = || Some(update("SELECT n FROM t WHERE n = ?", vec![7i64.into()]));
        let trip = move_in_one_trip(&db.conn, guarded(), event(), then())
            .await
            .unwrap();
        // The query binds after the event, and sees the move.
        assert_eq!(
            trip,
            Trip {
                moved: true,
                found: true
            }
        );
        assert_eq!(number(&db.conn, "SELECT n FROM t").await, 7);
        let written = "SELECT count(*) FROM kiln_run_events \
                       WHERE run_id = 1 AND step_id = 2 AND task = 'build' AND attempt = 1 \
                       AND from_state = 'queued' AND to_state = 'running' AND at_ms = 1234";
        assert_eq!(number(&db.conn, written).await, 1);
        // Moved already: the guard fails, nothing is written.
        let none = Some(update("SELECT n FROM t WHERE n = ?", vec![0i64.into()]));
        let trip = move_in_one_trip(&db.conn, guarded(), event(), none)
            .await
            .unwrap();
        assert_eq!(
            trip,
            Trip {
                moved: false,
                found: false
            }
        );
        assert_eq!(
            number(&db.conn, "SELECT count(*) FROM kiln_run_events").await,
            1
        );
    }

    /// A batch its caller stops waiting for (here after 20 ms of an
    /// update that counts to five million) is never finished by the pool's
    /// next user: its connection is closed, its transaction rolled back.
    #[tokio::test]
    async fn a_batch_given_up_part_way_leaves_no_transaction_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir, 1).await;
        let slow = update(
            "UPDATE t SET n = (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL \
             SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c) WHERE n = 0",
            vec![Value::from(5_000_000i64)],
        );
        let given_up = tokio::time::timeout(
            Duration::from_millis(20),
            move_in_one_trip(&db.conn, slow, event(), None),
        )
        .await;
        assert!(given_up.is_err(), "the batch was still running");
        assert_nothing_left_behind(&db, "given-up").await;
    }

    /// A batch that fails after its `BEGIN` (here its update overflows)
    /// is undone on its connection: with a pool of one, the next write
    /// transaction begins on that same connection, and nothing of the
    /// failed batch is there.
    #[tokio::test]
    async fn a_batch_failing_part_way_leaves_no_transaction_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir, 1).await;
        let overflowing = update(
            "UPDATE t SET n = abs(? - 1) WHERE n = 0",
            vec![Value::from(-9_223_372_036_854_775_807i64)],
        );
        let failed = move_in_one_trip(&db.conn, overflowing, event(), None).await;
        assert!(failed.is_err(), "{failed:?}");
        assert_nothing_left_behind(&db, "failed").await;
    }
}

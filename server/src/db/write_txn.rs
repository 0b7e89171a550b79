//! How Kiln starts a transaction: on SQLite it takes the write lock at
//! `BEGIN` (`BEGIN IMMEDIATE`). A deferred transaction that reads and then
//! writes holds a snapshot; if another connection commits a write in between,
//! SQLite cannot upgrade it and answers "database is locked" at once, without
//! consulting the busy handler (SQLITE_BUSY_SNAPSHOT). Taking the lock first
//! makes every writer wait its turn instead: Kiln's own transactions at the
//! file's gate (`write_gate`), taken before a pool connection, then the rest
//! in the busy handler. Other backends ignore the mode; inside a transaction
//! this is a savepoint, which takes no turn: its transaction has it.

use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::write_gate;

/// What a write transaction can begin on: the database or a transaction.
pub trait Writer: TransactionTrait<Transaction = DatabaseTransaction> {
    /// The gate a new transaction waits at: the SQLite file's, for the
    /// database; none for a transaction (or another backend).
    fn write_gate(&self) -> Option<Arc<Semaphore>>;
}

impl Writer for DatabaseConnection {
    fn write_gate(&self) -> Option<Arc<Semaphore>> {
        if self.get_database_backend() != DbBackend::Sqlite {
            return None;
        }
        write_gate::of_pool(self.get_sqlite_connection_pool())
    }
}

impl Writer for DatabaseTransaction {
    fn write_gate(&self) -> Option<Arc<Semaphore>> {
        None
    }
}

/// A transaction that may write, holding its file's turn until it ends.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

// Delegated, so that code generic over a connection takes it as it took
// the bare transaction.
#[async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Begins a transaction that may write.
#[allow(clippy::disallowed_methods)]
pub async fn begin<C: Writer>(db: &C) -> Result<WriteTxn, DbErr> {
    let turn = write_gate::turn_at(db.write_gate()).await?;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Statement};

    use crate::db::connect::Database;
    use crate::db::test_files;

    async fn sqlite_file(dir: &tempfile::TempDir, max_connections: u32) -> Database {
        test_files::sqlite_file(dir, max_connections, "CREATE TABLE t (n INTEGER NOT NULL)").await
    }

    async fn insert(db: &impl ConnectionTrait, n: i64) -> Result<(), sea_orm::DbErr> {
        let sql = format!("INSERT INTO t (n) VALUES ({n})");
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .map(|_| ())
    }

    async fn count(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
        let sql = "SELECT count(*) AS c FROM t";
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("count".into()))?;
        row.try_get::<i64>("", "c")
    }

    /// A transaction that reads, then sees another connection commit a
    /// write, then writes: deferred, its write fails at once with "database
    /// is locked"; begun here, the other writer waits and both land.
    #[tokio::test]
    async fn a_read_then_write_transaction_is_not_refused_by_a_concurrent_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir, 4).await;
        let txn = super::begin(&db.conn).await.unwrap();
        count(&txn).await.unwrap();
        let other = tokio::spawn({
            let conn = db.conn.clone();
            async move { insert(&conn, 1).await }
        });
        // Long enough for the other write to commit if nothing held it back.
        tokio::time::sleep(Duration::from_millis(100)).await;
        insert(&txn, 2).await.expect("the transaction's own write");
        txn.commit().await.unwrap();
        other.await.unwrap().expect("the other connection's write");
        assert_eq!(count(&db.conn).await.unwrap(), 2);
    }

    /// Writers waiting for their turn hold no pool connection: with two
    /// connections, one writing and ten more waiting, a read still gets
    /// the other at once (waiting in SQLite's busy handler, each held one,
    /// and the read waited for the pool's timeout); then every write lands.
    #[tokio::test]
    async fn waiting_writers_leave_the_pool_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir, 2).await;
        let first = super::begin(&db.conn).await.unwrap();
        insert(&first, 0).await.unwrap();
        let writers: Vec<_> = (1..=10)
            .map(|n| {
                let conn = db.conn.clone();
                tokio::spawn(async move {
                    let txn = super::begin(&conn).await?;
                    insert(&txn, n).await?;
                    txn.commit().await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = tokio::time::timeout(Duration::from_millis(500), count(&db.conn))
            .await
            .expect("a read is not kept from the pool by waiting writers");
        assert_eq!(read.unwrap(), 0);
        first.commit().await.unwrap();
        for writer in writers {
            writer.await.unwrap().expect("each waiting write lands");
        }
        assert_eq!(count(&db.conn).await.unwrap(), 11);
    }
}

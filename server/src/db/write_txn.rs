//! How Kiln starts a transaction: on SQLite it takes the write lock at
//! `BEGIN` (`BEGIN IMMEDIATE`). A deferred transaction that reads and then
//! writes holds a snapshot; if another connection commits a write in between,
//! SQLite cannot upgrade it and answers "database is locked" at once, without
//! consulting the busy handler (SQLITE_BUSY_SNAPSHOT). Taking the lock first
//! makes every writer wait its turn in the busy handler instead. Other
//! backends ignore the mode; inside a transaction this is a savepoint.

use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that may write.
#[allow(clippy::disallowed_methods)]
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kiln_core::DatabaseUrl;
    use sea_orm::{ConnectionTrait, Statement};

    use crate::db::connect::{Database, PoolSettings};

    async fn sqlite_file(dir: &tempfile::TempDir) -> Database {
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let url = DatabaseUrl::parse(&url).unwrap();
        let settings = PoolSettings {
            max_connections: 4,
            connect_timeout: Duration::from_secs(5),
        };
        let db = Database::connect(&url, settings).await.unwrap();
        db.conn
            .execute_unprepared("CREATE TABLE t (n INTEGER NOT NULL)")
            .await
            .unwrap();
        db
    }

    async fn insert(db: &impl ConnectionTrait, n: i64) -> Result<(), sea_orm::DbErr> {
        let sql = format!("INSERT INTO t (n) VALUES ({n})");
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .map(|_| ())
    }

    /// A transaction that reads, then sees another connection commit a
    /// write, then writes: deferred, its write fails at once with "database
    /// is locked"; begun here, the other writer waits and both land.
    #[tokio::test]
    async fn a_read_then_write_transaction_is_not_refused_by_a_concurrent_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_file(&dir).await;
        let txn = super::begin(&db.conn).await.unwrap();
        txn.query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT count(*) FROM t",
        ))
        .await
        .unwrap();
        let other = tokio::spawn({
            let conn = db.conn.clone();
            async move { insert(&conn, 1).await }
        });
        // Long enough for the other write to commit if nothing held it back.
        tokio::time::sleep(Duration::from_millis(100)).await;
        insert(&txn, 2).await.expect("the transaction's own write");
        txn.commit().await.unwrap();
        other.await.unwrap().expect("the other connection's write");
        let rows = db
            .conn
            .query_one_raw(Statement::from_string(
                db.conn.get_database_backend(),
                "SELECT count(*) AS c FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows.try_get::<i64>("", "c").unwrap(), 2);
    }
}

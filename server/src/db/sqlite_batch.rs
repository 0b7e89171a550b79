//! A SQLite connection while a batch of statements sent to it at once may
//! be inside the transaction it began (`BEGIN IMMEDIATE; …`). sqlx runs
//! each connection on a thread of its own, and a batch is one hand-over
//! where its statements one by one were one each; but a batch that fails
//! part-way, or whose caller stops waiting, may leave its transaction open
//! on the connection, and the pool would hand that connection to its next
//! user, who would then write inside it. So the connection is held here
//! until the batch is in: rolled back on it after a failure before it goes
//! back to the pool, and closed (SQLite rolls an open transaction back on
//! close) when that fails while a transaction is still open, or when the
//! holder is dropped part-way.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

/// The batch's connection while it may be inside the batch's transaction.
/// Dropped so (its caller stopped waiting part-way), the connection is
/// closed rather than handed back to the pool: SQLite rolls an open
/// transaction back when its connection closes, and the pool's next user
/// would otherwise write inside it.
pub struct InBatch(Option<PoolConnection<Sqlite>>);

impl InBatch {
    pub fn new(connection: PoolConnection<Sqlite>) -> Self {
        Self(Some(connection))
    }

    /// The connection, to send the batch on.
    pub fn connection(&mut self) -> Option<&mut SqliteConnection> {
        self.0.as_deref_mut()
    }

    /// Back to the pool: the batch committed.
    pub fn release(mut self) {
        drop(self.0.take());
    }

    /// Rolls back whatever a failed batch left open, then gives the
    /// connection back; closes it if that fails while a transaction is
    /// still open (or SQLite cannot say).
    pub async fn undo(mut self) {
        let Some(connection) = self.0.as_deref_mut() else {
            return;
        };
        let rolled_back = sqlx::query("ROLLBACK")
            .execute(&mut *connection)
            .await
            .is_ok();
        if rolled_back || in_transaction(connection).await == Some(false) {
            self.release();
        }
    }
}

impl Drop for InBatch {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            drop(connection.detach());
        }
    }
}

/// Whether `connection` is inside a transaction (SQLite's own answer);
/// `None` if it cannot be asked.
async fn in_transaction(connection: &mut SqliteConnection) -> Option<bool> {
    let mut handle = connection.lock_handle().await.ok()?;
    let raw = handle.as_raw_handle();
    // SAFETY: the connection's own handle, locked for this call; the
    // function only reads the handle's state.
    #[allow(unsafe_code)]
    let autocommit = unsafe { libsqlite3_sys::sqlite3_get_autocommit(raw.as_ptr()) };
    Some(autocommit == 0)
}

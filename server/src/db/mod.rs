//! The database edge: one sqlx pool per process, wrapped for SeaORM (and, on
//! SQLite and PostgreSQL, shared with apalis), migrations, and entities.

pub mod checkpoint;
pub mod connect;
pub mod entities;
pub mod migrate;
pub mod names;
pub mod outage;
pub mod session_store;
pub mod sqlite_batch;
pub mod sqlite_busy;
#[cfg(test)]
pub mod test_files;
pub mod write_gate;
pub mod write_txn;

pub use connect::{Database, DbError, Pool};

//! tower-sessions' store on Kiln's own database (`kiln_sessions`), through
//! SeaORM so it works on all three backends. Sessions survive a restart;
//! expired rows are ignored on load and purged by the cleanup job.
//!
//! Rows are keyed by the SHA-256 (hex) of the session id, as API tokens are:
//! whoever reads the table (a backup, a step that reached the database file)
//! finds no cookie value to replay. The id is 128 random bits, so a fast hash
//! is enough.
//!
//! A write that fails after the handler answered is answered by the
//! session layer with a bare 500; the store keeps what failed for the
//! request (`watching_writes`), so that the answer can say it (a 503 in
//! an outage).

use std::cell::RefCell;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::db::entities::session;

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    conn: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    async fn insert_new(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id all but never collides; when it does, draw again
        // rather than overwrite someone else's session.
        loop {
            let inserted = session::Entity::insert(row(record)?)
                .on_conflict(
                    // MySQL has no DO NOTHING: `_on` writes `id = id` there.
                    OnConflict::column(session::Column::Id)
                        .do_nothing_on([session::Column::Id])
                        .to_owned(),
                )
                .exec_without_returning(&self.conn)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn upsert(&self, record: &Record) -> session_store::Result<()> {
        session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Data, session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.conn)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// What a store error's text starts with when the database could not be
/// reached: tower-sessions keeps only the text of a store's errors, and the
/// caller must still tell an outage (503) from a failed statement (500).
const UNREACHABLE: &str = "database unreachable: ";

fn backend(error: sea_orm::DbErr) -> session_store::Error {
    if crate::db::outage::is_unreachable(&error) {
        session_store::Error::Backend(format!("{UNREACHABLE}{error}"))
    } else {
        session_store::Error::Backend(error.to_string())
    }
}

/// The cause of a session error when it was the database that could not be
/// reached.
pub fn unreachable_cause(error: &tower_sessions::session::Error) -> Option<&str> {
    match error {
        tower_sessions::session::Error::Store(error) => unreachable_store(error),
        _ => None,
    }
}

/// The cause of a store error when it was the database that could not be
/// reached.
fn unreachable_store(error: &session_store::Error) -> Option<&str> {
    match error {
        session_store::Error::Backend(text) => text.strip_prefix(UNREACHABLE),
        _ => None,
    }
}

/// A session write that failed, as the request that made it needs to
/// know: the session layer answers it with a bare 500 and keeps nothing
/// of the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteFailure {
    /// The database could not be reached: why.
    Unreachable(String),
    /// The write itself failed: the store's error.
    Failed(String),
}

tokio::task_local! {
    /// The last session write that failed in the request under way.
    static FAILED_WRITE: RefCell<Option<WriteFailure>>;
}

/// Runs `request` (the session layer and what it wraps), returning its
/// output with the last session write that failed while it ran.
pub async fn watching_writes<F: Future>(request: F) -> (F::Output, Option<WriteFailure>) {
    FAILED_WRITE
        .scope(RefCell::new(None), async move {
            let output = request.await;
            let failed = FAILED_WRITE.with(|failed| failed.borrow_mut().take());
            (output, failed)
        })
        .await
}

/// Keeps `error` for the request under way (none outside a request: a
/// write then has nobody to answer).
fn note_failed_write(error: &session_store::Error) {
    let failure = match unreachable_store(error) {
        Some(cause) => WriteFailure::Unreachable(cause.to_owned()),
        None => WriteFailure::Failed(error.to_string()),
    };
    let _ = FAILED_WRITE.try_with(|failed| *failed.borrow_mut() = Some(failure));
}

/// The row key of session `id`: the hex SHA-256 of the cookie's value.
pub fn stored_id(id: &Id) -> String {
    Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn row(record: &Record) -> Result<session::ActiveModel, session_store::Error> {
    let data = serde_json::to_vec(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok(session::ActiveModel {
        id: Set(stored_id(&record.id)),
        data: Set(data),
        expires_at: Set(record.expiry_date.unix_timestamp()),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.insert_new(record).await.inspect_err(note_failed_write)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.upsert(record).await.inspect_err(note_failed_write)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(model) = session::Entity::find_by_id(stored_id(id))
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.conn)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_slice(&model.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(model.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(stored_id(id))
            .exec(&self.conn)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbErr, RuntimeErr};
    use tower_sessions::session::Error;

    use super::{backend, unreachable_cause};
    use crate::http::error::ApiError;

    /// A session read that could not reach the database answers 503 like
    /// any other request in an outage; a failed statement stays a 500.
    #[test]
    fn an_outage_is_told_apart_from_a_failed_statement() {
        let down = Error::Store(backend(DbErr::Conn(RuntimeErr::Internal(
            "connection refused".into(),
        ))));
        assert!(unreachable_cause(&down).is_some_and(|cause| cause.contains("refused")));
        assert!(matches!(ApiError::from(down), ApiError::Unavailable(_)));

        let failed = Error::Store(backend(DbErr::Custom("no such table".into())));
        assert_eq!(unreachable_cause(&failed), None);
        assert!(matches!(ApiError::from(failed), ApiError::Internal(_)));
    }
}

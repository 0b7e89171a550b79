//! Telling a database that cannot be reached (down, restarting, the pool
//! out of connections) from a statement that failed: the first is the
//! operator's problem and passes (503, retry later), the second a bug (500).

use sea_orm::{DbErr, RuntimeErr};

/// Whether `error` says the database could not be reached, rather than
/// that it refused or failed a statement.
pub fn is_unreachable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            match &**cause {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL shutting down or starting (57P01-57P03) and
                // connection exceptions (class 08).
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

    use super::is_unreachable;

    #[test]
    fn connection_trouble_is_an_outage_and_bad_statements_are_not() {
        assert!(is_unreachable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_unreachable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(io)
        ))));
        let refused = sqlx::Error::Protocol("syntax error".into());
        assert!(!is_unreachable(&DbErr::Exec(RuntimeErr::SqlxError(
            Arc::new(refused)
        ))));
        assert!(!is_unreachable(&DbErr::RecordNotFound("x".into())));
        // A closed pool is this process stopping, not an outage to wait out.
        assert!(!is_unreachable(&DbErr::Exec(RuntimeErr::SqlxError(
            Arc::new(sqlx::Error::PoolClosed)
        ))));
    }
}

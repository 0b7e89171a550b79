//! The accounts layer's one error type. The HTTP layer maps it to statuses in
//! `http::error`; nothing here knows about HTTP.

use std::time::Duration;

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// A field's value breaks a rule.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A unique name is taken, or the state forbids the change.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Absent, or hidden from this caller: the two must look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Visible, but the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No identity, or one that no longer works.
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl AccountsError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        AccountsError::Invalid {
            field,
            message: message.to_string(),
        }
    }

    pub fn conflict(field: &'static str, message: impl ToString) -> Self {
        AccountsError::Conflict {
            field,
            message: message.to_string(),
        }
    }

    /// Turns a unique-index violation into a conflict on `field`, so a race
    /// between two inserts still answers 409 rather than 500.
    pub fn from_unique(error: DbErr, field: &'static str, message: &str) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AccountsError::conflict(field, message),
            _ => AccountsError::Database(error),
        }
    }
}

//! The services' one error type, shared by accounts, the engine, pipelines
//! and schedules: what a caller got wrong (with the field or the file's
//! places), what the caller may not do, what the state forbids, and the IO
//! underneath. `http::error` maps it to statuses in one place; nothing here
//! knows about HTTP. Errors of lower parts (the job queue, secret storage,
//! logs) convert into [`ServiceError::Internal`] where they are defined, so
//! this module depends on none of them.

use std::time::Duration;

use kiln_core::workflow::DefinitionError;
use kiln_core::workflow::params::ParamError;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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
    /// A workflow or pipeline text that does not load.
    #[error("the workflow has {} problem(s); the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Definition(Vec<DefinitionError>),
    /// Params that do not fit the workflow.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Params(Vec<ParamError>),
    /// The project's git repository could not be fetched or read.
    #[error("the repository: {0}")]
    Repository(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A part underneath failed (the job queue, secret storage, logs):
    /// `what` names it when its own message does not.
    #[error("{}{source}", .what.map(|w| format!("{w}: ")).unwrap_or_default())]
    Internal {
        what: Option<&'static str>,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        ServiceError::Invalid {
            field,
            message: message.to_string(),
        }
    }

    pub fn conflict(field: &'static str, message: impl ToString) -> Self {
        ServiceError::Conflict {
            field,
            message: message.to_string(),
        }
    }

    /// `source`'s failure, said as `what: source`.
    pub fn internal(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ServiceError::Internal {
            what: Some(what),
            source: Box::new(source),
        }
    }

    /// `source`'s failure, said as it says it (its message names the part).
    pub fn internal_as_is(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal {
            what: None,
            source: Box::new(source),
        }
    }

    /// Turns a unique-index violation into a conflict on `field`, so a race
    /// between two inserts still answers 409 rather than 500.
    pub fn from_unique(error: DbErr, field: &'static str, message: &str) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ServiceError::conflict(field, message),
            _ => ServiceError::Database(error),
        }
    }
}

/// IO under a service: a step's log (local or in an object store), its
/// working directory, its outputs or artifacts.
impl From<std::io::Error> for ServiceError {
    fn from(error: std::io::Error) -> Self {
        ServiceError::internal("storage", error)
    }
}

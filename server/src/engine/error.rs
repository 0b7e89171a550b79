//! The engine layer's one error type: bad definitions and params (the
//! caller's mistakes, with places and names), states that forbid a change,
//! and the IO underneath. `http::error` maps it to statuses.

use kiln_core::workflow::DefinitionError;
use kiln_core::workflow::params::ParamError;
use sea_orm::DbErr;

use crate::accounts::AccountsError;
use crate::jobs::JobsError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The workflow text does not load.
    #[error("the workflow has {} problem(s); the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Definition(Vec<DefinitionError>),
    /// Params that do not fit the workflow.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Params(Vec<ParamError>),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The run's or step's state forbids this now.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error("secret storage: {0}")]
    Secrets(#[from] super::secrets::SecretsError),
    #[error("log storage: {0}")]
    Logs(#[from] std::io::Error),
    /// The project's git repository could not be fetched or read.
    #[error("the repository: {0}")]
    Repository(String),
}

impl EngineError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        EngineError::Invalid {
            field,
            message: message.to_string(),
        }
    }

    pub fn conflict(field: &'static str, message: impl ToString) -> Self {
        EngineError::Conflict {
            field,
            message: message.to_string(),
        }
    }
}

//! The HTTP layer's one error type and its mapping to status codes and the
//! JSON body of DESIGN.md. Lower layers' errors convert into it here, in one
//! place. Internal causes are logged, never sent.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiln_core::{ErrorBody, SourceProblem};

use crate::ServiceError;
use crate::db::session_store::WriteFailure;
use crate::pipelines::hooks::HookRefusal;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request whose field breaks a rule.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A name already taken, or a state that forbids the change.
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// A submitted file (a workflow) that does not load: each problem with
    /// its line and column.
    #[error("{message}")]
    BadSource {
        message: String,
        problems: Vec<SourceProblem>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: Duration,
    },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("request took too long")]
    Timeout,
    /// The request named a Host this server does not answer to.
    #[error("{0}")]
    MisdirectedRequest(String),
    /// Something Kiln depends on beyond the database (a git host) failed.
    #[error("{0}")]
    BadGateway(String),
    /// The database cannot be reached now: try again shortly.
    #[error("the database is unavailable; try again shortly")]
    Unavailable(#[source] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Seconds a client is told to wait while the database is unavailable.
const UNAVAILABLE_RETRY_SECONDS: u32 = 5;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } | ApiError::BadSource { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid { .. } => "invalid",
            ApiError::BadSource { .. } => "invalid_definition",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Timeout => "timeout",
            ApiError::MisdirectedRequest(_) => "misdirected_request",
            ApiError::BadGateway(_) => "bad_gateway",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// A database error: 503 while the database cannot be reached, else a
    /// 500.
    pub fn database(error: sea_orm::DbErr) -> Self {
        if crate::db::outage::is_unreachable(&error) {
            ApiError::Unavailable(error)
        } else {
            ApiError::Internal(Box::new(error))
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<HookRefusal> for ApiError {
    fn from(refusal: HookRefusal) -> Self {
        match refusal {
            HookRefusal::NotFound => ApiError::NotFound(refusal.to_string()),
            HookRefusal::MissingSignature | HookRefusal::WrongSignature => {
                ApiError::Unauthorized(refusal.to_string())
            }
            HookRefusal::Malformed(message) => ApiError::BadRequest(message),
            HookRefusal::Engine(error) => error.into(),
        }
    }
}

/// A session write that failed after its handler answered: 503 when the
/// store could not reach the database, else a 500.
impl From<WriteFailure> for ApiError {
    fn from(failure: WriteFailure) -> Self {
        match failure {
            WriteFailure::Unreachable(cause) => {
                ApiError::Unavailable(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(cause)))
            }
            WriteFailure::Failed(error) => {
                ApiError::Internal(format!("the session could not be saved: {error}").into())
            }
        }
    }
}

/// A session that could not be read or written: 503 when its store could
/// not reach the database, else a 500.
impl From<tower_sessions::session::Error> for ApiError {
    fn from(error: tower_sessions::session::Error) -> Self {
        match crate::db::session_store::unreachable_cause(&error) {
            Some(cause) => ApiError::Unavailable(sea_orm::DbErr::Conn(
                sea_orm::RuntimeErr::Internal(cause.to_owned()),
            )),
            None => ApiError::Internal(Box::new(error)),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Definition(problems) => ApiError::BadSource {
                message: ServiceError::Definition(problems.clone()).to_string(),
                problems: problems
                    .into_iter()
                    .map(|p| SourceProblem {
                        line: p.at.line,
                        column: p.at.column,
                        message: p.message,
                    })
                    .collect(),
            },
            ServiceError::Params(errors) => {
                let field = errors
                    .first()
                    .map_or_else(|| "params".to_owned(), |e| format!("params.{}", e.param));
                let message = errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::Invalid { field, message }
            }
            ServiceError::Invalid { field, message } => ApiError::invalid(field, message),
            ServiceError::Conflict { field, message } => ApiError::Conflict {
                field: field.to_owned(),
                message,
            },
            ServiceError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            ServiceError::Forbidden(message) => ApiError::Forbidden(message),
            ServiceError::Unauthenticated(message) => ApiError::Unauthorized(message.to_owned()),
            error @ ServiceError::Throttled { retry_after } => ApiError::TooManyRequests {
                message: error.to_string(),
                retry_after,
            },
            ServiceError::Database(e) => ApiError::database(e),
            ServiceError::Repository(message) => ApiError::BadGateway(message),
            error @ (ServiceError::Hashing(_) | ServiceError::Internal { .. }) => {
                ApiError::Internal(Box::new(error))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            _ => {}
        }
        let body = match &self {
            ApiError::Invalid { field, message } | ApiError::Conflict { field, message } => {
                ErrorBody::for_field(self.code(), field.clone(), format!("{field}: {message}"))
            }
            ApiError::BadSource { message, problems } => {
                let mut body = ErrorBody::for_field(self.code(), "source", message.clone());
                body.error.problems = problems.clone();
                body
            }
            _ => ErrorBody::new(self.code(), self.to_string()),
        };
        let mut response = (self.status(), Json(body)).into_response();
        match &self {
            ApiError::TooManyRequests { retry_after, .. } => {
                let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            ApiError::Unavailable(_) => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECONDS),
                );
            }
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"kiln\""),
                );
            }
            _ => {}
        }
        response
    }
}

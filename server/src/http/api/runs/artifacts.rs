//! `GET /runs/{id}/steps/{task}/artifacts`: a step's saved artifacts, the
//! tar archive as stored, streamed in chunks (never held whole).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kiln_core::access::Action;

use super::run::authorized_run;
use crate::accounts::Principal;
use crate::engine::artifacts::{stored_of, stream};
use crate::engine::repo::runs as run_store;
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::state::AppState;

/// A step's saved artifacts (a tar archive), from its succeeded attempt.
#[utoipa::path(get, path = "/runs/{id}/steps/{task}/artifacts", tag = "runs",
    params(("id" = i64, Path), ("task" = String, Path)),
    responses(
        (status = 200, description = "the tar archive", content_type = "application/x-tar"),
        (status = 404, description = "no such run or step, or it saved no artifacts"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(artifact size)"}))))]
pub async fn step_artifacts(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, task)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    authorized_run(&state, &principal, id, Action::View).await?;
    let step = run_store::step_by_task(&state.db.conn, id, &task).await?;
    let stored = stored_of(&step)
        .ok_or_else(|| ApiError::NotFound("this step saved no artifacts".into()))?;
    // Step names are letters, digits, `.`, `-` and `_`; anything else is
    // dropped all the same, the header must stay one plain token.
    let name: String = step
        .task
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let disposition = format!("attachment; filename=\"run-{id}-{name}-artifacts.tar\"");
    let mut response =
        Body::from_stream(stream(state.engine.logs.clone(), stored.key)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

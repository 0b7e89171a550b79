//! A project's linked repository: `GET`/`PUT /projects/{id}/repository`
//! and `POST …/repository/rotate-secret`. Maintainers see the hook URL and
//! secret to paste into the git host; the status token goes in and never
//! comes out.

use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;
use crate::pipelines::repository::{self, LinkRequest, Linked};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryInput {
    /// `https://…`, `ssh://…`, `user@host:path`, or (where the operator
    /// allows it) an absolute local path.
    pub url: String,
    /// `gitea` (also Forgejo), `github` or `gitlab`.
    pub provider: String,
    #[serde(default = "main_branch")]
    pub default_branch: String,
    /// For commit statuses; stored sealed, never returned. `""` removes it;
    /// left out, the stored one is kept.
    pub status_token: Option<String>,
    /// Where the host's API lives, when not at its usual address
    /// (`https://host/api/v1` for Gitea, `https://api.github.com` or
    /// `https://host/api/v3` for GitHub, `https://host/api/v4` for GitLab).
    /// Needed for statuses of a local repository.
    pub api_url: Option<String>,
}

fn main_branch() -> String {
    "main".to_owned()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryBody {
    pub project_id: i64,
    /// As linked, with any password replaced by `***`.
    pub url: String,
    pub provider: String,
    pub default_branch: String,
    /// Where the git host sends webhooks.
    pub hook_url: String,
    /// What the git host signs them with.
    pub hook_secret: String,
    pub has_status_token: bool,
    pub api_url: Option<String>,
    pub updated_at: String,
}

/// The server's address as callers reach it: `public_url` when set, else
/// the request's own host.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub(crate) fn body(state: &AppState, headers: &HeaderMap, linked: Linked) -> RepositoryBody {
    RepositoryBody {
        hook_url: format!(
            "{}/hooks/{}/{}",
            base_url(state, headers),
            linked.provider,
            linked.project_id
        ),
        project_id: linked.project_id,
        url: linked.url,
        provider: linked.provider.to_string(),
        default_branch: linked.default_branch,
        hook_secret: linked.hook_secret,
        has_status_token: linked.has_status_token,
        api_url: linked.api_url,
        updated_at: crate::clock::ms_to_rfc3339(linked.updated_at_ms),
    }
}

/// The project's linked repository, with the hook URL and secret.
#[utoipa::path(get, path = "/projects/{id}/repository", tag = "pipelines",
    params(("id" = i64, Path)),
    responses((status = 200, body = RepositoryBody), (status = 404)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn get_repository(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<RepositoryBody>, ApiError> {
    let linked = repository::get(&state.engine, &principal, id).await?;
    Ok(Json(body(&state, &headers, linked)))
}

/// Links the project to its repository (or changes the link; the hook
/// secret is kept).
#[utoipa::path(put, path = "/projects/{id}/repository", tag = "pipelines",
    params(("id" = i64, Path)),
    request_body = RepositoryInput,
    responses((status = 200, body = RepositoryBody), (status = 400)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn put_repository(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(input): Json<RepositoryInput>,
) -> Result<Json<RepositoryBody>, ApiError> {
    let request = LinkRequest {
        url: input.url,
        provider: input.provider,
        default_branch: input.default_branch,
        status_token: input.status_token,
        api_url: input.api_url,
    };
    let linked = repository::link(&state.engine, &principal, id, request).await?;
    Ok(Json(body(&state, &headers, linked)))
}

/// A new hook secret; deliveries signed with the old one are refused.
#[utoipa::path(post, path = "/projects/{id}/repository/rotate-secret", tag = "pipelines",
    params(("id" = i64, Path)),
    responses((status = 200, body = RepositoryBody), (status = 404)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<RepositoryBody>, ApiError> {
    let linked = repository::rotate_secret(&state.engine, &principal, id).await?;
    Ok(Json(body(&state, &headers, linked)))
}

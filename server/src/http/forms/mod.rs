//! The dashboard's forms, posted as plain HTML (no JavaScript needed): each
//! handler calls the same code as the REST API, then redirects (303) to the
//! resulting page, or back to the form's page with `?form=…&field=…&error=…`
//! so the error shows beside its field. Same CSRF rules as the API.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;

use super::auth::session_principal_of;
use super::error::ApiError;
use super::state::AppState;
use crate::accounts::Principal;

mod account;
mod pipelines;
pub mod runs;
mod schedules;
mod theme;
mod tree;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/login", post(account::login))
        .route("/ui/register", post(account::register))
        .route("/ui/logout", post(account::logout))
        .route("/ui/theme", post(theme::choose))
        .route("/ui/admin/users", post(account::admin_create_user))
        .route("/ui/account/password", post(account::change_password))
        .route("/ui/account/tokens", post(account::create_token))
        .route(
            "/ui/account/tokens/{id}/revoke",
            post(account::revoke_token),
        )
        .route("/ui/groups", post(tree::create_top_group))
        .route("/ui/nodes/{id}/groups", post(tree::create_subgroup))
        .route("/ui/nodes/{id}/projects", post(tree::create_project))
        .route("/ui/nodes/{id}/members", post(tree::add_member))
        .route(
            "/ui/nodes/{id}/members/{user_id}/remove",
            post(tree::remove_member),
        )
        .route("/ui/nodes/{id}/settings", post(tree::update_settings))
        .route("/ui/nodes/{id}/delete", post(tree::delete_node))
        .route("/ui/projects/{id}/workflows", post(runs::save_workflow))
        .route(
            "/ui/projects/{id}/workflows/{name}/run",
            post(runs::start_run),
        )
        .route("/ui/runs/{id}/cancel", post(runs::cancel_run))
        .route("/ui/runs/{id}/retry", post(runs::retry_run))
        .route("/ui/runs/{id}/approve", post(runs::approve_run))
        .route(
            "/ui/projects/{id}/repository",
            post(pipelines::link_repository),
        )
        .route(
            "/ui/projects/{id}/pipelines/run",
            post(pipelines::start_pipeline),
        )
        .route(
            "/ui/projects/{id}/repository/rotate-secret",
            post(pipelines::rotate_secret),
        )
        .route(
            "/ui/projects/{id}/deliveries/{delivery}/replay",
            post(pipelines::replay_delivery),
        )
        .route("/ui/projects/{id}/schedules", post(schedules::create))
        .route("/ui/schedules/{id}", post(schedules::edit))
        .route("/ui/schedules/{id}/pause", post(schedules::pause))
        .route("/ui/schedules/{id}/resume", post(schedules::resume))
        .route("/ui/schedules/{id}/run", post(schedules::run))
        .route("/ui/schedules/{id}/delete", post(schedules::delete))
}

/// What each form costs of the poster's API quota (the quota gate is in
/// front of these too), by route: the same as the API operation it mirrors.
pub fn costs() -> HashMap<(String, String), u32> {
    let dear = [
        "/ui/login",
        "/ui/register",
        "/ui/account/password",
        "/ui/admin/users",
    ];
    let mut costs = HashMap::new();
    for route in dear {
        costs.insert(("POST".to_owned(), route.to_owned()), 20);
    }
    for route in [
        "/ui/account/tokens",
        "/ui/groups",
        "/ui/nodes/{id}/groups",
        "/ui/nodes/{id}/projects",
        "/ui/nodes/{id}/delete",
        "/ui/projects/{id}/workflows",
        "/ui/runs/{id}/retry",
        "/ui/runs/{id}/approve",
        "/ui/projects/{id}/schedules",
        "/ui/schedules/{id}",
    ] {
        costs.insert(("POST".to_owned(), route.to_owned()), 5);
    }
    for route in [
        "/ui/projects/{id}/workflows/{name}/run",
        "/ui/schedules/{id}/run",
        "/ui/projects/{id}/deliveries/{delivery}/replay",
        "/ui/projects/{id}/pipelines/run",
    ] {
        costs.insert(("POST".to_owned(), route.to_owned()), 10);
    }
    costs
}

type Fields = Form<HashMap<String, String>>;

/// A posted form: the request's head (who, from where) and its fields.
pub(super) struct Posted {
    pub(super) parts: Parts,
    pub(super) fields: HashMap<String, String>,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        match Fields::from_request(Request::from_parts(parts.clone(), body), state).await {
            Ok(Form(fields)) => Ok(Posted { parts, fields }),
            Err(_) => Err(ApiError::BadRequest("malformed form".into()).into_response()),
        }
    }
}

pub(super) fn field(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

pub(super) fn optional(fields: &HashMap<String, String>, name: &str) -> Option<String> {
    fields.get(name).filter(|v| !v.trim().is_empty()).cloned()
}

/// The page a form was posted from (same site only), else `fallback`.
pub(super) fn origin_page(headers: &HeaderMap, fallback: &str) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .map(|path| path.split('?').next().unwrap_or("/").to_owned())
        .filter(|path| is_local_path(path))
        .unwrap_or_else(|| fallback.to_owned())
}

/// Back to `page` with the error (and what was typed in `keep`).
pub(super) fn back(page: &str, form: &str, error: ApiError, keep: &[(&str, String)]) -> Response {
    if let ApiError::Internal(_) = &error {
        return error.into_response();
    }
    let (field, message) = match &error {
        ApiError::Invalid { field, message } | ApiError::Conflict { field, message } => {
            (field.clone(), message.clone())
        }
        // One wording for missing and hidden, whatever kind was asked for.
        ApiError::NotFound(_) => (String::new(), "not found".to_owned()),
        other => (String::new(), other.to_string()),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("form", form);
    if !field.is_empty() {
        query.append_pair("field", &field);
    }
    query.append_pair("error", &message);
    for (name, value) in keep {
        query.append_pair(name, value);
    }
    Redirect::to(&format!("{page}?{}", query.finish())).into_response()
}

/// Who posted; a failed credential or CSRF check is answered right away.
pub(super) async fn caller(state: &AppState, parts: &Parts) -> Result<Principal, ApiError> {
    session_principal_of(state, parts).await
}

/// Whether `path` is a path on this site: `/x`, never `//host`, `/\host` or
/// anything with control characters, which browsers may read as another host.
pub(super) fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c == '\\' || c.is_control())
}

pub(super) fn safe_next(next: &str) -> &str {
    if is_local_path(next) {
        next
    } else {
        "/projects"
    }
}

/// Runs `action` for a signed-in caller, redirecting to `done` on success and
/// back to the form's page on failure.
pub(super) async fn handle<F, Fut>(
    state: &AppState,
    parts: &Parts,
    form: &str,
    fallback: &str,
    action: F,
) -> Response
where
    F: FnOnce(Principal, AppState) -> Fut,
    Fut: std::future::Future<Output = Result<String, ApiError>>,
{
    let page = origin_page(&parts.headers, fallback);
    // A forged request (CSRF) or a dead credential gets its error outright.
    let principal = match caller(state, parts).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let result = async {
        if principal.user().is_none() {
            return Err(ApiError::Unauthorized("sign in first".into()));
        }
        action(principal, state.clone()).await
    }
    .await;
    match result {
        Ok(done) => Redirect::to(&done).into_response(),
        Err(ApiError::Unauthorized(_)) => Redirect::to("/login").into_response(),
        Err(error) => back(&page, form, error, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_local_path, safe_next};

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_next("/g/platform"), "/g/platform");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "",
            "evil",
        ] {
            assert_eq!(safe_next(bad), "/projects", "{bad:?}");
        }
        assert!(!is_local_path("/a\\b"));
    }
}

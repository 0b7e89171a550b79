//! The dashboard's forms, posted as plain HTML (no JavaScript needed): each
//! handler calls the same code as the REST API, then redirects (303) to the
//! resulting page, or back to the form's page with `?form=…&field=…&error=…`
//! so the error shows beside its field. Same CSRF rules as the API.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use kiln_core::accounts::NodeKind;
use tower_sessions::Session;

use super::api::types::{NewMemberBody, NodeUpdateBody};
use super::api::{members as api_members, tree as api_tree};
use super::auth::{client_addr, renew_epoch, session_principal_of, sign_in, sign_out};
use super::pages::NEW_TOKEN_SECRET;
use super::{ApiError, AppState};
use crate::accounts::nodes::{self, NewNode};
use crate::accounts::tokens::{self, NewToken};
use crate::accounts::users::{self, NewUser};
use crate::accounts::{AccountsError, Principal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/login", post(login))
        .route("/ui/register", post(register))
        .route("/ui/logout", post(logout))
        .route("/ui/admin/users", post(admin_create_user))
        .route("/ui/account/password", post(change_password))
        .route("/ui/account/tokens", post(create_token))
        .route("/ui/account/tokens/{id}/revoke", post(revoke_token))
        .route("/ui/groups", post(create_top_group))
        .route("/ui/nodes/{id}/groups", post(create_subgroup))
        .route("/ui/nodes/{id}/projects", post(create_project))
        .route("/ui/nodes/{id}/members", post(add_member))
        .route(
            "/ui/nodes/{id}/members/{user_id}/remove",
            post(remove_member),
        )
        .route("/ui/nodes/{id}/settings", post(update_settings))
        .route("/ui/nodes/{id}/delete", post(delete_node))
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
    ] {
        costs.insert(("POST".to_owned(), route.to_owned()), 5);
    }
    costs
}

type Fields = Form<HashMap<String, String>>;

/// A posted form: the request's head (who, from where) and its fields.
struct Posted {
    parts: Parts,
    fields: HashMap<String, String>,
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

fn field(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

fn optional(fields: &HashMap<String, String>, name: &str) -> Option<String> {
    fields.get(name).filter(|v| !v.trim().is_empty()).cloned()
}

/// The page a form was posted from (same site only), else `fallback`.
fn origin_page(headers: &HeaderMap, fallback: &str) -> String {
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
fn back(page: &str, form: &str, error: ApiError, keep: &[(&str, String)]) -> Response {
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
async fn caller(state: &AppState, parts: &Parts) -> Result<Principal, ApiError> {
    session_principal_of(state, parts).await
}

/// Whether `path` is a path on this site: `/x`, never `//host`, `/\host` or
/// anything with control characters, which browsers may read as another host.
fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c == '\\' || c.is_control())
}

fn safe_next(next: &str) -> &str {
    if is_local_path(next) {
        next
    } else {
        "/projects"
    }
}

async fn login(State(state): State<AppState>, session: Session, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    let username = field(&fields, "username");
    let principal = match caller(&state, &parts).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let _ = &principal;
        state.throttle.attempt(&username, client_addr(&parts))?;
        let user =
            users::check_login(&state.db.conn, &username, &field(&fields, "password")).await?;
        sign_in(&session, &user).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(safe_next(&field(&fields, "next"))).into_response(),
        Err(error) => back("/login", "login", error, &[("username", username)]),
    }
}

async fn register(State(state): State<AppState>, session: Session, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    let username = field(&fields, "username");
    let principal = match caller(&state, &parts).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let user = users::register(
            &state.db.conn,
            state.config.registration,
            false,
            NewUser {
                username: username.clone(),
                password: field(&fields, "password"),
                admin: false,
            },
        )
        .await?;
        if principal.user().is_none() {
            sign_in(&session, &user).await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/projects").into_response(),
        Err(error) => back("/register", "register", error, &[("username", username)]),
    }
}

async fn logout(session: Session) -> Response {
    match sign_out(&session).await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(error) => error.into_response(),
    }
}

/// Runs `action` for a signed-in caller, redirecting to `done` on success and
/// back to the form's page on failure.
async fn handle<F, Fut>(
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

async fn change_password(
    State(state): State<AppState>,
    session: Session,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "password",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            let epoch = users::change_password(
                &state.db.conn,
                me,
                &field(&fields, "current_password"),
                field(&fields, "new_password"),
            )
            .await?;
            renew_epoch(&session, epoch).await?;
            Ok("/account".to_owned())
        },
    )
    .await
}

async fn create_token(State(state): State<AppState>, session: Session, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "token",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            let expires_in_days = match optional(&fields, "expires_in_days") {
                None => None,
                Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid("expires_in_days", "must be a whole number of days")
                })?),
            };
            let (_, secret) = tokens::create(
                &state.db.conn,
                me,
                NewToken {
                    name: field(&fields, "name"),
                    scope: field(&fields, "scope"),
                    expires_in_days,
                    quota_per_minute: None,
                },
            )
            .await?;
            session
                .insert(NEW_TOKEN_SECRET, secret)
                .await
                .map_err(|e| ApiError::Internal(Box::new(e)))?;
            Ok("/account".to_owned())
        },
    )
    .await
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    handle(
        &state,
        &parts,
        "token",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            tokens::revoke(&state.db.conn, me, id).await?;
            Ok("/account".to_owned())
        },
    )
    .await
}

fn new_node(kind: NodeKind, fields: &HashMap<String, String>) -> NewNode {
    NewNode {
        kind,
        parent: None,
        slug: field(fields, "slug"),
        name: optional(fields, "name"),
        description: optional(fields, "description"),
        visibility: optional(fields, "visibility"),
    }
}

async fn create_top_group(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "group",
        "/projects",
        |principal, state| async move {
            let new = new_node(NodeKind::Group, &fields);
            let node =
                api_tree::create_node(&state, &principal, NodeKind::Group, None, new).await?;
            Ok(format!("/g/{}", node.full_path))
        },
    )
    .await
}

async fn create_child(
    state: AppState,
    id: i64,
    posted: Posted,
    kind: NodeKind,
    form: &'static str,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        form,
        "/projects",
        |principal, state| async move {
            let new = new_node(kind, &fields);
            let node = api_tree::create_node(&state, &principal, kind, Some(id), new).await?;
            Ok(kiln_app::data::node_href(node.kind, &node.full_path))
        },
    )
    .await
}

async fn create_subgroup(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    create_child(state, id, posted, NodeKind::Group, "subgroup").await
}

async fn create_project(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    create_child(state, id, posted, NodeKind::Project, "project").await
}

/// The kind of node `id` is (any kind: authorization comes after).
async fn kind_of(state: &AppState, id: i64) -> Result<NodeKind, ApiError> {
    Ok(nodes::get(&state.db.conn, id)
        .await?
        .map(|n| n.kind)
        .ok_or(AccountsError::NotFound("group or project"))?)
}

async fn add_member(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let page = origin_page(&parts.headers, "/projects");
    handle(
        &state,
        &parts,
        "member",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            let body = NewMemberBody {
                username: field(&fields, "username"),
                role: field(&fields, "role"),
            };
            api_members::add(&state, &principal, kind, id, body).await?;
            Ok(page)
        },
    )
    .await
}

async fn remove_member(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let page = origin_page(&parts.headers, "/projects");
    handle(
        &state,
        &parts,
        "member",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            api_members::remove(&state, &principal, kind, id, user_id).await?;
            Ok(page)
        },
    )
    .await
}

async fn update_settings(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "settings",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            let body = NodeUpdateBody {
                name: fields.get("name").cloned(),
                description: fields.get("description").cloned(),
                ..NodeUpdateBody::default()
            };
            let node = api_tree::update_node(&state, &principal, kind, id, body).await?;
            Ok(kiln_app::data::node_href(node.kind, &node.full_path))
        },
    )
    .await
}

async fn delete_node(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    handle(
        &state,
        &parts,
        "delete",
        "/projects",
        |principal, state| async move {
            let kind = kind_of(&state, id).await?;
            api_tree::delete_node(&state, &principal, kind, id, false).await?;
            Ok("/projects".to_owned())
        },
    )
    .await
}

/// An instance admin makes an account for someone (any registration mode
/// except closed, where only the operator's CLI does).
async fn admin_create_user(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "user",
        "/admin",
        |principal, state| async move {
            if !principal.is_admin_with(kiln_core::access::Scope::Admin) {
                return Err(ApiError::Forbidden(
                    "only instance admins create accounts".into(),
                ));
            }
            users::register(
                &state.db.conn,
                state.config.registration,
                true,
                NewUser {
                    username: field(&fields, "username"),
                    password: field(&fields, "password"),
                    admin: false,
                },
            )
            .await?;
            Ok("/admin".to_owned())
        },
    )
    .await
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

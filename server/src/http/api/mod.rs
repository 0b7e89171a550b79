//! The REST API under `/api/v1`, declared with utoipa so the OpenAPI document
//! is generated from the handlers themselves. Every operation states its
//! cost (`x-kiln-cost`: quota units and complexity); the quota reads the
//! units from the same document. Unknown `/api` paths answer a JSON 404.

pub mod accounts;
mod document;
pub mod meta;
pub mod pipelines;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod shapes;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::OriginalUri;
use axum::http::Method;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kiln API",
        description = "Kiln's REST API. Authenticate with the session cookie or `Authorization: Bearer kiln_…`. Each operation's `x-kiln-cost` is what it spends of the caller's per-minute quota.",
    ),
    tags(
        (name = "auth", description = "Sign-up, sign-in, sign-out"),
        (name = "account", description = "The caller's own account and API tokens"),
        (name = "groups", description = "Groups nest to any depth"),
        (name = "projects", description = "Projects live in groups"),
        (name = "members", description = "Roles on groups and projects, inherited down the tree"),
        (name = "workflows", description = "Workflow definitions of a project, versioned"),
        (name = "runs", description = "Runs, their steps and logs; cancel and re-run"),
        (name = "pipelines", description = "Pipelines from the repository: the linked repository and its webhook"),
        (name = "schedules", description = "Cron schedules that start workflows and pipelines, their firings, and the preview of an expression"),
        (name = "secrets", description = "Secrets of groups and projects; values are never returned"),
        (name = "admin", description = "Instance administration"),
        (name = "meta", description = "About the API itself"),
    )
)]
struct ApiDoc;

/// The whole document's router: every route below, under `/api/v1`.
pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", routes())
}

/// Every `/api/v1` route (paths relative to `/api/v1`), with its OpenAPI
/// description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(meta::version))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(accounts::auth::register))
        .routes(routes!(accounts::auth::login))
        .routes(routes!(accounts::auth::logout))
        .routes(routes!(accounts::me::me))
        .routes(routes!(accounts::me::change_password))
        .routes(routes!(
            accounts::me::list_tokens,
            accounts::me::create_token
        ))
        .routes(routes!(accounts::me::revoke_token))
        .routes(routes!(accounts::admin::list_users))
        .routes(routes!(accounts::admin::list_label_grants))
        .routes(routes!(
            accounts::admin::grant_label,
            accounts::admin::revoke_label
        ))
        .routes(routes!(
            accounts::tree::list_groups,
            accounts::tree::create_group
        ))
        .routes(routes!(
            accounts::tree::get_group,
            accounts::tree::update_group,
            accounts::tree_delete::delete_group
        ))
        .routes(routes!(accounts::tree::move_group))
        .routes(routes!(
            accounts::tree::list_projects,
            accounts::tree::create_project
        ))
        .routes(routes!(
            accounts::tree::get_project,
            accounts::tree::update_project,
            accounts::tree_delete::delete_project
        ))
        .routes(routes!(accounts::tree::move_project))
        .routes(routes!(accounts::tree::resolve))
        .routes(routes!(
            accounts::members::list_group_members,
            accounts::members::add_group_member
        ))
        .routes(routes!(
            accounts::members::change_group_member,
            accounts::members::remove_group_member
        ))
        .routes(routes!(
            accounts::members::list_project_members,
            accounts::members::add_project_member
        ))
        .routes(routes!(
            accounts::members::change_project_member,
            accounts::members::remove_project_member
        ))
        .routes(routes!(runs::workflows::list_workflows))
        .routes(routes!(
            runs::workflows::get_workflow,
            runs::workflows::save_workflow,
            runs::workflows::delete_workflow
        ))
        .routes(routes!(runs::workflows::trigger_run))
        .routes(routes!(runs::run::list_runs))
        .routes(routes!(runs::all_runs::list_all_runs))
        .routes(routes!(runs::live::runs_events))
        .routes(routes!(runs::run::get_run))
        .routes(routes!(runs::events::run_events))
        .routes(routes!(runs::run::list_steps))
        .routes(routes!(runs::run::cancel_run))
        .routes(routes!(runs::run::retry_run))
        .routes(routes!(runs::run::approve_run))
        .routes(routes!(runs::logs::step_log))
        .routes(routes!(runs::artifacts::step_artifacts))
        .routes(routes!(
            pipelines::repository::get_repository,
            pipelines::repository::put_repository
        ))
        .routes(routes!(pipelines::repository::rotate_secret))
        .routes(routes!(pipelines::actions::dry_run))
        .routes(routes!(pipelines::actions::list_deliveries))
        .routes(routes!(pipelines::actions::replay_delivery))
        .routes(routes!(pipelines::actions::start_pipeline))
        .routes(routes!(
            schedules::schedule::list_project_schedules,
            schedules::schedule::create_schedule
        ))
        .routes(routes!(schedules::schedule::list_schedules))
        .routes(routes!(
            schedules::schedule::get_schedule,
            schedules::schedule::update_schedule,
            schedules::schedule::delete_schedule
        ))
        .routes(routes!(schedules::schedule::pause_schedule))
        .routes(routes!(schedules::schedule::resume_schedule))
        .routes(routes!(schedules::schedule::run_schedule))
        .routes(routes!(schedules::schedule::list_firings))
        .routes(routes!(schedules::schedule::cron_preview))
        .routes(routes!(secrets::list_project_secrets))
        .routes(routes!(
            secrets::set_project_secret,
            secrets::delete_project_secret
        ))
        .routes(routes!(secrets::list_group_secrets))
        .routes(routes!(
            secrets::set_group_secret,
            secrets::delete_group_secret
        ))
}

/// The OpenAPI document, built once.
pub fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, doc) = v1().split_for_parts();
        document::complete(serde_json::to_value(&doc).unwrap_or(Value::Null))
    })
}

/// `(METHOD, path template)` → quota units, from the document.
pub fn costs() -> HashMap<(String, String), u32> {
    let mut out = HashMap::new();
    let Some(paths) = openapi().get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, operation) in item {
            let units = operation
                .pointer("/x-kiln-cost/units")
                .and_then(Value::as_u64)
                .and_then(|u| u32::try_from(u).ok());
            if let Some(units) = units {
                out.insert((method.to_ascii_uppercase(), path.clone()), units);
            }
        }
    }
    out
}

pub async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    no_route(&method, uri.path())
}

/// The error for a method and path no API route answers.
pub fn no_route(method: &Method, path: &str) -> ApiError {
    ApiError::NotFound(format!("no API route for {method} {path}"))
}

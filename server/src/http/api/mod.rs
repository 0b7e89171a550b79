//! The REST API under `/api/v1`, declared with utoipa so the OpenAPI document
//! is generated from the handlers themselves. Every operation states its
//! cost (`x-kiln-cost`: quota units and complexity); the quota reads the
//! units from the same document. Unknown `/api` paths answer a JSON 404.

pub mod admin;
pub mod all_runs;
pub mod artifacts;
pub mod auth;
mod document;
pub mod engine_types;
pub mod log_streams;
pub mod logs;
pub mod me;
pub mod members;
pub mod meta;
pub mod pipelines;
pub mod repository;
pub mod run_events;
pub mod runs;
pub mod runs_live;
pub mod schedule_types;
pub mod schedules;
pub mod secrets;
pub mod tree;
pub mod tree_delete;
pub mod types;
pub mod workflows;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::OriginalUri;
use axum::http::Method;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState};

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
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::list_tokens, me::create_token))
        .routes(routes!(me::revoke_token))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::list_label_grants))
        .routes(routes!(admin::grant_label, admin::revoke_label))
        .routes(routes!(tree::list_groups, tree::create_group))
        .routes(routes!(
            tree::get_group,
            tree::update_group,
            tree_delete::delete_group
        ))
        .routes(routes!(tree::move_group))
        .routes(routes!(tree::list_projects, tree::create_project))
        .routes(routes!(
            tree::get_project,
            tree::update_project,
            tree_delete::delete_project
        ))
        .routes(routes!(tree::move_project))
        .routes(routes!(tree::resolve))
        .routes(routes!(
            members::list_group_members,
            members::add_group_member
        ))
        .routes(routes!(
            members::change_group_member,
            members::remove_group_member
        ))
        .routes(routes!(
            members::list_project_members,
            members::add_project_member
        ))
        .routes(routes!(
            members::change_project_member,
            members::remove_project_member
        ))
        .routes(routes!(workflows::list_workflows))
        .routes(routes!(
            workflows::get_workflow,
            workflows::save_workflow,
            workflows::delete_workflow
        ))
        .routes(routes!(workflows::trigger_run))
        .routes(routes!(runs::list_runs))
        .routes(routes!(all_runs::list_all_runs))
        .routes(routes!(runs_live::runs_events))
        .routes(routes!(runs::get_run))
        .routes(routes!(run_events::run_events))
        .routes(routes!(runs::list_steps))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::retry_run))
        .routes(routes!(runs::approve_run))
        .routes(routes!(logs::step_log))
        .routes(routes!(artifacts::step_artifacts))
        .routes(routes!(
            repository::get_repository,
            repository::put_repository
        ))
        .routes(routes!(repository::rotate_secret))
        .routes(routes!(pipelines::dry_run))
        .routes(routes!(pipelines::list_deliveries))
        .routes(routes!(pipelines::replay_delivery))
        .routes(routes!(pipelines::start_pipeline))
        .routes(routes!(
            schedules::list_project_schedules,
            schedules::create_schedule
        ))
        .routes(routes!(schedules::list_schedules))
        .routes(routes!(
            schedules::get_schedule,
            schedules::update_schedule,
            schedules::delete_schedule
        ))
        .routes(routes!(schedules::pause_schedule))
        .routes(routes!(schedules::resume_schedule))
        .routes(routes!(schedules::run_schedule))
        .routes(routes!(schedules::list_firings))
        .routes(routes!(schedules::cron_preview))
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

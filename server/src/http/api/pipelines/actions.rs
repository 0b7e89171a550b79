//! What a project's pipelines do on request: the dry run (which pipelines
//! and steps an event would start, and why the others would not), the
//! webhook deliveries and their replay, and a pipeline started by hand.

use axum::extract::State;
use kiln_core::pipeline::EventKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path};
use crate::http::state::AppState;
use crate::pipelines::dry_run::{self, DryRunRequest, Verdict};

/// Changed paths echoed back at most (the count is always whole).
const ECHOED_PATHS: usize = 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunInput {
    /// `push` (default), `pull_request`, `tag`, `manual` or `schedule`.
    pub event: Option<String>,
    /// The pushed branch (for a pull request: its target branch).
    pub branch: Option<String>,
    pub tag: Option<String>,
    /// Changed files; left out, git is asked (`before`..`after`).
    pub paths: Option<Vec<String>>,
    /// The branch's commit before the push (all zeros: a new branch).
    pub before: Option<String>,
    /// The commit whose pipeline files are read (default: the branch's head).
    pub after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerdictBody {
    pub name: String,
    pub start: bool,
    /// Why it would not start.
    pub reason: Option<String>,
    /// The rule that left it out: event, branch, tag, paths, skip_ci, invalid.
    pub rule: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineVerdictBody {
    pub file: String,
    pub name: String,
    pub start: bool,
    pub reason: Option<String>,
    pub rule: Option<String>,
    /// The file's errors, each with its line and column.
    pub errors: Vec<String>,
    pub steps: Vec<VerdictBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunBody {
    pub commit: String,
    /// The changed files (the first 1,000); `null` where paths are not evaluated.
    pub changed: Option<Vec<String>>,
    pub changed_count: Option<usize>,
    /// The commit they were compared against; `null` when given or when every file counts.
    pub compared_with: Option<String>,
    pub pipelines: Vec<PipelineVerdictBody>,
}

fn verdict(name: String, v: Verdict) -> VerdictBody {
    VerdictBody {
        name,
        start: v.start,
        reason: v.reason,
        rule: v.rule.map(str::to_owned),
    }
}

/// Which pipelines and steps an event would start (nothing runs).
#[utoipa::path(post, path = "/projects/{id}/pipelines/dry-run", tag = "pipelines",
    params(("id" = i64, Path)),
    request_body = DryRunInput,
    responses((status = 200, body = DryRunBody), (status = 404), (status = 422), (status = 502)),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(pipeline files + changed files)"}))))]
pub async fn dry_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(input): Json<DryRunInput>,
) -> Result<Json<DryRunBody>, ApiError> {
    let event = match input.event.as_deref() {
        None => EventKind::Push,
        Some(raw) => raw
            .parse()
            .map_err(|e: String| ApiError::invalid("event", e))?,
    };
    let request = DryRunRequest {
        event,
        branch: input.branch,
        tag: input.tag,
        paths: input.paths,
        before: input.before,
        after: input.after,
    };
    let answer = dry_run::dry_run(&state.engine, &principal, id, request).await?;
    let changed_count = answer.changed.as_ref().map(Vec::len);
    Ok(Json(DryRunBody {
        commit: answer.commit,
        changed: answer
            .changed
            .map(|files| files.into_iter().take(ECHOED_PATHS).collect()),
        changed_count,
        compared_with: answer.compared_with,
        pipelines: answer
            .pipelines
            .into_iter()
            .map(|p| PipelineVerdictBody {
                file: p.file,
                name: p.name,
                start: p.verdict.start,
                reason: p.verdict.reason,
                rule: p.verdict.rule.map(str::to_owned),
                errors: p.errors,
                steps: p.steps.into_iter().map(|(n, v)| verdict(n, v)).collect(),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: i64,
    /// The host's delivery id.
    pub delivery: String,
    pub provider: String,
    /// push, tag, pull_request, delete, ping or ignored.
    pub event: String,
    pub outcome: String,
    /// The headers as received, signatures and tokens left out.
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
    /// Per pipeline: whether it matched, and the rule that left it out.
    #[schema(value_type = Vec<Object>)]
    pub decisions: serde_json::Value,
    pub runs: Vec<i64>,
    pub received_at: String,
    /// Whether `POST …/deliveries/{id}/replay` can replay it (its event
    /// was kept).
    pub replayable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryBody>,
}

/// The project's webhook deliveries, newest first (the last 100).
#[utoipa::path(get, path = "/projects/{id}/deliveries", tag = "pipelines",
    params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(deliveries)"}))))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<DeliveryList>, ApiError> {
    let items = crate::pipelines::deliveries::list(&state.engine, &principal, id, 100)
        .await?
        .into_iter()
        .map(|d| DeliveryBody {
            id: d.id,
            delivery: d.delivery,
            provider: d.provider,
            event: d.event,
            outcome: d.outcome,
            headers: d.headers,
            decisions: d.decisions,
            runs: d.runs,
            received_at: crate::clock::ms_to_rfc3339(d.received_at_ms),
            replayable: d.replayable,
        })
        .collect();
    Ok(Json(DeliveryList { items }))
}

/// Hands a recorded delivery's event to the pipelines again, as a new
/// delivery decided from the repository as it is now (maintainers).
#[utoipa::path(post, path = "/projects/{id}/deliveries/{delivery}/replay", tag = "pipelines",
    params(("id" = i64, Path), ("delivery" = i64, Path, description = "Kiln's id of the delivery (`id` in the list)")),
    responses((status = 202, body = crate::http::hooks::HookAnswer), (status = 404), (status = 409), (status = 502)),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(pipeline files + changed files)"}))))]
pub async fn replay_delivery(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, delivery)): Path<(i64, i64)>,
) -> Result<(axum::http::StatusCode, Json<crate::http::hooks::HookAnswer>), ApiError> {
    let delivered =
        crate::pipelines::replay::replay(&state.engine, &principal, id, delivery).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(crate::http::hooks::HookAnswer {
            delivery: delivered.delivery,
            runs: delivered.runs,
            outcome: delivered.outcome,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineRunInput {
    /// At most one of branch, tag and commit; none: the default branch.
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub commit: Option<String>,
}

/// Starts the pipeline `name` by hand on a branch, a tag or a commit.
#[utoipa::path(post, path = "/projects/{id}/pipelines/{name}/runs", tag = "pipelines",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body = PipelineRunInput,
    responses((status = 201, body = crate::http::api::runs::types::RunBody), (status = 404), (status = 409), (status = 422), (status = 502)),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(pipeline files + steps)"}))))]
pub async fn start_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, name)): Path<(i64, String)>,
    Json(input): Json<PipelineRunInput>,
) -> Result<
    (
        axum::http::StatusCode,
        Json<crate::http::api::runs::types::RunBody>,
    ),
    ApiError,
> {
    let at = crate::pipelines::start::At {
        branch: input.branch,
        tag: input.tag,
        commit: input.commit,
    };
    let run =
        crate::pipelines::start::start_manual(&state.engine, &principal, id, &name, at).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(crate::http::api::runs::types::RunBody::summary(&run, None)),
    ))
}

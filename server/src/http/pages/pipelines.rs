//! The data of the pipeline pages: a project's pipelines (last run per
//! branch, the linked repository for maintainers, the dry-run form's
//! answer) and its webhook deliveries, through the same services and
//! authorization as the REST API.

use axum::http::request::Parts;
use kiln_app::pipelines::data::{
    BranchStatusRow, DecisionView, DeliveriesPage, DeliveryRow, DryRunQuery, DryRunView,
    PipelineVerdictView, PipelinesPage, RepositoryView, StepVerdictView,
};
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::pipeline::EventKind;

use super::views::{allowed, crumbs_of, node_view};
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::clock::ms_to_rfc3339;
use crate::http::api::accounts::types::NodeBody;
use crate::http::api::pipelines::repository::body as repository_body;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::pipelines::dry_run::{self, DryRun, DryRunRequest};
use crate::pipelines::{deliveries, overview, repository};

/// Changed files the answer lists (the count is always whole).
const LISTED_PATHS: usize = 200;
/// Quota units a dry run from the page costs (as `POST …/dry-run`).
const DRY_RUN_COST: u32 = 10;
/// Deliveries the page lists.
const LISTED_DELIVERIES: u64 = 100;

pub async fn pipelines(
    state: &AppState,
    principal: &Principal,
    request: &Parts,
    project: i64,
    query: DryRunQuery,
) -> Result<PipelinesPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(db, principal, NodeKind::Project, project, Action::View).await?;
    let crumbs = crumbs_of(&found);
    let can_edit_settings = allowed(principal, &found, Action::EditSettings);
    let can_run = allowed(principal, &found, Action::Run);
    let statuses: Vec<BranchStatusRow> =
        overview::last_per_branch(&state.engine, principal, project)
            .await?
            .into_iter()
            .map(|s| BranchStatusRow {
                pipeline: s.pipeline,
                reference: s.reference,
                run_id: s.run_id,
                state: s.state,
                sha: s.sha,
                event: s.event,
                created_at: ms_to_rfc3339(s.created_at_ms),
            })
            .collect();
    let repository = if can_edit_settings {
        match repository::get(&state.engine, principal, project).await {
            Ok(linked) => {
                let b = repository_body(state, &request.headers, linked);
                Some(RepositoryView {
                    url: b.url,
                    provider: b.provider,
                    default_branch: b.default_branch,
                    hook_url: b.hook_url,
                    hook_secret: b.hook_secret,
                    has_status_token: b.has_status_token,
                    api_url: b.api_url,
                })
            }
            // No repository linked yet; any other refusal is an error.
            Err(ServiceError::NotFound("repository")) => None,
            Err(error) => return Err(error.into()),
        }
    } else {
        None
    };
    let dry_run = if query.is_asked() {
        Some(answer(state, principal, project, &query).await)
    } else {
        None
    };
    let mut known: Vec<String> = statuses.iter().map(|s| s.pipeline.clone()).collect();
    known.dedup();
    Ok(PipelinesPage {
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        statuses,
        can_run,
        known,
        repository,
        can_edit_settings,
        query,
        dry_run,
    })
}

/// The form's fields as the dry run's request: empty means not given.
fn request_of(query: &DryRunQuery) -> Result<DryRunRequest, ServiceError> {
    let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let event: EventKind = query
        .event
        .trim()
        .parse()
        .map_err(|e: String| ServiceError::invalid("event", e))?;
    let paths: Vec<String> = query
        .paths
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(DryRunRequest {
        event,
        branch: given(&query.branch),
        tag: given(&query.tag),
        paths: (!paths.is_empty()).then_some(paths),
        before: given(&query.before),
        after: given(&query.after),
    })
}

/// The dry run's answer, or the reason there is none, as the page shows it.
async fn answer(
    state: &AppState,
    principal: &Principal,
    project: i64,
    query: &DryRunQuery,
) -> DryRunView {
    // The same price as the API's dry run: it fetches and diffs.
    if let Err(error) = state.quotas.charge(principal, DRY_RUN_COST) {
        return DryRunView {
            error: Some(error.to_string()),
            ..DryRunView::default()
        };
    }
    let decided = match request_of(query) {
        Ok(request) => dry_run::dry_run(&state.engine, principal, project, request).await,
        Err(error) => Err(error),
    };
    match decided {
        Ok(decided) => view_of(decided),
        Err(ServiceError::NotFound("repository")) => DryRunView {
            error: Some("no repository is linked to this project yet".into()),
            ..DryRunView::default()
        },
        Err(error) => {
            let error = ApiError::from(error);
            if let ApiError::Internal(_) = &error {
                tracing::error!(%error, "dry run failed");
            }
            DryRunView {
                error: Some(error.to_string()),
                ..DryRunView::default()
            }
        }
    }
}

fn view_of(decided: DryRun) -> DryRunView {
    DryRunView {
        error: None,
        changed_count: decided.changed.as_ref().map_or(0, Vec::len),
        changed: decided
            .changed
            .map(|files| files.into_iter().take(LISTED_PATHS).collect()),
        compared_with: decided.compared_with,
        commit: decided.commit,
        pipelines: decided
            .pipelines
            .into_iter()
            .map(|p| PipelineVerdictView {
                file: p.file,
                name: p.name,
                start: p.verdict.start,
                reason: p.verdict.reason,
                rule: p.verdict.rule.map(str::to_owned),
                errors: p.errors,
                steps: p
                    .steps
                    .into_iter()
                    .map(|(name, v)| StepVerdictView {
                        name,
                        start: v.start,
                        reason: v.reason,
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub async fn deliveries(
    state: &AppState,
    principal: &Principal,
    project: i64,
) -> Result<DeliveriesPage, ApiError> {
    let db = &state.db.conn;
    let found = authorize(
        db,
        principal,
        NodeKind::Project,
        project,
        Action::EditSettings,
    )
    .await?;
    let crumbs = crumbs_of(&found);
    let rows = deliveries::list(&state.engine, principal, project, LISTED_DELIVERIES)
        .await?
        .into_iter()
        .map(|d| DeliveryRow {
            replay_of: text_of(&d.headers["x-kiln-replay-of"]),
            replayed_by: text_of(&d.headers["x-kiln-replayed-by"]),
            decisions: d
                .decisions
                .as_array()
                .map(|list| list.iter().map(decision_view).collect())
                .unwrap_or_default(),
            id: d.id,
            delivery: d.delivery,
            provider: d.provider,
            event: d.event,
            outcome: d.outcome,
            received_at: ms_to_rfc3339(d.received_at_ms),
            runs: d.runs,
            replayable: d.replayable,
        })
        .collect();
    Ok(DeliveriesPage {
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        rows,
    })
}

fn text_of(value: &serde_json::Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// One recorded decision (JSON written by the webhook receiver).
fn decision_view(d: &serde_json::Value) -> DecisionView {
    DecisionView {
        name: text_of(&d["name"]).unwrap_or_default(),
        start: d["start"].as_bool().unwrap_or(false),
        rule: text_of(&d["rule"]),
        reason: text_of(&d["reason"]),
        run: d["run"].as_i64(),
    }
}

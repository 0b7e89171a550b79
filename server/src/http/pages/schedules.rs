//! The data of the schedule pages (a project's schedules or all the viewer
//! sees, one schedule with its history) and the live preview, through the
//! same service and authorization as the REST API.

use kiln_app::schedules::data::{FiringRow, PreviewView, SchedulePage, ScheduleRow, SchedulesPage};
use kiln_app::screen::relative::relative;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::schedule::{parse, parse_zone, upcoming};

use super::views::{allowed, crumbs_of, node_view};
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::clock::{ms_to_rfc3339, now_ms};
use crate::db::entities::{schedule, schedule_firing};
use crate::engine::workflows;
use crate::http::api::accounts::types::NodeBody;
use crate::http::api::schedules::types::{duration_text, instant_text};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::schedules::service;

/// Instants the preview lists.
const PREVIEW: usize = 5;

fn target(row: &schedule::Model) -> String {
    match (&row.workflow, &row.pipeline) {
        (Some(w), _) => format!("workflow {w}"),
        (None, Some(p)) => format!(
            "pipeline {p} on {}",
            row.branch.as_deref().unwrap_or("the default branch")
        ),
        (None, None) => "nothing".into(),
    }
}

fn schedule_row(
    row: &schedule::Model,
    project: String,
    last: Option<&schedule_firing::Model>,
) -> ScheduleRow {
    let next = (!row.paused)
        .then(|| service::next_of(row, 1).first().copied())
        .flatten();
    ScheduleRow {
        id: row.id,
        project_id: row.project_id,
        project,
        name: row.name.clone(),
        cron: row.cron.clone(),
        timezone: row.timezone.clone(),
        target: target(row),
        paused: row.paused,
        next: next.map(instant_text),
        next_in: next.map(|at| relative(at - now_ms())),
        last_outcome: last.map(|f| f.outcome.clone()),
        last_run: last.and_then(|f| f.run_id),
    }
}

pub async fn schedules(
    state: &AppState,
    principal: &Principal,
    project: Option<i64>,
) -> Result<SchedulesPage, ApiError> {
    let engine = &state.engine;
    let db = &state.db.conn;
    let (rows, page_project, crumbs, can_edit, names) = match project {
        Some(id) => {
            let found = authorize(db, principal, NodeKind::Project, id, Action::View).await?;
            let crumbs = crumbs_of(&found);
            let can_edit = allowed(principal, &found, Action::EditDefinitions);
            let rows = service::of_project(engine, principal, id).await?;
            let names = workflows::list(db, id)
                .await?
                .into_iter()
                .map(|w| w.name)
                .collect();
            let view = node_view(NodeBody::new(found.node, found.role));
            (rows, Some(view), crumbs, can_edit, names)
        }
        None => {
            let (rows, _) = service::visible(engine, principal, None, 200).await?;
            (rows, None, Vec::new(), false, Vec::new())
        }
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let last = service::latest_firings(engine, &ids).await?;
    let mut project_names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let name = match project_names.get(&row.project_id) {
            Some(name) => String::clone(name),
            None => {
                let name = crate::accounts::nodes::get(db, row.project_id)
                    .await?
                    .map(|n| n.name)
                    .unwrap_or_default();
                project_names.insert(row.project_id, name.clone());
                name
            }
        };
        let firing = last.iter().find(|f| f.schedule_id == row.id);
        out.push(schedule_row(row, name, firing));
    }
    Ok(SchedulesPage {
        project: page_project,
        crumbs,
        rows: out,
        can_edit,
        workflows: names,
    })
}

pub async fn schedule(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<SchedulePage, ApiError> {
    let engine = &state.engine;
    let db = &state.db.conn;
    let row = service::get(engine, principal, id).await?;
    let found = authorize(
        db,
        principal,
        NodeKind::Project,
        row.project_id,
        Action::View,
    )
    .await?;
    let crumbs = crumbs_of(&found);
    let firings = service::firings(engine, principal, id, None, 100).await?;
    let summary = schedule_row(&row, found.node.name.clone(), firings.first());
    Ok(SchedulePage {
        can_edit: allowed(principal, &found, Action::EditDefinitions),
        can_run: allowed(principal, &found, Action::Run),
        project: node_view(NodeBody::new(found.node, found.role)),
        crumbs,
        concurrency: row.concurrency.clone(),
        catchup: row.catchup.clone(),
        starting_deadline: row.starting_deadline_ms.map(duration_text),
        next: if row.paused {
            Vec::new()
        } else {
            service::next_of(&row, PREVIEW)
                .into_iter()
                .map(instant_text)
                .collect()
        },
        firings: firings
            .iter()
            .map(|f| FiringRow {
                instant: instant_text(f.instant_ms),
                fired_at: ms_to_rfc3339(f.fired_at_ms),
                lateness_ms: f.lateness_ms,
                outcome: f.outcome.clone(),
                run_id: f.run_id,
                manual: f.manual,
                error: f.error.clone(),
            })
            .collect(),
        row: summary,
    })
}

/// The next instants of what is being typed, from now.
pub fn preview(expr: &str, tz: &str) -> PreviewView {
    let expr = match parse(expr) {
        Ok(expr) => expr,
        Err(e) => {
            return PreviewView {
                instants: Vec::new(),
                error: Some(format!("cron: {e}")),
            };
        }
    };
    let zone = match parse_zone(tz) {
        Ok(zone) => zone,
        Err(e) => {
            return PreviewView {
                instants: Vec::new(),
                error: Some(format!("timezone: {e}")),
            };
        }
    };
    let instants = upcoming(&expr, zone, now_ms(), PREVIEW)
        .into_iter()
        .filter_map(chrono::DateTime::from_timestamp_millis)
        .map(|at| {
            (
                at.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string(),
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
        })
        .collect();
    PreviewView {
        instants,
        error: None,
    }
}

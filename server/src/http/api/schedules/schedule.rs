//! Schedules: create and list per project, list all the caller can see,
//! read, edit, delete, pause, resume, run now, the history of firings, and
//! the preview of an expression's next instants.

use axum::extract::State;
use axum::http::StatusCode;
use kiln_core::schedule::next::{EARLIEST_MS, LATEST_MS};
use kiln_core::schedule::{parse, parse_zone, upcoming};

use super::types::{
    FiringBody, FiringList, ListQuery, PreviewBody, PreviewQuery, ScheduleBody, ScheduleInputBody,
    ScheduleList, instant_text,
};
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::db::entities::schedule;
use crate::engine::repo::runs;
use crate::http::api::accounts::types::page;
use crate::http::api::runs::types::RunBody;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::state::AppState;
use crate::schedules::service::{self, MAX_PREVIEW_COUNT, PREVIEW_COUNT};

/// Bodies of `rows` with their next instants and last firings.
async fn bodies(state: &AppState, rows: &[schedule::Model]) -> Result<Vec<ScheduleBody>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let last = service::latest_firings(&state.engine, &ids).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let firing = last.iter().find(|f| f.schedule_id == row.id);
            ScheduleBody::new(row, &service::next_of(row, PREVIEW_COUNT), firing)
        })
        .collect())
}

async fn body(state: &AppState, row: &schedule::Model) -> Result<ScheduleBody, ApiError> {
    let mut found = bodies(state, std::slice::from_ref(row)).await?;
    found
        .pop()
        .ok_or_else(|| ApiError::NotFound("schedule not found".into()))
}

/// Creates a schedule; the answer has its `id` and `next` five instants.
#[utoipa::path(post, path = "/projects/{id}/schedules", tag = "schedules",
    params(("id" = i64, Path)),
    request_body = ScheduleInputBody,
    responses((status = 201, body = ScheduleBody), (status = 422, description = "a field is invalid; the message names it"), (status = 409, description = "the name is taken")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(1)"}))))]
pub async fn create_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(input): Json<ScheduleInputBody>,
) -> Result<(StatusCode, Json<ScheduleBody>), ApiError> {
    let row = service::create(&state.engine, &principal, id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(body(&state, &row).await?)))
}

/// The project's schedules.
#[utoipa::path(get, path = "/projects/{id}/schedules", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 200, body = ScheduleList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(schedules)"}))))]
pub async fn list_project_schedules(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ScheduleList>, ApiError> {
    let rows = service::of_project(&state.engine, &principal, id).await?;
    Ok(Json(ScheduleList {
        items: bodies(&state, &rows).await?,
        next_cursor: None,
    }))
}

/// Every schedule the caller can see, across projects.
#[utoipa::path(get, path = "/schedules", tag = "schedules",
    params(ListQuery),
    responses((status = 200, body = ScheduleList)),
    extensions(("x-kiln-cost" = json!({"units": 3, "complexity": "O(schedules)"}))))]
pub async fn list_schedules(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Json<ScheduleList>, ApiError> {
    let page = page(q.limit, q.cursor.as_deref())?;
    let (rows, next) = service::visible(&state.engine, &principal, page.after, page.limit).await?;
    Ok(Json(ScheduleList {
        items: bodies(&state, &rows).await?,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[utoipa::path(get, path = "/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 200, body = ScheduleBody)),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(1)"}))))]
pub async fn get_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let row = service::get(&state.engine, &principal, id).await?;
    Ok(Json(body(&state, &row).await?))
}

/// Changes the given fields; the next instants are computed again.
#[utoipa::path(patch, path = "/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path)),
    request_body = ScheduleInputBody,
    responses((status = 200, body = ScheduleBody), (status = 422, description = "a field is invalid; the message names it")),
    extensions(("x-kiln-cost" = json!({"units": 5, "complexity": "O(1)"}))))]
pub async fn update_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(input): Json<ScheduleInputBody>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let row = service::update(&state.engine, &principal, id, input.into()).await?;
    Ok(Json(body(&state, &row).await?))
}

/// Deletes the schedule and its history; its runs stay.
#[utoipa::path(delete, path = "/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 204)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(firings)"}))))]
pub async fn delete_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state.engine, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/schedules/{id}/pause", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 200, body = ScheduleBody)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn pause_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let row = service::set_paused(&state.engine, &principal, id, true).await?;
    Ok(Json(body(&state, &row).await?))
}

/// Resumes from now: instants of the pause are not caught up.
#[utoipa::path(post, path = "/schedules/{id}/resume", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 200, body = ScheduleBody)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(1)"}))))]
pub async fn resume_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let row = service::set_paused(&state.engine, &principal, id, false).await?;
    Ok(Json(body(&state, &row).await?))
}

/// Starts a run now, recorded as a manual firing (policies do not apply).
#[utoipa::path(post, path = "/schedules/{id}/run", tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 201, body = RunBody)),
    extensions(("x-kiln-cost" = json!({"units": 10, "complexity": "O(tasks)"}))))]
pub async fn run_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<RunBody>), ApiError> {
    let run = service::run_now(&state.engine, &principal, id).await?;
    let view = runs::view(&state.db.conn, run).await?;
    Ok((StatusCode::CREATED, Json(RunBody::full(&view))))
}

/// The schedule's firings, newest first.
#[utoipa::path(get, path = "/schedules/{id}/firings", tag = "schedules",
    params(("id" = i64, Path), ListQuery),
    responses((status = 200, body = FiringList)),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(limit)"}))))]
pub async fn list_firings(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Json<FiringList>, ApiError> {
    let page = page(q.limit, q.cursor.as_deref())?;
    let found = service::firings(&state.engine, &principal, id, page.after, page.limit).await?;
    let next_cursor = (found.len() as u64 == page.limit)
        .then(|| found.last().map(|f| f.id.to_string()))
        .flatten();
    Ok(Json(FiringList {
        items: found.iter().map(FiringBody::from).collect(),
        next_cursor,
    }))
}

/// The next `count` instants of `expr` in zone `tz` after `after`.
#[utoipa::path(get, path = "/cron/preview", tag = "schedules",
    params(PreviewQuery),
    responses((status = 200, body = PreviewBody), (status = 400, description = "the expression, zone, time or count is invalid; the message names the field")),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(count)"}))))]
pub async fn cron_preview(Query(q): Query<PreviewQuery>) -> Result<Json<PreviewBody>, ApiError> {
    let bad = |field: &str, message: String| ApiError::BadRequest(format!("{field}: {message}"));
    let text = q.expr.unwrap_or_default();
    let expr = parse(&text).map_err(|e| bad("expr", e.to_string()))?;
    let zone_name =
        q.tz.filter(|z| !z.trim().is_empty())
            .unwrap_or_else(|| "UTC".into());
    let zone = parse_zone(&zone_name).map_err(|e| bad("tz", e.to_string()))?;
    let after = match q.after.as_deref().filter(|a| !a.is_empty()) {
        Some(raw) => chrono::DateTime::parse_from_rfc3339(raw)
            .map_err(|_| bad("after", format!("{raw:?} is not an RFC 3339 time")))?
            .timestamp_millis(),
        None => now_ms(),
    };
    if !(EARLIEST_MS..LATEST_MS).contains(&after) {
        return Err(bad("after", "must be between 1970 and 4000".to_owned()));
    }
    let count = match q.count.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PREVIEW_COUNT).contains(n))
            .ok_or_else(|| {
                bad(
                    "count",
                    format!("must be a number from 1 to {MAX_PREVIEW_COUNT}"),
                )
            })?,
        None => PREVIEW_COUNT,
    };
    let instants = upcoming(&expr, zone, after, count);
    let local = instants
        .iter()
        .filter_map(|&ms| chrono::DateTime::from_timestamp_millis(ms))
        .map(|at| {
            at.with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .collect();
    Ok(Json(PreviewBody {
        expr: expr.as_str().to_owned(),
        timezone: zone_name,
        next: instants.iter().copied().map(instant_text).collect(),
        local,
    }))
}

//! A step's log: `text/plain` (from an optional byte offset), or with
//! `Accept: text/event-stream` followed live — each event carries whole
//! lines and its id is the byte offset after them, so a client reconnecting
//! with `Last-Event-ID` resumes exactly where it stopped. An `end` event
//! closes the stream once the attempt is over and its log read out. Live
//! streams are bounded per caller and in all (`log_streams`), and one that
//! sees no new bytes for `log_stream_idle_seconds` ends with a `timeout`
//! event (the client may reconnect with `Last-Event-ID`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use kiln_core::access::Action;
use kiln_core::engine::StepState;

use super::log_streams::StreamSlot;
use super::run::authorized_run;
use super::types::LogQuery;
use crate::ServiceError;
use crate::accounts::Principal;
use crate::engine::logs::{LogBackend, whole_lines};
use crate::engine::repo;
use crate::engine::repo::runs as run_store;
use crate::engine::step_logs::{AttemptLog, slice};
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::http::state::AppState;

/// Bytes read per event or per text answer.
const CHUNK: usize = 64 * 1024;
const POLL: Duration = Duration::from_millis(200);

/// The step's log.
#[utoipa::path(get, path = "/runs/{id}/steps/{task}/log", tag = "runs",
    params(("id" = i64, Path), ("task" = String, Path), LogQuery),
    responses(
        (status = 200, description = "text/plain, or text/event-stream when asked for", content_type = "text/plain"),
        (status = 429, description = "too many live streams open (per caller or in all); Retry-After says when to try again"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 1, "complexity": "O(log size)"}))))]
pub async fn step_log(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, task)): Path<(i64, String)>,
    Query(q): Query<LogQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorized_run(&state, &principal, id, Action::View).await?;
    let step = run_store::step_by_task(&state.db.conn, id, &task).await?;
    let attempt = q.attempt.unwrap_or(step.attempt);
    if !(1..=step.attempt).contains(&attempt) {
        return Err(ApiError::invalid(
            "attempt",
            format!("this step has attempts 1 to {}", step.attempt),
        ));
    }
    let log = AttemptLog {
        run_id: id,
        step_id: step.id,
        attempt,
    };
    let logs = state.engine.logs.clone();
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let offset = resume.or(q.offset).unwrap_or(0);
    if wants_stream {
        let slot = state.log_streams.acquire(&principal)?;
        let follow = Follow {
            state: state.clone(),
            logs,
            log,
            offset,
            idle: state.log_streams.idle(),
            failing: Failing::default(),
            _slot: slot,
        };
        return Ok(Sse::new(follow.events())
            .keep_alive(KeepAlive::default())
            .into_response());
    }
    let mut text = Vec::new();
    let mut at = offset;
    let over = attempt < step.attempt || step.state.is_done();
    if let Some(short) = log.short(&state.db.conn, over).await? {
        text = slice(&short, offset, short.len()).to_vec();
        at += text.len() as u64;
    } else {
        // The whole log (it is capped when written) in chunks.
        let key = log.key()?;
        loop {
            let chunk = logs
                .read(&key, at, CHUNK)
                .await
                .map_err(|e| ApiError::Internal(Box::new(e)))?;
            if chunk.is_empty() {
                break;
            }
            at += chunk.len() as u64;
            text.extend_from_slice(&chunk);
        }
    }
    let mut response = String::from_utf8_lossy(&text).into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert("x-kiln-log-offset", HeaderValue::from(at));
    Ok(response)
}

struct Follow {
    state: AppState,
    logs: Arc<dyn LogBackend>,
    log: AttemptLog,
    offset: u64,
    /// No new bytes for this long ends the stream.
    idle: Duration,
    /// Which reads are failing now (an outage is logged once, not at
    /// every poll of every open stream).
    failing: Failing,
    /// Held while the stream lives.
    _slot: StreamSlot,
}

/// Whether the last read of the log's storage, and of its step's row,
/// failed.
#[derive(Default)]
struct Failing {
    storage: bool,
    step: bool,
}

/// Whether a failure is the first of a spell: `failing` is set and its
/// value before is returned negated, so the caller logs only that one.
fn first_failure(failing: &mut bool) -> bool {
    !std::mem::replace(failing, true)
}

impl Follow {
    fn events(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold((self, false), |(mut me, ended)| async move {
            if ended {
                return None;
            }
            let mut over = false;
            let quiet_since = Instant::now();
            loop {
                let read = me.read(over).await;
                if read.is_ok() {
                    me.failing.storage = false;
                }
                match read {
                    Ok(chunk) if !chunk.is_empty() => {
                        // Whole lines only; a partial one waits for its end,
                        // unless the attempt is over (then it never comes).
                        let whole = whole_lines(&chunk, CHUNK, over);
                        if whole > 0 {
                            me.offset += whole as u64;
                            let text = String::from_utf8_lossy(&chunk[..whole]);
                            let event = Event::default()
                                .id(me.offset.to_string())
                                .data(text.trim_end_matches('\n'));
                            return Some((Ok(event), (me, false)));
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        if first_failure(&mut me.failing.storage) {
                            tracing::warn!(%error, "reading a step log failed");
                        }
                    }
                }
                if !over && me.attempt_over().await {
                    over = true;
                    // One last read: lines written just before the end.
                    if let Ok(rest) = me.read(over).await
                        && !rest.is_empty()
                    {
                        continue;
                    }
                    let event = Event::default().event("end").data("");
                    return Some((Ok(event), (me, true)));
                }
                if over {
                    let event = Event::default().event("end").data("");
                    return Some((Ok(event), (me, true)));
                }
                if quiet_since.elapsed() >= me.idle {
                    let event = Event::default().event("timeout").data(format!(
                        "no new output for {} s; reconnect with Last-Event-ID to go on",
                        me.idle.as_secs()
                    ));
                    return Some((Ok(event), (me, true)));
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }

    /// The next bytes; `over`: the attempt was seen over.
    async fn read(&self, over: bool) -> Result<Vec<u8>, ServiceError> {
        self.log
            .read(
                &self.state.db.conn,
                self.logs.as_ref(),
                over,
                self.offset,
                CHUNK,
            )
            .await
    }

    /// Whether the attempt was seen over. A failed read of the step says
    /// nothing about it: the stream goes on and asks again at the next
    /// poll (ending it here would close a live log that still has lines
    /// to come, and the browser does not reconnect after an `end`).
    async fn attempt_over(&mut self) -> bool {
        match repo::step(&self.state.db.conn, self.log.step_id).await {
            Ok(step) => {
                self.failing.step = false;
                attempt_over(step.map(|s| (s.attempt, s.state)), self.log.attempt)
            }
            Err(error) => {
                if first_failure(&mut self.failing.step) {
                    let step = self.log.step_id;
                    tracing::warn!(%error, step, "reading a followed log's step failed");
                }
                false
            }
        }
    }
}

/// Whether `attempt` of a step now at `(attempt, state)` is over: the
/// step went on to a later attempt or is done, or its row is gone (its
/// run was deleted).
fn attempt_over(step: Option<(i32, StepState)>, attempt: i32) -> bool {
    step.is_none_or(|(now, state)| now > attempt || state.is_done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_failure_of_a_spell_is_told() {
        let mut failing = false;
        assert!(first_failure(&mut failing));
        assert!(!first_failure(&mut failing));
        assert!(!first_failure(&mut failing));
        failing = false;
        assert!(first_failure(&mut failing));
    }

    #[test]
    fn an_attempt_is_over_when_its_step_moved_on_ended_or_is_gone() {
        assert!(!attempt_over(Some((1, StepState::Running)), 1));
        assert!(!attempt_over(Some((2, StepState::Queued)), 2));
        assert!(attempt_over(Some((2, StepState::Running)), 1));
        assert!(attempt_over(Some((1, StepState::Success)), 1));
        assert!(attempt_over(Some((1, StepState::Failed)), 1));
        assert!(attempt_over(None, 1));
    }
}

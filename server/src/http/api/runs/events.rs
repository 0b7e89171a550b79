//! A run followed live (`text/event-stream`): the run's events after the
//! cursor the client gives (`Last-Event-ID`, or `after`), then each new one
//! as it is committed, with the step it concerns as it is now. A page of a
//! 200-step run receives only what changed. `step` events are a step's
//! moves, `run` events the run's own; the stream ends with the run's end.
//! A stream that falls too far behind gets a `reset` event (reload the
//! run) and ends. Streams share the live-log caps per caller and in all.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use kiln_core::access::Action;
use kiln_core::engine::RunState;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::log_streams::StreamSlot;
use super::run::authorized_run;
use super::types::{RunEventBody, RunEventsQuery, StepBody, ms_to_rfc3339};
use crate::accounts::Principal;
use crate::db::entities::{run_event, step};
use crate::engine::feed::{Batch, FeedItem};
use crate::engine::repo::{events, steps_of};
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::http::state::AppState;

/// Past events sent at most when a stream starts (a longer past is read
/// through the run itself).
const CATCH_UP: u64 = 20_000;

/// The run's changes, live.
#[utoipa::path(get, path = "/runs/{id}/events", tag = "runs",
    params(("id" = i64, Path), RunEventsQuery),
    responses(
        (status = 200, description = "text/event-stream of RunEventBody, `step` and `run` events", content_type = "text/event-stream", body = RunEventBody),
        (status = 429, description = "too many live streams open (per caller or in all); Retry-After says when to try again"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(changes)"}))))]
pub async fn run_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(q): Query<RunEventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let run = authorized_run(&state, &principal, id, Action::View).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after)
        .unwrap_or(0);
    let slot = state.log_streams.acquire(&principal)?;
    // Subscribed before the past is read: nothing falls between the two.
    let live = state.engine.feed.subscribe();
    let db = &state.db.conn;
    let past = events::of_run(db, id, after, CATCH_UP)
        .await
        .map_err(ApiError::database)?;
    if past.len() as u64 >= CATCH_UP {
        // More past than one stream sends: the client reloads the run and
        // follows from there.
        let reset = VecDeque::from([Event::default().event("reset").data("")]);
        let follow = Follow::ended(id, after, reset, live, slot, &state);
        return Ok(Sse::new(follow.events()).into_response());
    }
    let steps: HashMap<i64, step::Model> = if past.is_empty() {
        HashMap::new()
    } else {
        steps_of(db, id)
            .await
            .map_err(ApiError::database)?
            .into_iter()
            .map(|mut s| {
                s.outputs = None;
                (s.id, s)
            })
            .collect()
    };
    // Over when the run's latest own event is its end (a re-run after it
    // reopens it), or, with none after the cursor, when it had ended: then
    // the run's state is said once more, so a page closes its stream
    // instead of reconnecting to one that has nothing left to say.
    let latest = past.iter().rev().find(|e| e.step_id.is_none());
    let over = match latest {
        Some(latest) => is_end(latest),
        None => run.state.is_done(),
    };
    let mut queued = VecDeque::new();
    if over && latest.is_none() {
        let body = serde_json::json!({"run": id, "to": run.state});
        queued.push_back(Event::default().event("run").data(body.to_string()));
    }
    let follow = Follow {
        run: id,
        after,
        sent: past.iter().map(|e| e.id).collect(),
        past: past.into(),
        steps,
        queued,
        live,
        over,
        stopped: state.engine.feed.stopped(),
        idle: state.log_streams.idle(),
        _slot: slot,
    };
    Ok(Sse::new(follow.events())
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn is_end(event: &run_event::Model) -> bool {
    event.step_id.is_none()
        && event
            .to_state
            .parse::<RunState>()
            .is_ok_and(RunState::is_done)
}

fn to_event(event: &run_event::Model, step: Option<&step::Model>) -> Event {
    let body = RunEventBody {
        id: event.id,
        run: event.run_id,
        task: event.task.clone(),
        attempt: event.attempt,
        from: event.from_state.clone(),
        to: event.to_state.clone(),
        at: ms_to_rfc3339(event.at_ms),
        step: step.map(StepBody::from),
    };
    let kind = if event.step_id.is_some() {
        "step"
    } else {
        "run"
    };
    Event::default()
        .id(event.id.to_string())
        .event(kind)
        .json_data(&body)
        .unwrap_or_else(|_| Event::default().event(kind).data("{}"))
}

struct Follow {
    run: i64,
    /// What the client had before it connected.
    after: i64,
    /// Ids already sent (the past): the live feed may repeat them.
    sent: HashSet<i64>,
    /// The run's events after the cursor, sent first (made into events one
    /// at a time, so a long past costs no more memory than its rows).
    past: VecDeque<run_event::Model>,
    /// The run's steps as they were when the past was read.
    steps: HashMap<i64, step::Model>,
    queued: VecDeque<Event>,
    live: Receiver<Batch>,
    over: bool,
    /// The process is shutting down.
    stopped: CancellationToken,
    /// Nothing new for this long ends the stream (the browser reconnects
    /// with `Last-Event-ID`).
    idle: Duration,
    _slot: StreamSlot,
}

impl Follow {
    /// A stream that only says `queued` and ends.
    fn ended(
        run: i64,
        after: i64,
        queued: VecDeque<Event>,
        live: Receiver<Batch>,
        slot: StreamSlot,
        state: &AppState,
    ) -> Self {
        Follow {
            run,
            after,
            sent: HashSet::new(),
            past: VecDeque::new(),
            steps: HashMap::new(),
            queued,
            live,
            over: true,
            stopped: state.engine.feed.stopped(),
            idle: state.log_streams.idle(),
            _slot: slot,
        }
    }

    fn events(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut me| async move {
            loop {
                if let Some(event) = me.past.pop_front() {
                    let step = event.step_id.and_then(|s| me.steps.get(&s));
                    let sent = to_event(&event, step);
                    return Some((Ok(sent), me));
                }
                if let Some(event) = me.queued.pop_front() {
                    return Some((Ok(event), me));
                }
                if me.over {
                    return None;
                }
                let next = tokio::select! {
                    next = me.live.recv() => next,
                    () = me.stopped.cancelled() => return None,
                    () = tokio::time::sleep(me.idle) => return None,
                };
                match next {
                    Ok(batch) => {
                        let (run, after) = (me.run, me.after);
                        let mine = |i: &&FeedItem| i.event.run_id == run && i.event.id > after;
                        for item in batch.iter().filter(mine) {
                            if me.sent.insert(item.event.id) {
                                me.queued
                                    .push_back(to_event(&item.event, item.step.as_ref()));
                                me.over |= is_end(&item.event);
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        me.over = true;
                        me.queued
                            .push_back(Event::default().event("reset").data(""));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        })
    }
}

//! Runs across projects, followed live (`GET /api/v1/runs/events`, a
//! `text/event-stream`): the home page and `/runs` learn that runs they may
//! list have changed (created, started, a step moved, ended) and read
//! their list again. A `changed` event carries the ids of those runs, at
//! most one event per [`GAP`]: a busy instance costs each page one query a
//! second, not one per step. Only runs of projects the caller can see
//! (read again at each event, so a role taken away stops the news) are
//! named; a caller whose token was revoked, whose password changed or who
//! lost the admin flag is cut off; a stream that falls behind the feed gets
//! `changed` with no ids (read everything again). A stream ends when quiet
//! for `log_stream_idle_seconds` or after five minutes, and the browser
//! reconnects. These streams have a pool of their own, apart from the live
//! logs'.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::all_runs::seen;
use super::log_streams::StreamSlot;
use super::types::RunsChangedBody;
use crate::accounts::Principal;
use crate::accounts::recheck::{Held, held, still_holds};
use crate::accounts::visible::Seen;
use crate::clock::now_ms;
use crate::engine::feed::Batch;
use crate::engine::repo::runs::{Projects, among};
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The least time between two events of one stream.
pub const GAP: Duration = Duration::from_millis(1_000);
/// The longest a stream stays open (then the browser reconnects, and is
/// authenticated again).
const MAX_LIFETIME: Duration = Duration::from_secs(300);
/// How long the first change waits for others (a run's creation and its
/// first step's start come together).
const GATHER: Duration = Duration::from_millis(150);
/// Most run ids one event names (more: the page reads everything again).
const MAX_IDS: usize = 200;
/// The feed re-reads some past when it (re)starts; of that past, moves
/// made longer than this before the stream opened are not news to it (the
/// page read its list just before). Generous for the clocks of several
/// servers. What the feed reads for the first time is news whatever its
/// time: a step's end is stamped before it is recorded.
const PAST_SLACK_MS: i64 = 5_000;

/// Which runs the caller can list have changed, live.
#[utoipa::path(get, path = "/runs/events", tag = "runs",
    responses(
        (status = 200, description = "text/event-stream of `changed` events (RunsChangedBody): runs the caller can see were created or moved", content_type = "text/event-stream", body = RunsChangedBody),
        (status = 401, description = "Not signed in"),
        (status = 429, description = "too many live streams open (per caller or in all); Retry-After says when to try again"),
    ),
    extensions(("x-kiln-cost" = json!({"units": 2, "complexity": "O(changes)"}))))]
pub async fn runs_events(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    // Refused early for anonymous callers; read again before each event.
    seen(&state, &principal).await?;
    let held = held(&state.db.conn, &principal)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))?;
    let slot = state.list_streams.acquire(&principal)?;
    let opened = Instant::now();
    let follow = Follow {
        held,
        quiet_until: opened + state.list_streams.idle(),
        ends: opened + MAX_LIFETIME,
        live: state.engine.feed.subscribe(),
        pending: BTreeSet::new(),
        everything: false,
        due: None,
        last_sent: None,
        since_ms: now_ms() - PAST_SLACK_MS,
        stopped: state.engine.feed.stopped(),
        idle: state.list_streams.idle(),
        state,
        principal,
        _slot: slot,
    };
    Ok(Sse::new(follow.events())
        .keep_alive(KeepAlive::default())
        .into_response())
}

struct Follow {
    live: Receiver<Batch>,
    /// Runs changed since the last event.
    pending: BTreeSet<i64>,
    /// The feed was missed: the page reads everything again.
    everything: bool,
    /// When the pending changes are sent.
    due: Option<Instant>,
    last_sent: Option<Instant>,
    /// Events the feed reads again from before this are not news.
    since_ms: i64,
    stopped: CancellationToken,
    idle: Duration,
    /// Nothing sent until then ends the stream (the browser reconnects).
    quiet_until: Instant,
    /// The stream ends then whatever happens: the reconnection
    /// authenticates afresh.
    ends: Instant,
    /// What the caller held when the stream opened: checked before each
    /// event (a revoked token, a password change, a lost admin flag end it).
    held: Held,
    state: AppState,
    principal: Principal,
    _slot: StreamSlot,
}

enum Next {
    Batch(Result<Batch, RecvError>),
    Due,
    End,
}

impl Follow {
    fn events(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut me| async move {
            loop {
                // Quiet for long, or open for long: the browser reconnects.
                let end = me.quiet_until.min(me.ends);
                let next = match me.due {
                    Some(due) => tokio::select! {
                        next = me.live.recv() => Next::Batch(next),
                        () = tokio::time::sleep_until(due) => Next::Due,
                        () = me.stopped.cancelled() => Next::End,
                        () = tokio::time::sleep_until(end) => Next::End,
                    },
                    None => tokio::select! {
                        next = me.live.recv() => Next::Batch(next),
                        () = me.stopped.cancelled() => Next::End,
                        () = tokio::time::sleep_until(end) => Next::End,
                    },
                };
                match next {
                    Next::Batch(Ok(batch)) => {
                        let since = me.since_ms;
                        me.pending.extend(
                            batch
                                .iter()
                                .filter(|item| !item.replayed || item.event.at_ms >= since)
                                .map(|item| item.event.run_id),
                        );
                        // Past what one event names: no need to keep ids.
                        if me.pending.len() > MAX_IDS {
                            me.pending.clear();
                            me.everything = true;
                        }
                        me.schedule();
                    }
                    Next::Batch(Err(RecvError::Lagged(_))) => {
                        me.everything = true;
                        me.schedule();
                    }
                    Next::Batch(Err(RecvError::Closed)) | Next::End => return None,
                    Next::Due => {
                        me.due = None;
                        match me.flush().await {
                            Flushed::Send(event) => {
                                let now = Instant::now();
                                me.last_sent = Some(now);
                                me.quiet_until = now + me.idle;
                                return Some((Ok(event), me));
                            }
                            Flushed::Nothing => {}
                            Flushed::End => return None,
                        }
                    }
                }
            }
        })
    }

    /// Sets when the pending changes go out: after a short gathering, and
    /// never sooner than [`GAP`] after the last event.
    fn schedule(&mut self) {
        if self.due.is_some() || (self.pending.is_empty() && !self.everything) {
            return;
        }
        let soonest = Instant::now() + GATHER;
        let due = match self.last_sent {
            Some(last) => soonest.max(last + GAP),
            None => soonest,
        };
        self.due = Some(due);
    }

    /// The event for what is pending, naming only runs the caller can see;
    /// nothing when none of it is theirs; the end when the caller no longer
    /// holds what they held. A failed lookup keeps the news for the next
    /// try as "read everything".
    async fn flush(&mut self) -> Flushed {
        let db = &self.state.db.conn;
        match still_holds(db, &self.principal, self.held).await {
            Ok(true) => {}
            Ok(false) => return Flushed::End,
            Err(_) => return self.retry_later(),
        }
        let everything = std::mem::take(&mut self.everything);
        let ids: Vec<i64> = std::mem::take(&mut self.pending).into_iter().collect();
        let Ok(seen) = seen(&self.state, &self.principal).await else {
            return self.retry_later();
        };
        let projects = match seen {
            Seen::All => Projects::All,
            Seen::Some(query) => Projects::Selected(query),
        };
        let runs = if everything {
            Vec::new()
        } else {
            match among(db, projects, &ids).await {
                Ok(runs) if runs.is_empty() => return Flushed::Nothing,
                Ok(runs) => runs,
                Err(_) => return self.retry_later(),
            }
        };
        let body = RunsChangedBody { runs, everything };
        match Event::default().event("changed").json_data(&body) {
            Ok(event) => Flushed::Send(event),
            Err(_) => Flushed::Nothing,
        }
    }

    /// The lookup failed: the page reads everything at the next change.
    fn retry_later(&mut self) -> Flushed {
        self.pending.clear();
        self.everything = true;
        Flushed::Nothing
    }
}

enum Flushed {
    Send(Event),
    Nothing,
    End,
}

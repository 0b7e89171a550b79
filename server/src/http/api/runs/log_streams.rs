//! Bounds on live log streams (`text/event-stream`): each holds a
//! connection and polls storage, so one caller may hold only so many
//! (`log_streams_per_user`) and the server only so many in all
//! (`log_streams_max`). A stream holds a [`StreamSlot`]; dropping it (the
//! stream ended or the client went away) gives the place back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::accounts::Principal;
use crate::config::Config;
use crate::http::error::ApiError;

/// When a refused client may try again: streams end with their step, or
/// after the idle time, so a place frees up on its own.
const RETRY_AFTER: Duration = Duration::from_secs(10);
/// Run-list streams one caller may hold (one per open dashboard tab).
const LIST_STREAMS_PER_CALLER: usize = 6;

#[derive(Clone)]
pub struct LogStreams {
    inner: Arc<Inner>,
}

struct Inner {
    per_caller: usize,
    total: usize,
    /// A stream with no new bytes for this long ends.
    idle: Duration,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_caller: HashMap<String, usize>,
}

impl std::fmt::Debug for LogStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStreams")
            .field("per_caller", &self.inner.per_caller)
            .field("total", &self.inner.total)
            .finish_non_exhaustive()
    }
}

impl LogStreams {
    pub fn from_config(config: &Config) -> Self {
        let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        LogStreams {
            inner: Arc::new(Inner {
                per_caller: count(config.log_streams_per_user),
                total: count(config.log_streams_max),
                idle: Duration::from_secs(config.log_stream_idle_seconds),
                open: Mutex::new(Open::default()),
            }),
        }
    }

    /// The pool of the run lists' streams (the home page, `/runs`): apart
    /// from the logs', so open dashboards never take a live log's place;
    /// a few per caller (tabs), as many in all as logs.
    pub fn for_lists(config: &Config) -> Self {
        LogStreams {
            inner: Arc::new(Inner {
                per_caller: LIST_STREAMS_PER_CALLER,
                total: usize::try_from(config.log_streams_max).unwrap_or(usize::MAX),
                idle: Duration::from_secs(config.log_stream_idle_seconds),
                open: Mutex::new(Open::default()),
            }),
        }
    }

    pub fn idle(&self) -> Duration {
        self.inner.idle
    }

    /// A place for one more stream of `principal`, or 429.
    pub fn acquire(&self, principal: &Principal) -> Result<StreamSlot, ApiError> {
        let caller = match principal {
            Principal::User(user) => format!("user:{}", user.id),
            Principal::Anonymous { addr } => format!(
                "addr:{}",
                addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
            ),
        };
        let mut open = self.lock();
        let mine = open.by_caller.get(&caller).copied().unwrap_or(0);
        let refusal = if mine >= self.inner.per_caller {
            Some(format!(
                "you already follow {mine} live streams of this kind, the most one caller may; close one first"
            ))
        } else if open.total >= self.inner.total {
            Some("the server holds as many live streams as it may; try again shortly".to_owned())
        } else {
            None
        };
        if let Some(message) = refusal {
            metrics::counter!("kiln_log_stream_rejections_total").increment(1);
            return Err(ApiError::TooManyRequests {
                message,
                retry_after: RETRY_AFTER,
            });
        }
        open.total += 1;
        *open.by_caller.entry(caller.clone()).or_insert(0) += 1;
        metrics::gauge!("kiln_log_streams_open").set(open.total as f64);
        Ok(StreamSlot {
            streams: self.clone(),
            caller,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.inner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open stream's place; given back when dropped.
pub struct StreamSlot {
    streams: LogStreams,
    caller: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_caller.get_mut(&self.caller) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_caller.remove(&self.caller);
            }
        }
        metrics::gauge!("kiln_log_streams_open").set(open.total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::UserPrincipal;

    fn user(id: i64) -> Principal {
        Principal::User(UserPrincipal {
            id,
            username: format!("u{id}"),
            is_admin: false,
            token: None,
        })
    }

    #[test]
    fn caps_per_caller_and_in_all() {
        let config = Config {
            log_streams_per_user: 2,
            log_streams_max: 3,
            ..Config::default()
        };
        let streams = LogStreams::from_config(&config);
        let a1 = streams.acquire(&user(1)).unwrap();
        let _a2 = streams.acquire(&user(1)).unwrap();
        assert!(streams.acquire(&user(1)).is_err(), "per caller");
        let _b1 = streams.acquire(&user(2)).unwrap();
        let Err(err) = streams.acquire(&user(3)) else {
            panic!("a fourth stream in all")
        };
        assert!(matches!(err, ApiError::TooManyRequests { .. }), "in all");
        drop(a1);
        assert!(
            streams.acquire(&user(3)).is_ok(),
            "a dropped slot frees its place"
        );
    }
}

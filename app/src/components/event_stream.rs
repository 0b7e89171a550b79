//! Server-sent event streams in the browser: one `EventSource` per named
//! slot of the page (the run's events, the open log), handlers per event
//! name, closed when the scope that opened it is cleaned up, when a
//! closing event arrives (so the browser does not reconnect to a stream
//! that has ended for good), or when the slot is opened again. On the
//! server (first render) nothing is opened.
//!
//! The browser reconnects by itself when a stream's connection drops, but
//! gives up for good when an answer is an error status: a 503 while the
//! database is away, a 429 over the caller's quota. A page left open
//! through that would stop following its run for ever. So a stream the
//! browser gave up on is opened again after a pause that grows with each
//! failure in a row, from the last event it had (its id goes into the
//! query parameter the endpoint resumes from). The pauses are spread at
//! random, so that the pages of one outage do not all come back at once,
//! and after [`MAX_FAILURES`] in a row the page stops asking: an answer
//! that will not change (signed out, the run deleted) is not asked for
//! again and again for as long as a tab stays open.

use std::time::Duration;

/// A handler of one event name: it gets the event's data (empty for the
/// stream's own `open`).
pub type Handler = Box<dyn Fn(String)>;

/// Opens `url` in `slot`, calling `handlers` by event name; an event named
/// in `closing` closes the stream after its handler ran. If the browser
/// gives up on the stream, it is opened again with the last event's id in
/// query parameter `resume` (`None`: as it was first opened).
pub fn open(
    slot: &'static str,
    url: String,
    handlers: Vec<(&'static str, Handler)>,
    closing: &'static [&'static str],
    resume: Option<&'static str>,
) {
    #[cfg(feature = "hydrate")]
    browser::open(slot, url, handlers, closing, resume);
    #[cfg(not(feature = "hydrate"))]
    let _ = (slot, url, handlers, closing, resume);
}

/// Failures in a row after which a stream is not opened again: about ten
/// minutes of pauses, longer than a database restart takes.
pub const MAX_FAILURES: u32 = 24;

/// How long to wait before opening a stream again after `failures`
/// failures in a row: 2 s, doubling, at most 30 s (long enough for a
/// quota's window or a database restart, short enough to be watched),
/// spread by `random` (in [0, 1)) from three quarters of it to all of it.
/// `None` once the stream has failed too often.
pub fn retry_delay(failures: u32, random: f64) -> Option<Duration> {
    if failures >= MAX_FAILURES {
        return None;
    }
    let full = 2u64.saturating_mul(1 << failures.min(4)).min(30) as f64;
    let spread = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some(Duration::from_secs_f64(full * (0.75 + 0.25 * spread)))
}

/// `url` with query parameter `param` set to event id `last_id`, replacing
/// its value if it has one. Ids are the server's numbers; anything else is
/// not put in a URL (the stream then starts over from `url`).
pub fn resumed_url(url: &str, param: &str, last_id: &str) -> String {
    if last_id.is_empty() || !last_id.bytes().all(|b| b.is_ascii_digit()) {
        return url.to_owned();
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(param))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("{param}={last_id}"));
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    use leptos::prelude::{on_cleanup, set_timeout};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::prelude::wasm_bindgen;
    use web_sys::{Event, EventSource, MessageEvent};

    use super::Handler;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Math)]
        fn random() -> f64;
    }

    /// What one call of `open` asked for, kept across the reopenings.
    struct Stream {
        slot: &'static str,
        /// Tells this stream from a later one in the same slot.
        id: u64,
        url: String,
        handlers: Vec<(&'static str, Handler)>,
        closing: &'static [&'static str],
        resume: Option<&'static str>,
        last_id: RefCell<String>,
        failures: Cell<u32>,
    }

    struct Open {
        stream: Rc<Stream>,
        source: EventSource,
        _listeners: Vec<Closure<dyn FnMut(Event)>>,
    }

    impl Drop for Open {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    thread_local! {
        static OPEN: RefCell<HashMap<&'static str, Open>> = RefCell::new(HashMap::new());
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    }

    pub fn open(
        slot: &'static str,
        url: String,
        handlers: Vec<(&'static str, Handler)>,
        closing: &'static [&'static str],
        resume: Option<&'static str>,
    ) {
        let id = NEXT_ID.with(|next| {
            next.set(next.get() + 1);
            next.get()
        });
        connect(Rc::new(Stream {
            slot,
            id,
            url,
            handlers,
            closing,
            resume,
            last_id: RefCell::new(String::new()),
            failures: Cell::new(0),
        }));
        on_cleanup(move || {
            // Only this call's stream: the slot may hold a later one.
            if is_current(slot, id) {
                // Dropped once the map is no longer borrowed: dropping runs
                // the stream's handlers' own cleanups.
                let closed = OPEN.with(|all| all.borrow_mut().remove(slot));
                drop(closed);
            }
        });
    }

    fn is_current(slot: &'static str, id: u64) -> bool {
        OPEN.with(|all| {
            all.borrow()
                .get(slot)
                .is_some_and(|open| open.stream.id == id)
        })
    }

    fn connect(stream: Rc<Stream>) {
        let url = match stream.resume {
            Some(param) => super::resumed_url(&stream.url, param, &stream.last_id.borrow()),
            None => stream.url.clone(),
        };
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        let mut listeners = Vec::new();
        let mut listen = |name: &str, listener: Closure<dyn FnMut(Event)>| {
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        };
        for (index, &(name, _)) in stream.handlers.iter().enumerate() {
            let (own, this) = (source.clone(), Rc::clone(&stream));
            let closes = stream.closing.contains(&name);
            listen(
                name,
                Closure::new(move |event: Event| {
                    let data = match event.dyn_ref::<MessageEvent>() {
                        Some(message) => {
                            let id = message.last_event_id();
                            if !id.is_empty() {
                                this.last_id.replace(id);
                            }
                            message.data().as_string().unwrap_or_default()
                        }
                        None => String::new(),
                    };
                    if closes {
                        own.close();
                    }
                    (this.handlers[index].1)(data);
                }),
            );
        }
        let this = Rc::clone(&stream);
        listen("open", Closure::new(move |_: Event| this.failures.set(0)));
        let (own, this) = (source.clone(), Rc::clone(&stream));
        listen(
            "error",
            Closure::new(move |_: Event| {
                // Still connecting: the browser retries a dropped
                // connection itself, from the last event's id.
                if own.ready_state() != EventSource::CLOSED {
                    return;
                }
                let failures = this.failures.get();
                this.failures.set(failures.saturating_add(1));
                let Some(delay) = super::retry_delay(failures, random()) else {
                    return;
                };
                let again = Rc::clone(&this);
                set_timeout(
                    move || {
                        if is_current(again.slot, again.id) {
                            connect(again);
                        }
                    },
                    delay,
                );
            }),
        );
        let slot = stream.slot;
        let open = Open {
            stream,
            source,
            _listeners: listeners,
        };
        // The one open before in this slot is closed as it is dropped,
        // once the map is no longer borrowed.
        let replaced = OPEN.with(|all| all.borrow_mut().insert(slot, open));
        drop(replaced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_resumes_from_its_last_event_in_its_own_parameter() {
        assert_eq!(
            resumed_url("/api/v1/runs/7/events?after=0", "after", "42"),
            "/api/v1/runs/7/events?after=42"
        );
        assert_eq!(
            resumed_url(
                "/api/v1/runs/7/steps/a/log?attempt=2&offset=10",
                "offset",
                "913"
            ),
            "/api/v1/runs/7/steps/a/log?attempt=2&offset=913"
        );
        assert_eq!(resumed_url("/x", "after", "5"), "/x?after=5");
        // A parameter that only starts with the name is another one.
        assert_eq!(
            resumed_url("/x?afterward=1", "after", "5"),
            "/x?afterward=1&after=5"
        );
    }

    #[test]
    fn a_stream_without_a_usable_last_event_starts_over() {
        assert_eq!(resumed_url("/x?after=3", "after", ""), "/x?after=3");
        assert_eq!(
            resumed_url("/x?after=3", "after", "4&admin=1"),
            "/x?after=3"
        );
        assert_eq!(resumed_url("/x?after=3", "after", "-1"), "/x?after=3");
    }

    #[test]
    fn the_pause_before_opening_again_doubles_up_to_half_a_minute() {
        let longest = |n| retry_delay(n, 1.0).map(|d| d.as_secs_f64());
        let delays: Vec<_> = (0..8).map(longest).collect();
        let expected = [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0].map(Some);
        assert_eq!(delays, expected);
        // Spread over the last quarter, whatever the random source gives.
        assert_eq!(retry_delay(0, 0.0), Some(Duration::from_millis(1500)));
        assert_eq!(retry_delay(4, -3.0), Some(Duration::from_millis(22_500)));
        assert_eq!(
            retry_delay(4, f64::NAN).map(|d| d <= Duration::from_secs(30)),
            Some(true)
        );
    }

    #[test]
    fn a_stream_that_keeps_failing_is_given_up() {
        assert!(retry_delay(MAX_FAILURES - 1, 0.5).is_some());
        assert_eq!(retry_delay(MAX_FAILURES, 0.5), None);
        assert_eq!(retry_delay(u32::MAX, 0.5), None);
        // About ten minutes of asking in all.
        let total: f64 = (0..MAX_FAILURES)
            .filter_map(|n| retry_delay(n, 1.0))
            .map(|d| d.as_secs_f64())
            .sum();
        assert!((540.0..=720.0).contains(&total), "{total} s");
    }
}

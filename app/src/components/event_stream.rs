//! Server-sent event streams in the browser: one `EventSource` per named
//! slot of the page (the run's events, the open log), handlers per event
//! name, closed when the scope that opened it is cleaned up, when a
//! closing event arrives (so the browser does not reconnect to a stream
//! that has ended for good), or when the slot is opened again. On the
//! server (first render) nothing is opened.

/// A handler of one event name: it gets the event's data.
pub type Handler = Box<dyn Fn(String)>;

/// Opens `url` in `slot`, calling `handlers` by event name; an event named
/// in `closing` closes the stream after its handler ran.
pub fn open(
    slot: &'static str,
    url: String,
    handlers: Vec<(&'static str, Handler)>,
    closing: &'static [&'static str],
) {
    #[cfg(feature = "hydrate")]
    browser::open(slot, url, handlers, closing);
    #[cfg(not(feature = "hydrate"))]
    let _ = (slot, url, handlers, closing);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use leptos::prelude::on_cleanup;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use super::Handler;

    struct Open {
        source: EventSource,
        _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
    }

    impl Drop for Open {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    thread_local! {
        static OPEN: RefCell<HashMap<&'static str, Open>> = RefCell::new(HashMap::new());
    }

    pub fn open(
        slot: &'static str,
        url: String,
        handlers: Vec<(&'static str, Handler)>,
        closing: &'static [&'static str],
    ) {
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        let mut listeners = Vec::new();
        for (name, handler) in handlers {
            let own = source.clone();
            let closes = closing.contains(&name);
            let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if closes {
                    own.close();
                }
                handler(event.data().as_string().unwrap_or_default());
            });
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        }
        let open = Open {
            source,
            _listeners: listeners,
        };
        // The one open before in this slot is closed as it is dropped.
        OPEN.with(|all| all.borrow_mut().insert(slot, open));
        on_cleanup(move || {
            OPEN.with(|all| all.borrow_mut().remove(slot));
        });
    }
}

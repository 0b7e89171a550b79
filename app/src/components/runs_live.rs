//! Lists of runs across projects kept current in the browser: the island
//! showing one follows `/api/v1/runs/events` and reads its list again when
//! runs it may show change (the server sends at most one event a second)
//! and whenever the stream (re)opens (what happened while it was not open
//! is not sent). Only a signed-in viewer's list is such an island (an
//! anonymous stream would only be refused).

use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;

use super::event_stream;

/// Keeps `shown` current, from inside an island: `load` reads the list
/// again on every change (`None`: it could not, and the list stays); only
/// the answer to the latest read is shown. On the server (the island's
/// first render) nothing is opened.
pub fn keep_current<T, F, Fut>(shown: RwSignal<T>, load: F)
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Option<T>> + 'static,
{
    let asked = StoredValue::new(0u64);
    let load = Rc::new(load);
    let reload = Rc::new(move || {
        let n = asked.get_value() + 1;
        asked.set_value(n);
        let load = load.clone();
        leptos::task::spawn_local(async move {
            if let Some(list) = load().await
                && asked.try_get_value() == Some(n)
            {
                shown.try_set(list);
            }
        });
    });
    let on_open = reload.clone();
    event_stream::open(
        "runs",
        "/api/v1/runs/events".to_owned(),
        vec![
            ("changed", Box::new(move |_| reload())),
            // Each (re)connection may have missed changes: those between
            // the page's render and the first, and those while it was away.
            ("open", Box::new(move |_| on_open())),
        ],
        &[],
        // No cursor: its `open` handler reloads the list.
        None,
    );
}

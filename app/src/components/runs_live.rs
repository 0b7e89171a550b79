//! Lists of runs across projects kept current: the page follows
//! `/api/v1/runs/events` and reads its list again when runs it may show
//! change (the server sends at most one event a second) and whenever the
//! stream (re)opens (what happened while it was not open is not sent). Opened once per
//! page, on the page's own scope, and only for a signed-in viewer (an
//! anonymous stream would only be refused).

use leptos::prelude::*;

use super::event_stream;

/// Keeps a page's run list current once it knows the viewer is signed in:
/// call [`RunsLive::signed_in`] from the view that shows the list.
#[derive(Clone, Copy)]
pub struct RunsLive {
    page: StoredValue<Option<Owner>>,
    opened: StoredValue<bool>,
}

impl RunsLive {
    /// Made in the page's body (its scope owns the stream).
    pub fn new() -> Self {
        RunsLive {
            page: StoredValue::new(Owner::current()),
            opened: StoredValue::new(false),
        }
    }

    /// The list is shown to a signed-in viewer: follow changes, calling
    /// `reload` for each (the first call opens the stream, later ones do
    /// nothing).
    pub fn signed_in(self, reload: impl Fn() + 'static) {
        if self.opened.get_value() {
            return;
        }
        self.opened.set_value(true);
        self.page.with_value(|owner| {
            let Some(owner) = owner else {
                return;
            };
            let reload = std::rc::Rc::new(reload);
            let on_open = reload.clone();
            owner.with(|| {
                event_stream::open(
                    "runs",
                    "/api/v1/runs/events".to_owned(),
                    vec![
                        ("changed", Box::new(move |_| (*reload)())),
                        // Each (re)connection may have missed changes: those
                        // between the page's render and the first, and those
                        // while it was away.
                        ("open", Box::new(move |_| (*on_open)())),
                    ],
                    &[],
                );
            });
        });
    }
}

impl Default for RunsLive {
    fn default() -> Self {
        Self::new()
    }
}

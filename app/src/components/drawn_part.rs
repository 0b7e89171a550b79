//! A part of a page drawn from data the server may have drawn already (see
//! `runs::drawn`): on the server it is markup inside its box (kept with
//! the data: the same data draws the same markup); in the browser it is
//! drawn from the data when the data came (a navigation, a reload), and
//! while hydrating a page load the server's markup is kept as it is. The
//! part is not reactive: what changes live is patched on the drawn
//! elements (`run_patch`).

use leptos::prelude::*;

use crate::runs::drawn::DrawnOnServer;

/// The box `<div id=id class=class>` holding `part` drawn from `data`,
/// kept under `key` on the server.
pub fn drawn_part<T, V>(
    id: &'static str,
    class: &'static str,
    data: &DrawnOnServer<T>,
    key: &str,
    part: impl FnOnce(&T) -> V,
) -> AnyView
where
    V: IntoView + 'static,
{
    #[cfg(feature = "ssr")]
    if let Some(markup) = data.markup(key, |data| {
        Owner::new().with(|| part(data).into_view().to_html())
    }) {
        return view! { <div id=id class=class inner_html=markup /> }.into_any();
    }
    // Built as elements (the browser's build cannot render to HTML); the
    // part's type is erased, or the page's view type grows past the
    // compiler's limits.
    #[cfg(not(feature = "ssr"))]
    if let Some(data) = data.get() {
        let _ = key;
        return view! { <div id=id class=class>{part(data).into_any()}</div> }.into_any();
    }
    // Hydrating, the browser's empty string leaves the markup alone.
    view! { <div id=id class=class inner_html="" /> }.into_any()
}

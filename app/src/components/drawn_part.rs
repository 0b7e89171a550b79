//! A part of a page drawn by the server from data that keeps what it drew
//! (see `runs::drawn`): markup inside its box, drawn once for the same
//! data. The browser never draws it (pages are not islands): what changes
//! live is patched on the drawn elements (`run_patch`).

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
    #[cfg(not(feature = "ssr"))]
    let _ = (data, key, part);
    view! { <div id=id class=class inner_html="" /> }.into_any()
}

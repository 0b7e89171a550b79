//! A part of a page drawn from data the server may have drawn already (see
//! `runs::drawn`): on the server it is markup inside its box; in the
//! browser it is drawn from the data when the data came (a navigation, a
//! reload), and while hydrating a page load the server's markup is kept as
//! it is. The part is not reactive: what changes live is patched on the
//! drawn elements (`run_patch`).

use leptos::prelude::*;

/// The box `<div id=id class=class>` holding `part`, drawn from `data`
/// (`None`: the server drew it, keep its markup).
pub fn drawn_part<T, V>(
    id: &'static str,
    class: &'static str,
    data: Option<&T>,
    part: impl FnOnce(&T) -> V,
) -> AnyView
where
    V: IntoView + 'static,
{
    match data {
        #[cfg(feature = "ssr")]
        Some(data) => {
            let markup = Owner::new().with(|| part(data).into_view().to_html());
            view! { <div id=id class=class inner_html=markup /> }.into_any()
        }
        #[cfg(not(feature = "ssr"))]
        Some(data) => view! { <div id=id class=class>{part(data)}</div> }.into_any(),
        // Hydrating, the browser's empty string leaves the markup alone.
        None => view! { <div id=id class=class inner_html="" /> }.into_any(),
    }
}

//! The browser entry point: sets up the islands of the server-rendered
//! dashboard (Leptos then hydrates each `<leptos-island>` itself). Built
//! for wasm32 by cargo-leptos; empty elsewhere.
// The whole app's view types meet here; with the release profile's inlining
// their layouts nest past the default query depth of 128.
#![recursion_limit = "256"]

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    kiln_app::mark_live();
}

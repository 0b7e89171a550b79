//! The browser entry point: hydrates the server-rendered dashboard so its
//! controls come alive. Built for wasm32 by cargo-leptos; empty elsewhere.
// The whole app's view types meet here; with the release profile's inlining
// their layouts nest past the default query depth of 128.
#![recursion_limit = "256"]

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(kiln_app::App);
}

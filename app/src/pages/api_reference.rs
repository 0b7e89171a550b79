//! The API's operations and what each costs of the caller's quota, with
//! the shapes of its request and response and an example, from the same
//! OpenAPI document as `/api/v1/openapi.json`.
//!
//! The table is static while the server runs and needs no interaction
//! (its folds are `<details>`), so the page is the markup the server
//! rendered once per process.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::accounts::data::OperationView;
use crate::components::page_header::PageHeader;

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let table = view! { <div id="operations-doc" inner_html=server_markup() /> };
    view! {
        <PageHeader title="API" description="Every /api/v1 operation with its cost in quota units per call, and what it takes and answers." />
        <p class="mb-4 text-sm">
            "Machine-readable: " <a href="/api/v1/openapi.json" class="text-orange-700 underline dark:text-orange-300">"/api/v1/openapi.json"</a>
            ". Authenticate with your session or " <code>"Authorization: Bearer kiln_…"</code> "."
        </p>
        {table}
    }
}

/// The table's markup, rendered on the first request and kept: the
/// document never changes while the process runs.
#[cfg(feature = "ssr")]
fn server_markup() -> String {
    use std::sync::{Arc, OnceLock};

    use crate::accounts::port::AccountsPort;

    static MARKUP: OnceLock<String> = OnceLock::new();
    let Some(port) = use_context::<Arc<dyn AccountsPort>>() else {
        return String::new();
    };
    MARKUP
        .get_or_init(|| Owner::new().with(|| operations_table(port.operations()).to_html()))
        .clone()
}

/// In the browser (never drawn there: the page is no island).
#[cfg(not(feature = "ssr"))]
fn server_markup() -> String {
    String::new()
}

/// Every operation, a row each, its bodies folded under its summary (its
/// type erased: nested in a suspense, it is past the compiler's depth).
#[cfg(feature = "ssr")]
fn operations_table(ops: Vec<OperationView>) -> AnyView {
    view! {
        <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="operations">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th class="py-2 pr-4">"Method"</th><th class="pr-4">"Path"</th><th class="pr-4">"Cost"</th><th class="pr-4">"Complexity"</th><th>"What it does"</th>
                </tr>
            </thead>
            <tbody>
                {ops.into_iter().map(|op| view! {
                    <tr class="border-b border-stone-100 dark:border-stone-900">
                        <td class="py-2 pr-4 align-top font-mono">{op.method}</td>
                        <td class="pr-4 align-top font-mono break-all">{op.path}</td>
                        <td class="pr-4 align-top">{op.units}</td>
                        <td class="pr-4 align-top font-mono">{op.complexity}</td>
                        <td class="py-2 align-top">
                            {op.summary}
                            {shapes(op.request, op.response, op.example)}
                        </td>
                    </tr>
                }.into_any()).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// An operation's bodies, folded away under its summary.
#[cfg(feature = "ssr")]
fn shapes(request: Option<String>, response: Option<String>, example: Option<String>) -> AnyView {
    let any = request.is_some() || response.is_some();
    let block = |title: &'static str, text: Option<String>| {
        text.map(|text| view! {
            <p class="mt-2 text-xs font-medium text-stone-600 dark:text-stone-400">{title}</p>
            <pre class="overflow-x-auto rounded bg-stone-50 p-2 font-mono text-xs dark:bg-stone-950">{text}</pre>
        })
    };
    any.then(|| view! {
        <details class="mt-1" data-shapes="">
            <summary class="cursor-pointer text-xs text-orange-700 underline dark:text-orange-300">"Request and response"</summary>
            {block("Request body", request)}
            {block("Response", response)}
            {block("Example", example)}
        </details>
    })
    .into_any()
}

//! What a page shows when its data is not for this viewer: a sign-in prompt,
//! "not found" (also for what they may not know exists) or "forbidden",
//! answered on the server with 404 and 403 (the sign-in prompt stays 200:
//! it is the page anonymous visitors are meant to see).

use leptos::prelude::*;

use crate::accounts::data::Denied;
use crate::components::sign_in_link::SignInLink;

#[component]
pub fn DeniedView(denied: Denied) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        match &denied {
            Denied::NotFound => response.set_status(http::StatusCode::NOT_FOUND),
            Denied::Forbidden(_) => response.set_status(http::StatusCode::FORBIDDEN),
            Denied::SignIn => {}
        }
    }
    match denied {
        Denied::SignIn => view! {
            <div class="rounded-lg border border-stone-200 bg-white p-8 text-center dark:border-stone-800 dark:bg-stone-900">
                <p class="mb-3">"Sign in to see this page."</p>
                <SignInLink class="font-medium text-orange-700 underline dark:text-orange-300" />
            </div>
        }
        .into_any(),
        Denied::NotFound => view! {
            <div class="rounded-lg border border-stone-200 bg-white p-8 text-center dark:border-stone-800 dark:bg-stone-900">
                <h1 class="text-xl font-semibold">"Not found"</h1>
                <p class="mt-2 text-sm text-stone-600 dark:text-stone-400">"Nothing here, or nothing you can see."</p>
            </div>
        }
        .into_any(),
        Denied::Forbidden(message) => view! {
            <div class="rounded-lg border border-stone-200 bg-white p-8 text-center dark:border-stone-800 dark:bg-stone-900">
                <h1 class="text-xl font-semibold">"Not allowed"</h1>
                <p class="mt-2 text-sm text-stone-600 dark:text-stone-400">{message}</p>
            </div>
        }
        .into_any(),
    }
}

/// A failure to load at all (the server is down, say).
#[component]
pub fn LoadError(message: String) -> impl IntoView {
    view! {
        <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
            "Could not load this page: " {message}
        </p>
    }
}

//! The dashboard frame: a top bar, a collapsible side navigation and the page.
//! The collapse toggle is plain client-side state, so it is also the proof that
//! the page hydrated.

use leptos::prelude::*;

use crate::accounts::load::whoami;
use crate::components::nav::SideNav;
use crate::components::sign_in_link::SignInLink;

/// Below this width (Tailwind's `md`) the menu starts closed.
const NARROW_PX: f64 = 768.0;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // `None` until someone toggles it: open on wide screens, closed on
    // phones, by CSS alone (so also before the WASM runs).
    let (nav_open, set_nav_open) = signal(None::<bool>);
    // Effects run only in the browser, after hydration: the marker tells
    // tests (and curious people) that the page is live.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| {
        set_hydrated.set(true);
        // The toggle's label and state follow what the CSS chose.
        if window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < NARROW_PX)
        {
            set_nav_open.set(Some(false));
        }
    });
    let shown = move || nav_open.get() != Some(false);

    view! {
        <div class="flex min-h-screen flex-col" data-hydrated=move || hydrated.get().to_string()>
            // rel="external": the browser, not the router, follows it, and
            // so moves the focus to the content.
            <a href="#main" id="skip-link" rel="external" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-30 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:shadow dark:focus:bg-stone-900">"Skip to content"</a>
            <header class="flex h-14 items-center gap-3 border-b border-stone-200 bg-white px-4 dark:border-stone-800 dark:bg-stone-900">
                <button
                    type="button"
                    id="nav-toggle"
                    class="rounded-md border border-stone-300 px-2 py-1 text-sm hover:bg-stone-100 dark:border-stone-700 dark:hover:bg-stone-800"
                    aria-controls="side-nav"
                    aria-expanded=move || shown().to_string()
                    on:click=move |_| set_nav_open.set(Some(!shown()))
                >
                    {move || if shown() { "Hide menu" } else { "Show menu" }}
                </button>
                <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
                    <span class="inline-block h-3 w-3 rounded-sm bg-orange-600"></span>
                    "Kiln"
                </a>
                <div class="ml-auto flex items-center gap-3 text-sm">
                    <a href="/docs/api" class="hover:underline">"API"</a>
                    <UserMenu />
                </div>
            </header>
            <div class="relative flex flex-1">
                <SideNav open=nav_open />
                // min-w-0: wide tables and graphs scroll in their own box
                // instead of widening the page.
                <main id="main" tabindex="-1" class="min-w-0 flex-1 p-4 md:p-6">{children()}</main>
            </div>
        </div>
    }
}

/// Who is signed in, with account and sign-out; or the sign-in links.
#[component]
fn UserMenu() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) => view! {
                        <a href="/account" id="user-menu" class="font-medium hover:underline">{user.username}</a>
                        <form method="post" action="/ui/logout">
                            <button type="submit" id="sign-out" class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700">"Sign out"</button>
                        </form>
                    }.into_any(),
                    _ => view! {
                        <SignInLink class="hover:underline" />
                        <a href="/register" class="hover:underline">"Register"</a>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

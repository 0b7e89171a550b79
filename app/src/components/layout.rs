//! The dashboard frame: a top bar, a collapsible side navigation and the page.
//! The frame is drawn by the server; the menu's toggle is the one part of it
//! that runs in the browser (an island).

use leptos::prelude::*;

use crate::accounts::load::whoami;
use crate::components::nav::SideNav;
use crate::components::sign_in_link::SignInLink;

/// Below this width (Tailwind's `md`) the menu starts closed.
const NARROW_PX: f64 = 768.0;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // `data-hydrated` turns "true" once every island of the page is live
    // (see `crate::mark_live`): tests (and curious people) wait for it.
    view! {
        <div class="flex min-h-screen flex-col" data-hydrated="false">
            <a href="#main" id="skip-link" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-30 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:shadow dark:focus:bg-stone-900">"Skip to content"</a>
            <header class="flex h-14 items-center gap-3 border-b border-stone-200 bg-white px-4 dark:border-stone-800 dark:bg-stone-900">
                <NavToggle />
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
                <SideNav />
                // min-w-0: wide tables and graphs scroll in their own box
                // instead of widening the page.
                <main id="main" tabindex="-1" class="min-w-0 flex-1 p-4 md:p-6">{children()}</main>
            </div>
        </div>
    }
}

/// The menu's button. Until someone presses it the menu is open on wide
/// screens and closed on phones, by CSS alone (so also before the WASM
/// runs); the button's label and state follow what the CSS chose, and a
/// press sets the menu's classes (`SideNav` draws it open-by-width).
#[island]
fn NavToggle() -> impl IntoView {
    let (nav_open, set_nav_open) = signal(None::<bool>);
    // Effects run only in the browser.
    Effect::new(move |_| {
        if window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < NARROW_PX)
        {
            set_nav_open.set(Some(false));
        }
    });
    Effect::new(move |_| {
        if let Some(open) = nav_open.get()
            && let Ok(Some(nav)) = document().query_selector("#side-nav")
        {
            let classes = nav.class_list();
            let (remove, add) = if open {
                (["hidden", "md:block"], "block")
            } else {
                (["block", "md:block"], "hidden")
            };
            for class in remove {
                let _ = classes.remove_1(class);
            }
            let _ = classes.add_1(add);
        }
    });
    let shown = move || nav_open.get() != Some(false);
    view! {
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

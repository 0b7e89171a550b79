//! The main navigation: one link per dashboard section, the current one
//! marked, and the colour scheme's buttons; open on wide screens and
//! closed on phones until toggled (the toggle, `layout::NavToggle`, sets
//! its classes in the browser).

use super::theme::ThemeChoice;
use crate::screen::Section;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn SideNav() -> impl IntoView {
    let location = use_location();
    let current = move || Section::of_path(&location.pathname.get());
    view! {
        <nav
            id="side-nav"
            aria-label="Main"
            // By width until toggled. On phones an opened menu lies over
            // the page instead of squeezing it.
            class="hidden w-52 shrink-0 border-r border-stone-200 bg-white p-3 max-md:absolute max-md:inset-y-0 max-md:left-0 max-md:z-20 max-md:shadow-lg md:block dark:border-stone-800 dark:bg-stone-900"
        >
            <ul class="space-y-1">
                {Section::ALL
                    .into_iter()
                    .map(|section| {
                        let active = move || current() == Some(section);
                        view! {
                            <li>
                                <a
                                    href=section.path()
                                    class="block rounded-md px-3 py-2 text-sm font-medium text-stone-700 hover:bg-stone-100 dark:text-stone-300 dark:hover:bg-stone-800"
                                    class=(["bg-orange-50", "text-orange-800", "dark:bg-orange-950", "dark:text-orange-200"], active)
                                    aria-current=move || active().then_some("page")
                                >
                                    {section.label()}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <ThemeChoice />
        </nav>
    }
}

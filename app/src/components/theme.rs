//! The colour scheme: the system's (the default), or light or dark as the
//! viewer chose with the buttons under the navigation. The choice is a
//! cookie the server reads when it renders `<html>` (its class `light` or
//! `dark` wins over the system's preference in the stylesheet), so a page
//! never flashes the other scheme, and the buttons are a plain form.

use leptos::prelude::*;

/// The cookie holding the choice.
pub const COOKIE: &str = "kiln_theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn parse(value: &str) -> Option<Self> {
        Theme::ALL.into_iter().find(|t| t.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The class of `<html>`: none follows the system.
    pub fn html_class(self) -> &'static str {
        match self {
            Theme::System => "",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The choice in a `Cookie` header; the system's when there is none.
    pub fn from_cookies(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| Theme::parse(value.trim()))
            .unwrap_or(Theme::System)
    }
}

/// Three buttons, one per scheme, posting the choice.
#[component]
pub fn ThemeChoice() -> impl IntoView {
    view! {
        <form method="post" action="/ui/theme" class="mt-4 border-t border-stone-200 pt-3 text-xs dark:border-stone-800" id="theme-choice">
            <fieldset>
                <legend class="mb-1 px-3 text-stone-600 dark:text-stone-400">"Colours"</legend>
                <div class="flex gap-1 px-2">
                    {Theme::ALL
                        .into_iter()
                        .map(|theme| view! {
                            <button type="submit" name="theme" value=theme.as_str() id=format!("theme-{}", theme.as_str())
                                class="rounded border border-stone-300 px-2 py-1 hover:bg-stone-100 dark:border-stone-700 dark:hover:bg-stone-800">
                                {theme.label()}
                            </button>
                        })
                        .collect_view()}
                </div>
            </fieldset>
        </form>
    }
    // Erased: the layout's view type otherwise nests past the compiler's
    // limit.
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_read_and_anything_else_is_the_system() {
        assert_eq!(Theme::from_cookies("a=b; kiln_theme=dark"), Theme::Dark);
        assert_eq!(Theme::from_cookies("kiln_theme=light"), Theme::Light);
        assert_eq!(Theme::from_cookies("kiln_theme=\"><script>"), Theme::System);
        assert_eq!(Theme::from_cookies(""), Theme::System);
        assert_eq!(Theme::Dark.html_class(), "dark");
        assert_eq!(Theme::parse("system"), Some(Theme::System));
    }
}

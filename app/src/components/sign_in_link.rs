//! The "Sign in" link that brings the reader back: `/login?next=<page>`
//! (the sign-in form posts `next`, and the server follows it only to a path
//! on this site).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The sign-in address for someone reading `page` (path and query). The
/// account pages and `/` need no way back.
pub fn login_href(page: &str) -> String {
    let path = page.split('?').next().unwrap_or("");
    if matches!(path, "" | "/" | "/login" | "/register") {
        return "/login".to_owned();
    }
    format!("/login?next={}", encode(page))
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[component]
pub fn SignInLink(#[prop(optional)] class: &'static str) -> impl IntoView {
    let location = use_location();
    let href = move || {
        let search = location.search.get();
        let search = search.trim_start_matches('?');
        let page = if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{search}", location.pathname.get())
        };
        login_href(&page)
    };
    view! { <a href=href class=class>"Sign in"</a> }
}

#[cfg(test)]
mod tests {
    use super::login_href;

    #[test]
    fn the_page_rides_along_encoded() {
        assert_eq!(login_href("/g/platform"), "/login?next=/g/platform");
        assert_eq!(
            login_href("/runs?state=failed&x=a b"),
            "/login?next=/runs%3Fstate%3Dfailed%26x%3Da%20b"
        );
        assert_eq!(login_href("/"), "/login");
        assert_eq!(login_href("/login?next=/x"), "/login");
        assert_eq!(login_href("/register"), "/login");
        // Whatever the address holds stays inside the parameter.
        assert_eq!(
            login_href("/x\"><script>"),
            "/login?next=/x%22%3E%3Cscript%3E"
        );
    }
}

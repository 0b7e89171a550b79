//! Which responses may be compressed without leaking a secret through their
//! size (BREACH). A compressed page's length tells an eavesdropper how well
//! a guess planted in the request (a filter, a search) matches a secret on
//! the same page (a hook secret, a new token). The attack needs the victim's
//! browser to send many such requests with its cookie, which only another
//! site can make it do. Browsers say where a request comes from
//! (`Sec-Fetch-Site`): pages are compressed when it is Kiln itself or the
//! user (a typed address, a bookmark), never when another site sent it.
//!
//! `same-origin` says who sent a request, not who chose what it asks: a
//! page that, once loaded, fetches its data again by itself with input from
//! its address would send another site's planted guess as Kiln's own call.
//! So a page that shows a secret must not do that (none does: the live
//! pages refetch on their own, and they show no secret).

/// What a request says about itself that decides its compression.
#[derive(Debug, Clone, Copy)]
pub struct CompressionAsk<'a> {
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub sec_fetch_site: Option<&'a str>,
    /// Whether the request carries any cookie (a session may be among them).
    pub has_cookie: bool,
}

/// Whether the answer to this request may be compressed.
pub fn may_compress(ask: CompressionAsk<'_>) -> bool {
    match ask.sec_fetch_site {
        Some(site) => site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none"),
        // A browser too old to say where a request came from could be
        // driven by another site; without a cookie, the page holds no one's
        // secrets (scripts, curl and crawlers get it compressed).
        None => !ask.has_cookie,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(site: Option<&str>, has_cookie: bool) -> bool {
        may_compress(CompressionAsk {
            sec_fetch_site: site,
            has_cookie,
        })
    }

    #[test]
    fn kiln_itself_and_the_user_get_compression() {
        for cookie in [true, false] {
            assert!(ask(Some("same-origin"), cookie));
            assert!(ask(Some("none"), cookie));
            assert!(ask(Some("Same-Origin"), cookie));
        }
    }

    #[test]
    fn another_site_never_does() {
        for cookie in [true, false] {
            for site in ["cross-site", "same-site", "", "same-origin, cross-site"] {
                assert!(!ask(Some(site), cookie), "{site:?} with cookie {cookie}");
            }
        }
    }

    #[test]
    fn a_silent_client_only_without_cookies() {
        assert!(ask(None, false));
        assert!(!ask(None, true));
    }
}

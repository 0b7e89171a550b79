//! Cross-site request forgery rules for requests a browser may have sent on
//! its own: a state-changing request that would be authenticated by the
//! session cookie must come from Kiln's own pages. Browsers say where a
//! request comes from (`Sec-Fetch-Site`, `Origin`); clients that say nothing
//! must present the session's CSRF token instead. Bearer-token requests are
//! not subject to this (a browser never adds that header by itself).

/// What a request says about where it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub sec_fetch_site: Option<&'a str>,
    /// `Origin`, e.g. `https://kiln.example.com`.
    pub origin: Option<&'a str>,
    /// `Host` of the request, e.g. `kiln.example.com`.
    pub host: Option<&'a str>,
    /// The configured public URL's origin, when set.
    pub public_origin: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsrfVerdict {
    Allow,
    /// The browser says another site sent it.
    Reject(&'static str),
    /// Nothing says where it came from: only the CSRF token can vouch for it.
    NeedToken,
}

/// Judges an unsafe (non GET/HEAD/OPTIONS) request.
pub fn judge(origin: RequestOrigin<'_>) -> CsrfVerdict {
    if let Some(site) = origin.sec_fetch_site {
        return match site {
            "same-origin" | "none" => CsrfVerdict::Allow,
            _ => CsrfVerdict::Reject("cross-site request refused"),
        };
    }
    if let Some(from) = origin.origin {
        let from = from.trim_end_matches('/');
        // With a public URL, it alone is Kiln's origin (the Host check has
        // already refused other hosts). Without one, the request's own
        // Host is the best guess.
        let same = match origin.public_origin {
            Some(public) => public.trim_end_matches('/').eq_ignore_ascii_case(from),
            None => origin.host.is_some_and(|host| {
                from.strip_prefix("http://")
                    .or_else(|| from.strip_prefix("https://"))
                    .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
            }),
        };
        return if same {
            CsrfVerdict::Allow
        } else {
            CsrfVerdict::Reject("request from another origin refused")
        };
    }
    CsrfVerdict::NeedToken
}

/// Whether a method changes state (and so is subject to the check).
pub fn is_unsafe_method(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(site: Option<&'a str>, origin: Option<&'a str>) -> RequestOrigin<'a> {
        RequestOrigin {
            sec_fetch_site: site,
            origin,
            host: Some("kiln.local:3000"),
            public_origin: Some("https://kiln.example.com"),
        }
    }

    #[test]
    fn fetch_metadata_decides_first() {
        assert_eq!(judge(req(Some("same-origin"), None)), CsrfVerdict::Allow);
        assert_eq!(judge(req(Some("none"), None)), CsrfVerdict::Allow);
        for site in ["same-site", "cross-site"] {
            assert!(matches!(
                judge(req(Some(site), Some("http://kiln.local:3000"))),
                CsrfVerdict::Reject(_)
            ));
        }
    }

    #[test]
    fn origin_must_be_the_public_url_when_there_is_one() {
        // A rebound name: Host and Origin agree, but it is not Kiln's URL.
        assert!(matches!(
            judge(req(None, Some("http://kiln.local:3000"))),
            CsrfVerdict::Reject(_)
        ));
        let without_public = RequestOrigin {
            public_origin: None,
            ..req(None, Some("http://kiln.local:3000"))
        };
        assert_eq!(judge(without_public), CsrfVerdict::Allow);
        assert_eq!(
            judge(req(None, Some("https://kiln.example.com/"))),
            CsrfVerdict::Allow
        );
        assert!(matches!(
            judge(req(None, Some("http://evil.example"))),
            CsrfVerdict::Reject(_)
        ));
        assert!(matches!(
            judge(req(None, Some("null"))),
            CsrfVerdict::Reject(_)
        ));
        assert!(matches!(
            judge(req(None, Some("http://kiln.local:3001"))),
            CsrfVerdict::Reject(_)
        ));
    }

    #[test]
    fn silent_clients_need_the_token() {
        assert_eq!(judge(req(None, None)), CsrfVerdict::NeedToken);
    }

    #[test]
    fn only_state_changing_methods_are_checked() {
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert!(!is_unsafe_method(m));
        }
        for m in ["POST", "PUT", "PATCH", "DELETE"] {
            assert!(is_unsafe_method(m));
        }
    }
}

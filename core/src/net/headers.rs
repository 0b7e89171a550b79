//! The security headers every response carries. Pages get a
//! Content-Security-Policy that admits Kiln's own scripts, styles and WASM
//! plus the inline hydration bootstrap by its per-response nonce; everything
//! else (JSON, text, files, errors) gets a policy that loads nothing. No
//! page may be framed.

pub const X_CONTENT_TYPE_OPTIONS: &str = "nosniff";
pub const REFERRER_POLICY: &str = "same-origin";

/// For responses that are not Kiln's pages: nothing loads, nothing frames it.
pub const RESOURCE_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of a page whose inline scripts carry `nonce`. `'wasm-unsafe-eval'`
/// lets the page compile its WASM (it allows no JavaScript `eval`); the
/// favicon is a `data:` image. A nonce that is not plain base64 is left out
/// (the inline bootstrap is then blocked, never the header broken).
pub fn page_policy(nonce: &str) -> String {
    let nonce_source = if is_plain_nonce(nonce) {
        format!(" 'nonce-{nonce}'")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'self'{nonce_source} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Base64 (standard or URL-safe) of some length: safe inside a header and
/// a CSP source expression.
fn is_plain_nonce(nonce: &str) -> bool {
    nonce.len() >= 16
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_admits_the_nonce_and_wasm_only() {
        let policy = page_policy("q8N3-2pGxAbcdefgh_Ij");
        assert!(
            policy.contains("script-src 'self' 'nonce-q8N3-2pGxAbcdefgh_Ij' 'wasm-unsafe-eval';")
        );
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("'unsafe-eval'"));
    }

    #[test]
    fn a_strange_nonce_is_dropped() {
        for bad in [
            "short",
            "abc'; script-src *; x-0123456789",
            "nonce with spaces 123",
        ] {
            let policy = page_policy(bad);
            assert!(!policy.contains("nonce-"), "{bad}: {policy}");
        }
    }

    #[test]
    fn resources_load_nothing() {
        assert!(RESOURCE_POLICY.starts_with("default-src 'none'"));
        assert!(RESOURCE_POLICY.contains("frame-ancestors 'none'"));
    }
}

//! The shape of an API token's secret: `kiln_` and 40 base62 characters
//! (about 238 random bits), so secret scanners can spot one, and the short
//! hint shown in token lists instead of the secret.

pub const TOKEN_PREFIX: &str = "kiln_";
pub const TOKEN_RANDOM_CHARS: usize = 40;

/// Whether `raw` could be a Kiln token (a cheap check before any lookup).
pub fn looks_like_token(raw: &str) -> bool {
    raw.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == TOKEN_RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The part of a token shown after creation: the prefix and four characters.
pub fn token_hint(secret: &str) -> String {
    secret.chars().take(TOKEN_PREFIX.len() + 4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_tokens() {
        let token = format!("kiln_{}", "aZ09".repeat(10));
        assert!(looks_like_token(&token));
        assert!(!looks_like_token(&token[..token.len() - 1]));
        assert!(!looks_like_token(&format!("kiln_{}", "a-b_".repeat(10))));
        assert!(!looks_like_token(&token.replace("kiln_", "klin_")));
        assert_eq!(token_hint(&token), "kiln_aZ09");
    }
}

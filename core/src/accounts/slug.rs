//! Slugs name groups and projects in paths like `platform/backend/api`:
//! 1 to 64 characters of lower-case letters, digits, `-`, `_` and `.`,
//! starting and ending with a letter or digit. Tree paths are served under
//! their own URL prefix, so no slug is reserved (`platform/backend/api` is
//! a fine project path).

use std::fmt;

use super::format_chars::{code_point, find_format_char};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("slug must be 1 to 64 characters")]
    Length,
    #[error("slug may contain only lower-case letters, digits, '-', '_' and '.'")]
    Characters,
    #[error("slug must start and end with a letter or digit")]
    Edges,
    #[error("slug must not contain invisible formatting characters (found {})", code_point(*.0))]
    Format(char),
}

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        if let Some(c) = find_format_char(raw) {
            return Err(SlugError::Format(c));
        }
        if !(1..=64).contains(&raw.len()) {
            return Err(SlugError::Length);
        }
        let bytes = raw.as_bytes();
        if !bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        }) {
            return Err(SlugError::Characters);
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
            return Err(SlugError::Edges);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs() {
        for ok in [
            "a",
            "backend",
            "api",
            "api-gateway",
            "v1.2",
            "my_proj",
            "x9",
        ] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_bad_slugs_with_the_reason() {
        assert_eq!(Slug::parse(""), Err(SlugError::Length));
        assert_eq!(Slug::parse(&"a".repeat(65)), Err(SlugError::Length));
        assert_eq!(Slug::parse("Backend"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("a/b"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("-a"), Err(SlugError::Edges));
        assert_eq!(Slug::parse("a."), Err(SlugError::Edges));
        assert_eq!(
            Slug::parse("api\u{200B}"),
            Err(SlugError::Format('\u{200B}'))
        );
    }
}

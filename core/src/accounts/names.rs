//! Display names (of groups, projects and tokens) and descriptions: free text
//! with a length cap and no control characters. Names also refuse every
//! invisible format character (bidi controls, zero-width ones); descriptions,
//! where a zero-width joiner may belong to an emoji or a word, refuse the
//! bidi controls that reorder text on screen.

use super::format_chars::{code_point, find_format_char, is_bidi_control};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Control,
    #[error("must not contain invisible formatting characters (found {})", code_point(*.0))]
    Format(char),
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A one-line name, trimmed.
pub fn check_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong(MAX_NAME_CHARS));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    if let Some(c) = find_format_char(name) {
        return Err(NameError::Format(c));
    }
    Ok(name.to_owned())
}

/// Free text; may be empty and may span lines.
pub fn check_description(raw: &str) -> Result<String, NameError> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(NameError::TooLong(MAX_DESCRIPTION_CHARS));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(NameError::Control);
    }
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        return Err(NameError::Format(c));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_capped() {
        assert_eq!(check_name("  Backend API ").unwrap(), "Backend API");
        assert_eq!(check_name("   "), Err(NameError::Empty));
        assert_eq!(check_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        assert_eq!(check_name(&"é".repeat(101)), Err(NameError::TooLong(100)));
        assert_eq!(check_name("a\nb"), Err(NameError::Control));
    }

    #[test]
    fn descriptions_allow_lines() {
        assert_eq!(check_description("").unwrap(), "");
        assert!(check_description("line one\nline two").is_ok());
        assert_eq!(check_description("bell\u{7}"), Err(NameError::Control));
        assert!(check_description(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn names_refuse_invisible_format_characters() {
        for bad in [
            "ad\u{200B}min",
            "\u{202E}nimda",
            "a\u{2066}b",
            "\u{FEFF}x",
            "soft\u{00AD}",
        ] {
            assert!(
                matches!(check_name(bad), Err(NameError::Format(_))),
                "{bad:?}"
            );
        }
        let message = check_name("x\u{202E}y").unwrap_err().to_string();
        assert!(message.contains("U+202E"), "{message}");
    }

    #[test]
    fn descriptions_refuse_bidi_controls_only() {
        assert_eq!(
            check_description("rev\u{202E}txt"),
            Err(NameError::Format('\u{202E}'))
        );
        assert!(check_description("family \u{1F468}\u{200D}\u{1F469}").is_ok());
    }
}

//! Usernames: 2 to 40 characters of letters, digits, `-`, `_` and `.`,
//! starting with a letter or digit. Unique case-insensitively: `key()` is
//! what the database's unique index is on.

use std::fmt;

use super::format_chars::{code_point, find_format_char};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("username must be 2 to 40 characters")]
    Length,
    #[error("username may contain only letters, digits, '-', '_' and '.'")]
    Characters,
    #[error("username must start with a letter or digit")]
    Start,
    /// Said apart from other characters: they are invisible, so the user
    /// could not see what is wrong with what they typed.
    #[error("username must not contain invisible formatting characters (found {})", code_point(*.0))]
    Format(char),
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim();
        if let Some(c) = find_format_char(name) {
            return Err(UsernameError::Format(c));
        }
        if !(2..=40).contains(&name.len()) {
            return Err(UsernameError::Length);
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(UsernameError::Characters);
        }
        if !name.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(UsernameError::Start);
        }
        Ok(Self(name.to_owned()))
    }

    /// As the user typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive identity: `Alice` and `alice` are one user.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names_and_keys_them_case_insensitively() {
        let name = Username::parse(" Alice.Smith-2 ").unwrap();
        assert_eq!(name.as_str(), "Alice.Smith-2");
        assert_eq!(name.key(), "alice.smith-2");
        assert_eq!(
            Username::parse("ALICE").unwrap().key(),
            Username::parse("alice").unwrap().key()
        );
    }

    #[test]
    fn rejects_what_could_not_be_a_name() {
        assert_eq!(Username::parse("a"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(41)), Err(UsernameError::Length));
        assert_eq!(Username::parse("al ice"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("ålice"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("-alice"), Err(UsernameError::Start));
        assert_eq!(Username::parse(".."), Err(UsernameError::Start));
    }

    #[test]
    fn invisible_characters_are_named() {
        for (raw, c) in [
            ("ad\u{200B}min", '\u{200B}'),
            ("\u{202E}alice", '\u{202E}'),
            ("bob\u{FEFF}", '\u{FEFF}'),
            ("a\u{2066}b", '\u{2066}'),
        ] {
            assert_eq!(
                Username::parse(raw),
                Err(UsernameError::Format(c)),
                "{raw:?}"
            );
        }
        let message = Username::parse("x\u{200D}y").unwrap_err().to_string();
        assert!(
            message.contains("invisible") && message.contains("U+200D"),
            "{message}"
        );
    }
}

//! A task's outputs: the `key=value` lines it writes to the file named by
//! `$KILN_OUTPUT`, read after it exits. Capped in size; a malformed line is
//! an error naming its line number, so a typo does not silently lose a value
//! a later task needs.

use std::collections::BTreeMap;

/// The most a task may write to its outputs file.
pub const MAX_OUTPUTS_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputsError {
    #[error("outputs file is larger than {MAX_OUTPUTS_BYTES} bytes")]
    TooLarge,
    #[error("outputs file is not UTF-8 text")]
    NotText,
    #[error("outputs line {line}: expected key=value with a key of letters, digits and _")]
    BadLine { line: usize },
}

pub fn parse_outputs(bytes: &[u8]) -> Result<BTreeMap<String, String>, OutputsError> {
    if bytes.len() > MAX_OUTPUTS_BYTES {
        return Err(OutputsError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| OutputsError::NotText)?;
    let mut outputs = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(OutputsError::BadLine { line: i + 1 });
        };
        let key = key.trim();
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(OutputsError::BadLine { line: i + 1 });
        }
        // The last write of a key wins, like a shell variable.
        outputs.insert(key.to_owned(), value.to_owned());
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines() {
        let out =
            parse_outputs(b"version=1.2.3\n# a comment\n\nurl=https://x/?a=b\nversion=1.2.4\r\n")
                .unwrap();
        assert_eq!(out["version"], "1.2.4");
        assert_eq!(out["url"], "https://x/?a=b", "only the first = splits");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn mistakes_are_errors() {
        assert_eq!(
            parse_outputs(b"ok=1\nnot a pair\n"),
            Err(OutputsError::BadLine { line: 2 })
        );
        assert_eq!(
            parse_outputs(b"9lives=1\n"),
            Err(OutputsError::BadLine { line: 1 })
        );
        assert_eq!(
            parse_outputs(&[0xff, b'=', b'1']),
            Err(OutputsError::NotText)
        );
        let big = vec![b'a'; MAX_OUTPUTS_BYTES + 1];
        assert_eq!(parse_outputs(&big), Err(OutputsError::TooLarge));
        assert!(parse_outputs(b"").unwrap().is_empty());
    }
}

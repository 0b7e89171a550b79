//! Secret values never reach a stored log: every occurrence in a line is
//! replaced by `***` before it is written. Longest secrets first, so one
//! that contains another is masked whole.

/// Secrets shorter than this are not masked: masking every `a` or `1`
/// would wreck the log and hide nothing (such values are refused as secrets).
pub const MIN_MASKED_LEN: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<Vec<u8>>,
}

impl Masker {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // Logs are masked a line at a time: a multi-line secret (a PEM key)
        // is also masked line by line.
        let mut secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .flat_map(|s| {
                let whole = s.as_ref().to_vec();
                let mut parts: Vec<Vec<u8>> = whole
                    .split(|&b| b == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                    .collect();
                parts.push(whole);
                parts
            })
            .filter(|s| s.len() >= MIN_MASKED_LEN)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Masker { secrets }
    }

    pub fn mask(&self, line: &[u8]) -> Vec<u8> {
        let mut out = line.to_vec();
        for secret in &self.secrets {
            out = replace_all(&out, secret, b"***");
        }
        out
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_secrets_are_masked_line_by_line() {
        let masker = Masker::new(["-----BEGIN KEY-----\nAbCdEf123\n-----END KEY-----"]);
        assert_eq!(masker.mask(b"AbCdEf123"), b"***");
        assert_eq!(masker.mask(b"x -----END KEY----- y"), b"x *** y");
    }

    #[test]
    fn every_occurrence_is_masked() {
        let masker = Masker::new(["hunter22", "hunter22-extended", "x"]);
        assert_eq!(
            masker.mask(b"token=hunter22-extended and hunter22 again hunter22"),
            b"token=*** and *** again ***"
        );
        assert_eq!(
            masker.mask(b"x marks the spot"),
            b"x marks the spot",
            "too short to mask"
        );
        assert_eq!(Masker::default().mask(b"plain"), b"plain");
    }
}

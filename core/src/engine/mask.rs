//! Secret values never reach a stored log: every occurrence in a line is
//! replaced by `***` before it is written. Longest secrets first, so one
//! that contains another is masked whole. A line too long to arrive in one
//! piece is masked as a stream ([`Masker::mask_piece`]): the tail that could
//! be the start of a secret waits for the next piece.

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

    /// The longest masked value, in bytes.
    pub fn longest(&self) -> usize {
        self.secrets.first().map_or(0, Vec::len)
    }

    /// Masks one piece of a stream, `carry` holding what the previous piece
    /// left unsent. With `last` (the line or stream ended) everything goes
    /// out; otherwise the last `longest - 1` bytes stay in `carry`, unless a
    /// secret already fits across that cut, so no secret is ever emitted in
    /// two halves.
    pub fn mask_piece(&self, carry: &mut Vec<u8>, piece: &[u8], last: bool) -> Vec<u8> {
        let mut text = std::mem::take(carry);
        text.extend_from_slice(piece);
        let keep = self.longest().saturating_sub(1);
        if last || keep == 0 || text.len() <= keep {
            if !last && keep > 0 {
                *carry = text;
                return Vec::new();
            }
            return self.mask(&text);
        }
        let mut cut = text.len() - keep;
        // A secret that starts before the cut ends inside `text` (it is at
        // most `keep + 1` long): send it whole rather than split it.
        let boundary = cut;
        for secret in &self.secrets {
            let first = boundary.saturating_sub(secret.len() - 1);
            for start in first..boundary {
                if text[start..].starts_with(secret) {
                    cut = cut.max(start + secret.len());
                }
            }
        }
        *carry = text.split_off(cut);
        self.mask(&text)
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
    fn a_secret_split_across_pieces_is_masked() {
        let secret = "s3cr3t-value";
        let masker = Masker::new([secret]);
        let line = format!("{}{secret}{}", "a".repeat(37), "b".repeat(20));
        // Every way of cutting the line into two or three pieces.
        for first in 0..line.len() {
            for second in first..line.len() {
                let mut carry = Vec::new();
                let mut out = Vec::new();
                out.extend(masker.mask_piece(&mut carry, &line.as_bytes()[..first], false));
                out.extend(masker.mask_piece(&mut carry, &line.as_bytes()[first..second], false));
                out.extend(masker.mask_piece(&mut carry, &line.as_bytes()[second..], true));
                let out = String::from_utf8(out).unwrap();
                assert_eq!(out, format!("{}***{}", "a".repeat(37), "b".repeat(20)));
            }
        }
        let mut carry = Vec::new();
        assert_eq!(
            Masker::default().mask_piece(&mut carry, b"abc", false),
            b"abc"
        );
        assert!(carry.is_empty());
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

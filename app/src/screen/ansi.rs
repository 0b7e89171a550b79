//! ANSI colour codes in step output, turned into styled pieces of text for
//! the log viewer: the eight colours and their bright forms, bold, reset.
//! Anything else that starts with ESC is dropped rather than shown raw.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// 0–7 normal, 8–15 bright.
    pub colour: Option<u8>,
    pub bold: bool,
}

/// Splits `line` into runs of one style.
pub fn segments(line: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut style = Segment::default();
    let mut rest = line;
    while !rest.is_empty() {
        match rest.find('\u{1b}') {
            None => {
                push(&mut out, &style, rest);
                break;
            }
            Some(at) => {
                push(&mut out, &style, &rest[..at]);
                rest = &rest[at + 1..];
                let Some(params) = rest.strip_prefix('[') else {
                    continue;
                };
                // A control sequence ends at its first letter.
                let end = params
                    .find(|c: char| c.is_ascii_alphabetic())
                    .unwrap_or(params.len());
                if params[end..].starts_with('m') {
                    apply(&mut style, &params[..end]);
                }
                rest = params.get(end + 1..).unwrap_or("");
            }
        }
    }
    out
}

fn push(out: &mut Vec<Segment>, style: &Segment, text: &str) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.colour == style.colour && last.bold == style.bold => {
            last.text.push_str(text);
        }
        _ => out.push(Segment {
            text: text.to_owned(),
            ..style.clone()
        }),
    }
}

fn apply(style: &mut Segment, codes: &str) {
    if codes.is_empty() {
        *style = Segment::default();
        return;
    }
    for code in codes.split(';') {
        match code.parse::<u8>() {
            Ok(0) => *style = Segment::default(),
            Ok(1) => style.bold = true,
            Ok(22) => style.bold = false,
            Ok(n @ 30..=37) => style.colour = Some(n - 30),
            Ok(39) => style.colour = None,
            Ok(n @ 90..=97) => style.colour = Some(n - 90 + 8),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_bold_and_reset() {
        let parts = segments("plain \u{1b}[1;31mred bold\u{1b}[0m back \u{1b}[92mbright\u{1b}[m");
        assert_eq!(parts.len(), 4);
        assert_eq!(
            parts[0],
            Segment {
                text: "plain ".into(),
                colour: None,
                bold: false
            }
        );
        assert_eq!(
            parts[1],
            Segment {
                text: "red bold".into(),
                colour: Some(1),
                bold: true
            }
        );
        assert_eq!(parts[2].text, " back ");
        assert_eq!(
            parts[3],
            Segment {
                text: "bright".into(),
                colour: Some(10),
                bold: false
            }
        );
    }

    #[test]
    fn other_sequences_vanish() {
        let parts = segments("a\u{1b}[2Kb\u{1b}c\u{1b}[");
        let text: String = parts.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(text, "abc");
    }
}

//! Search in a log: where a query occurs in a line (ignoring ASCII case),
//! and a line's styled segments cut so that each match is marked, styles
//! kept. Pure, for the log viewer.

use super::ansi::Segment;

/// A piece of a line: its text, its style, and whether it is a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub colour: Option<u8>,
    pub bold: bool,
    pub marked: bool,
}

/// Byte ranges of the non-overlapping occurrences of `query` in `text`,
/// left to right, ASCII letters matched in either case; none for an empty
/// query.
pub fn occurrences(text: &str, query: &str) -> Vec<(usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    // ASCII lower-casing keeps every byte where it was, so the ranges stay
    // on the original text's character boundaries.
    let hay = text.to_ascii_lowercase();
    let needle = query.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = hay[from..].find(&needle) {
        let start = from + at;
        let end = start + needle.len();
        found.push((start, end));
        from = end;
    }
    found
}

/// How many times `query` occurs in `text`.
pub fn count(text: &str, query: &str) -> usize {
    occurrences(text, query).len()
}

/// `segments` cut at the matches of `query` in their joined text, each
/// match marked (a match across two styles is marked in both).
pub fn mark(segments: Vec<Segment>, query: &str) -> Vec<Piece> {
    let joined: String = segments.iter().map(|s| s.text.as_str()).collect();
    let ranges = occurrences(&joined, query);
    let mut pieces = Vec::new();
    let mut offset = 0;
    for segment in segments {
        let (start, end) = (offset, offset + segment.text.len());
        offset = end;
        // Cut points inside this segment, in order.
        let mut cuts = vec![start];
        for &(a, b) in &ranges {
            for point in [a, b] {
                if point > start && point < end {
                    cuts.push(point);
                }
            }
        }
        cuts.push(end);
        for pair in cuts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a == b {
                continue;
            }
            let marked = ranges.iter().any(|&(x, y)| a >= x && b <= y);
            pieces.push(Piece {
                text: segment.text[a - start..b - start].to_owned(),
                colour: segment.colour,
                bold: segment.bold,
                marked,
            });
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Segment {
        Segment {
            text: text.to_owned(),
            colour: None,
            bold: false,
        }
    }

    #[test]
    fn occurrences_ignore_ascii_case_and_do_not_overlap() {
        assert_eq!(
            occurrences("Error: error ERROR", "error"),
            [(0, 5), (7, 12), (13, 18)]
        );
        assert_eq!(occurrences("aaaa", "aa"), [(0, 2), (2, 4)]);
        assert!(occurrences("abc", "").is_empty());
        assert_eq!(count("x", "y"), 0);
    }

    #[test]
    fn non_ascii_text_keeps_its_boundaries() {
        assert_eq!(occurrences("ÄÖ fail Ü", "FAIL"), [(5, 9)]);
        let pieces = mark(vec![plain("ÄÖ fail Ü")], "fail");
        assert_eq!(pieces.len(), 3);
        assert!(pieces[1].marked && pieces[1].text == "fail");
    }

    #[test]
    fn a_match_is_marked_within_and_across_styles() {
        let red = Segment {
            text: "err".into(),
            colour: Some(1),
            bold: false,
        };
        let pieces = mark(vec![plain("an "), red, plain("or here")], "error");
        let shown: Vec<(&str, bool, Option<u8>)> = pieces
            .iter()
            .map(|p| (p.text.as_str(), p.marked, p.colour))
            .collect();
        assert_eq!(
            shown,
            [
                ("an ", false, None),
                ("err", true, Some(1)),
                ("or", true, None),
                (" here", false, None)
            ]
        );
    }

    #[test]
    fn without_a_query_the_segments_are_kept_whole() {
        let pieces = mark(vec![plain("one"), plain("two")], "");
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| !p.marked));
    }
}

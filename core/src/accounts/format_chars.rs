//! Unicode format characters (general category Cf): invisible marks that
//! change how text around them is shown. In a name they let two different
//! names look the same (`admin` and `ad\u{200B}min`) or make a name display
//! reversed (U+202E), so every name a user gives refuses them. The table is
//! the Cf ranges of Unicode 16 (a match, so `core` needs no Unicode crate and
//! still compiles for wasm32).

/// Whether `c` is a format character (Unicode general category Cf).
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether `c` is a bidirectional control (embedding, override, isolate,
/// or mark): what reorders text on screen, as in "Trojan Source".
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// The first format character in `text`, if any.
pub fn find_format_char(text: &str) -> Option<char> {
    text.chars().find(|&c| is_format_char(c))
}

/// `U+202E`: how an error message names an invisible character.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_zero_width_and_soft_hyphen_are_format_chars() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2060}',
            '\u{061C}',
            '\u{E0041}',
        ] {
            assert!(is_format_char(c), "{}", code_point(c));
        }
    }

    #[test]
    fn visible_text_is_not() {
        for c in [
            'a', 'é', 'ß', '中', '😀', ' ', '\u{00A0}', '-', '\u{2010}', '\u{0301}',
        ] {
            assert!(!is_format_char(c), "{}", code_point(c));
        }
        assert_eq!(find_format_char("Backend API"), None);
        assert_eq!(find_format_char("ad\u{200B}min"), Some('\u{200B}'));
    }

    #[test]
    fn bidi_controls_are_a_subset() {
        for c in ['\u{202E}', '\u{2067}', '\u{200F}'] {
            assert!(is_bidi_control(c) && is_format_char(c));
        }
        assert!(!is_bidi_control('\u{200D}'), "the emoji joiner is not bidi");
        assert_eq!(code_point('\u{202E}'), "U+202E");
        assert_eq!(code_point('\u{E0041}'), "U+E0041");
    }
}

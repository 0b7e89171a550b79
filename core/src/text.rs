//! Cutting text from outside (payloads, headers, messages) to a size a row
//! or a page holds, never inside a character.

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
pub fn clip_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::clip_bytes;

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(clip_bytes("héllo", 2), "h");
        assert_eq!(clip_bytes("héllo", 3), "hé");
        assert_eq!(clip_bytes("abc", 10), "abc");
        assert_eq!(clip_bytes("é", 0), "");
    }
}

//! Server-controlled text (certificate subjects, HTTP headers, page text) must never reach a
//! terminal, a JSON consumer or a Markdown file with its control characters intact.

/// Replace every control character (C0, DEL, C1) and every bidirectional-override or
/// zero-width formatting character with a visible `\u{…}` escape. Tabs and newlines too:
/// a finding's detail is one line.
pub fn clean(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`clean`] but keeps newlines (for multi-line fix texts from our own catalogue).
pub fn clean_multiline(s: &str) -> String {
    s.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

/// A control (C0, DEL, C1), bidi or zero-width formatting character.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'   // zero-width and LRM/RLM
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{feff}')
}

/// Cut a string to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("x\u{9b}y\u{7}"), "x\\u{9b}y\\u{7}");
        assert_eq!(clean("line\nbreak\r"), "line\\u{a}break\\u{d}");
        assert_eq!(clean("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(clean("エラーコード：46"), "エラーコード：46");
        assert_eq!(clean_multiline("a\nb\u{1b}"), "a\nb\\u{1b}");
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("あいうえお", 3), "あい…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}

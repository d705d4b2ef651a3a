//! Text wrapped for a terminal of a given width: at spaces, and between wide (CJK) characters,
//! which Japanese text may break between without a space. Widths are display columns.

/// Words for wrapping: split at spaces, and between wide (CJK) characters, which Japanese text
/// may break between without a space.
fn words(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let base = textwrap::WordSeparator::AsciiSpace.find_words(line);
    Box::new(base.flat_map(|w| {
        // Ranges of `w.word`, each a unit the line may break after.
        let mut parts: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for (i, c) in w.word.char_indices() {
            let end = i + c.len_utf8();
            if NO_BREAK_BEFORE.contains(c) {
                // Closing punctuation stays at the end of the line before it (kinsoku).
                if let Some(last) = parts.last_mut().filter(|l| l.1 == i && start == i) {
                    last.1 = end;
                    start = end;
                }
                continue;
            }
            if textwrap::core::display_width(&w.word[i..end]) > 1 {
                // A break before and after each wide character.
                if i > start {
                    parts.push((start, i));
                }
                parts.push((i, end));
                start = end;
            }
        }
        if start < w.word.len() || parts.is_empty() {
            parts.push((start, w.word.len()));
        }
        let n = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(k, (a, b))| {
                let mut word = textwrap::core::Word::from(&w.word[a..b]);
                // The word's trailing whitespace stays with its last part.
                if k + 1 == n {
                    word.whitespace = w.whitespace;
                }
                word
            })
            .collect::<Vec<_>>()
    }))
}

/// Characters a Japanese line must not begin with.
const NO_BREAK_BEFORE: &str =
    "、。，．・：；？！）」』】〕〉》ーぁぃぅぇぉっゃゅょァィゥェォッャュョ";

pub fn wrap_into(out: &mut String, s: &str, width: usize, first: &str, rest: &str) {
    let opts = textwrap::Options::new(width.max(20))
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_separator(textwrap::WordSeparator::Custom(words))
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    for line in textwrap::wrap(s, opts) {
        out.push_str(&line);
        out.push('\n');
    }
}

/// `s` wrapped to `width` columns, every line but the first indented by `indent`.
pub fn wrap(s: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for para in s.lines() {
        wrap_into(&mut out, para, width, "", indent);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_english_at_spaces_and_japanese_anywhere() {
        let en = wrap("alpha beta gamma delta epsilon zeta", 20, "");
        assert_eq!(en, "alpha beta gamma\ndelta epsilon zeta\n");
        let ja = wrap("証明書の有効期限が切れています", 20, "");
        for line in ja.lines() {
            assert!(textwrap::core::display_width(line) <= 20, "{line}");
        }
        assert_eq!(ja.replace('\n', ""), "証明書の有効期限が切れています");
        // No line begins with closing punctuation.
        let ja = wrap("あいうえおかきくけこ。さしすせそ", 20, "");
        assert!(ja.lines().all(|l| !l.starts_with('。')), "{ja}");
    }
}

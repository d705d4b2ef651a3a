//! Words of the network probes: catalogue texts (`src/guide/phrases/net.toml`) that take other
//! ja/en texts as arguments, and the catalogued reasons for operating-system errors. The raw
//! error text of the OS or a library never forms the sentence: it follows as an escaped detail.

use crate::finding::Text;
use crate::guide::phrase;
use std::io;

/// Fill `{name}` placeholders of `t` with ja/en texts ([`Text::filled`]).
pub fn fill(t: Text, args: &[(&str, &Text)]) -> Text {
    t.filled(args)
}

/// Texts joined by `sep` in each language ([`Text::joined`]).
pub fn join(parts: &[Text], sep: &str) -> Text {
    Text::joined(parts, sep)
}

/// Longest raw detail kept after a sentence.
const DETAIL_MAX: usize = 200;

/// A sentence followed by a clearly marked raw detail (an OS or library message, escaped and
/// cut short); no detail when `raw` is empty.
pub fn with_detail(sentence: Text, raw: &str) -> Text {
    let raw = raw.trim();
    if raw.is_empty() {
        return sentence;
    }
    let raw = crate::text::escape::truncate(&crate::text::escape::clean(raw), DETAIL_MAX);
    fill(
        phrase("net.with_detail", &[("detail", &raw)]),
        &[("sentence", &sentence)],
    )
}

/// What an I/O error means, in the catalogue's words (by its kind, never by its OS text).
pub fn io_reason(kind: io::ErrorKind) -> Text {
    use io::ErrorKind::*;
    match kind {
        ConnectionRefused => phrase("net.io_refused", &[]),
        ConnectionReset => phrase("net.io_reset", &[]),
        ConnectionAborted => phrase("net.io_aborted", &[]),
        TimedOut => phrase("net.io_timed_out", &[]),
        HostUnreachable => phrase("net.io_host_unreachable", &[]),
        NetworkUnreachable => phrase("net.io_network_unreachable", &[]),
        AddrNotAvailable => phrase("net.io_addr_not_available", &[]),
        UnexpectedEof => phrase("net.io_closed", &[]),
        BrokenPipe => phrase("net.io_broken_pipe", &[]),
        PermissionDenied => phrase("net.io_permission_denied", &[]),
        NotFound => phrase("net.io_not_found", &[]),
        InvalidData => phrase("net.io_invalid_data", &[]),
        _ => phrase("net.io_other", &[]),
    }
}

/// An I/O error as a catalogued reason followed by its raw text as the detail.
pub fn io_error(e: &io::Error) -> Text {
    with_detail(io_reason(e.kind()), &e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every net entry has both languages, English without Japanese, and the same placeholders.
    #[test]
    fn net_phrases_are_bilingual_with_the_same_placeholders() {
        let ja = regex::Regex::new(r"[\p{Han}\p{Hiragana}\p{Katakana}]").unwrap();
        let ph = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
        let src = include_str!("../guide/phrases/net.toml");
        let v: toml::Table = toml::from_str(src).unwrap();
        let mut n = 0;
        for table in ["label", "fix"] {
            let Some(t) = v.get(table).and_then(|t| t.as_table()) else {
                continue;
            };
            for (k, e) in t {
                assert!(k.starts_with("net."), "{k}: not in the net namespace");
                let en = e["en"].as_str().unwrap();
                let jp = e["ja"].as_str().unwrap();
                assert!(!jp.trim().is_empty(), "{k}: no Japanese");
                assert!(!ja.is_match(en), "{k}: Japanese in English: {en}");
                let set = |s: &str| {
                    // `{why_en}` / `{why_ja}`: one argument given in each language.
                    let mut v: Vec<String> = ph
                        .find_iter(s)
                        .map(|m| m.as_str().replace("_en}", "}").replace("_ja}", "}"))
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                };
                assert_eq!(set(en), set(jp), "{k}: placeholders differ");
                n += 1;
            }
        }
        assert!(n > 100, "only {n} entries");
    }

    #[test]
    fn texts_fill_each_language_with_its_own_words() {
        let t = fill(
            Text::new("a {x} b", "あ {x} い"),
            &[("x", &Text::new("one", "一"))],
        );
        assert_eq!(t.en, "a one b");
        assert_eq!(t.ja, "あ 一 い");
    }

    #[test]
    fn an_io_error_is_named_by_kind_and_keeps_its_raw_text_escaped_as_detail() {
        let e = io::Error::new(io::ErrorKind::ConnectionRefused, "refused\u{1b}[31m");
        let t = io_error(&e);
        assert!(t
            .ja
            .starts_with(&io_reason(io::ErrorKind::ConnectionRefused).ja));
        assert!(!t.ja.contains('\u{1b}'), "{}", t.ja);
        assert!(t.ja.contains("\\u{1b}"), "{}", t.ja);
        assert!(!t.en.contains("net."), "a key left unresolved: {}", t.en);
        assert_eq!(with_detail(Text::same("x"), " ").en, "x");
    }
}

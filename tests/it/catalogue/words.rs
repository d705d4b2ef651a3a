//! Which words of a text do not belong to its language.
//!
//! Japanese text may carry Latin letters only where they are names, codes or paths: a person
//! reading Japanese must meet no English sentence, word or OS message. English text may carry
//! Japanese only where it quotes the service's own Japanese names. Both allowlists below are
//! short and each entry says why it is there; a plain English word is never allowed — such a
//! text belongs in the catalogue, in both languages.

use regex::Regex;
use std::sync::OnceLock;

/// Names made of several words, removed whole before the words are looked at: the service's
/// certificate authorities as their certificates name them, and product names.
const NAME_PHRASES: &[&str] = &[
    "SECOM Passport for Member PUB CA1",
    "Security Communication RootCA1",
    "Security Communication RootCA2",
    "Security Communication RootCA3",
    "Internet Explorer",
    "Windows Update",
    // The service's own guide calls the key-length field "Key 長" (section 1-2 STEP2).
    "Key 長",
];

/// Single words that are names: operating systems, browsers, programs, the tool itself, keys
/// on the keyboard (as printed on them), protocol and format names.
const NAMES: &[&str] = &[
    // operating systems and their parts
    "Windows",
    "macOS",
    "Linux",
    "GNOME",
    "NetworkManager",
    "Wine",
    "Microsoft",
    // browsers and programs
    "Firefox",
    "Edge",
    "Chrome",
    "Chromium",
    "Safari",
    "OpenSSL",
    "openssl",
    "certprobe",
    "Prometheus",
    "Nagios",
    "JUnit",
    "Markdown",
    "ActiveX",
    "SECOM",
    "Wi-Fi",
    // keys as printed on the keyboard
    "Enter",
    "Ctrl",
    "Shift",
    "Delete",
    "Esc",
    "Win",
    "Tab",
    // names of protocols, formats and algorithms, written as their standards write them
    "Web",
    "Cookie",
    "scrypt",
    "http",
    "https",
    // libraries certprobe names when it says what it uses
    "rustls",
    "webpki",
];

/// Abbreviations and upper-case codes (their expansions would be no clearer in Japanese), and
/// the metavariables of `--help` (`FILE`, `HOST`…) quoted in fixes.
const CODES: &[&str] = &[
    "TLS", "SSL", "HTTP", "HTTPS", "CA", "CRL", "OCSP", "URL", "DNS", "PEM", "DER", "PKCS", "IP",
    "ID", "OS", "PC", "SNI", "ALPN", "EKU", "AKI", "SKI", "SHA", "RSA", "ECDSA", "ECDHE", "AES",
    "GCM", "CBC", "DES", "DSA", "MD", "JSON", "TOML", "FIFO", "HTML", "CSV", "PAC", "WPAD", "CNG",
    "CAPI", "AIA", "CONNECT", "GET", "POST", "NTP", "VPN", "LAN", "RFC", "CSP", "PIN", "NSS",
    "TCP", "UDP", "IE", "CN", "SAN", "SANs", "UTC", "JST", "README", "CLI", "API", "FILE", "HOST",
    "PORT", "NAME", "ENV", "SECTION", "URI", "PKIX", "CPU", "ms", "OK", "NG", "SOCKS",
];

/// The service's own Japanese names and the words on its pages, quoted in English text so that
/// a person can match them with what the screen shows.
pub const JAPANESE_NAMES: &[&str] = &["あんしんエコ文書", "エラーコード", "認証情報パスワード"];

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap())
}

/// What is not prose: backticked code, URLs, flags, paths, host and file names, numbers with
/// units, `name=value`, commands of the tool, text quoted from other programs in "double quotes".
pub fn strip_non_prose(s: &str) -> String {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            // `file:line:column: key:` before a problem found in a file
            r"\S+:\d+:\d+: [\w.\[\]-]+:",
            r"`[^`]*`",
            r#""[^"]*""#,
            r"\{[a-z_0-9]+\}",
            r"\b[a-z][a-z0-9+.-]*://\S*",
            r"\b(?:about|chrome|edge):[a-z/-]+",
            r"\bcertprobe(?: [a-z][a-z-]*)+",
            r"(?:^|[^\w-])--?[A-Za-z0-9][\w-]*(?: [A-Z]{2,}\b)?",
            r"[\w.~%$-]*[/\\][^\s、。，．)）」』,;]*",
            r"[\w-]+(?:\.[\w-]+)+",
            r"\.\w+",
            r"&\w+;",
            r"\b\w+=\S*",
            r"\b\d+(?:\.\d+)?[A-Za-z]+\b",
            r"⌘\w",
            r"<[A-Z][A-Z_-]*>",
            r"\b[A-Z]:",
        ]
        .iter()
        .map(|p| Regex::new(p).unwrap())
        .collect()
    });
    let mut out = s.to_string();
    for n in NAME_PHRASES {
        out = out.replace(n, " ");
    }
    for p in patterns {
        out = p.replace_all(&out, " ").into_owned();
    }
    out
}

fn is_code(w: &str) -> bool {
    static CAMEL: OnceLock<Regex> = OnceLock::new();
    w.chars().count() == 1
        || w.chars().any(|c| c.is_ascii_digit() || "_#+".contains(c))
        || re(&CAMEL, r"[a-z][A-Z]").is_match(w)
        // AES-GCM, P-256: upper-case parts joined by hyphens
        || (w.contains('-') && w.split('-').all(|p| p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())))
}

/// The English words in text meant to be Japanese.
pub fn english_in_japanese(text: &str) -> Vec<String> {
    static WORD: OnceLock<Regex> = OnceLock::new();
    let prose = strip_non_prose(text);
    re(&WORD, r"[A-Za-z][A-Za-z0-9_#+'-]*")
        .find_iter(&prose)
        .map(|m| m.as_str().trim_end_matches(['-', '\'']))
        .filter(|w| !is_code(w) && !NAMES.contains(w) && !CODES.contains(w))
        .map(str::to_string)
        .collect()
}

fn is_japanese(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303f}'   // CJK punctuation: 、。「」
        | '\u{3040}'..='\u{30ff}' // kana
        | '\u{4e00}'..='\u{9fff}' // kanji
        | '\u{ff01}'..='\u{ff60}') // full-width forms
}

/// The Japanese runs in text meant to be English.
pub fn japanese_in_english(text: &str) -> Vec<String> {
    let mut rest = text.to_string();
    for n in JAPANESE_NAMES {
        rest = rest.replace(n, " ");
    }
    let mut out = Vec::new();
    let mut run = String::new();
    for c in rest.chars() {
        if is_japanese(c) {
            run.push(c);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Whether text has kana or kanji: words, where full-width punctuation alone is a character.
pub fn has_kana_kanji(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// Whether text has any Japanese at all.
pub fn has_japanese(text: &str) -> bool {
    text.chars().any(is_japanese)
}

#[test]
fn the_checks_tell_the_languages_apart() {
    assert_eq!(
        english_in_japanese("証明書の有効期限が切れています: expired on 2026-01-01"),
        ["expired", "on"]
    );
    assert!(english_in_japanese(
        "`certprobe check --cert FILE` で TLS を確認。https://ds.e-kakushin.com/ と C:\\x\\me.p12 を参照 (10s)"
    )
    .is_empty());
    assert!(english_in_japanese("中間証明書 SECOM Passport for Member PUB CA1 が必要").is_empty());
    assert_eq!(
        english_in_japanese("ファイル not found です"),
        ["not", "found"]
    );
    assert_eq!(
        japanese_in_english("the certificate 証明書 is missing"),
        ["証明書"]
    );
    assert!(japanese_in_english("the page shows エラーコード 46").is_empty());
}

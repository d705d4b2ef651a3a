//! Reading what a page says: the profile's patterns (error codes, guide messages) matched
//! against the text a person sees (decoded, tags dropped, Unicode NFKC-normalised, so that
//! `エラーコード：４６` reads as `エラーコード:46`), and whether it is the page the profile expects.

use crate::finding::Finding;
use crate::profile::{ExpectedPage, PageStatus, Profile};
use unicode_normalization::UnicodeNormalization;

/// The character encoding of a body that declares none: UTF-8 when it is valid UTF-8 without
/// escape sequences, else what `chardetng` guesses from the bytes (Shift_JIS, EUC-JP,
/// ISO-2022-JP — which is 7-bit, hence the escape test —, …).
pub fn detect_charset(body: &[u8]) -> &'static encoding_rs::Encoding {
    if !body.contains(&0x1b) && std::str::from_utf8(body).is_ok() {
        return encoding_rs::UTF_8;
    }
    let mut d = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    d.feed(body, true);
    d.guess(None, chardetng::Utf8Detection::Allow)
}

/// The text a person sees, in Unicode normalisation form KC (full-width digits and colons
/// become ASCII, half-width katakana full-width).
pub fn seen_text(html: &str) -> String {
    visible_text(html).nfkc().collect()
}

/// The first of the profile's patterns that the page matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageMatch {
    pub section: String,
    pub status: PageStatus,
    /// The text that matched (e.g. `エラーコード：46`).
    pub matched: String,
    /// The first capture group, if the pattern has one (e.g. an error code).
    pub captured: Option<String>,
}

/// Elements that sit inside a line of text: dropping their tags joins the text on both sides
/// (`<b>4</b><b>6</b>` reads `46`); every other tag separates words.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u",
    "var", "wbr",
];

/// Visible text of an HTML page: comments dropped, tags dropped (a block tag becomes a space,
/// an inline one joins its neighbours), character references decoded (named common ones and
/// every numeric one), script and style content skipped, white space collapsed.
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("<!--") {
            rest = after.find("-->").map_or("", |j| &after[j + 3..]);
            continue;
        }
        let lower: String = after.chars().take(8).flat_map(char::to_lowercase).collect();
        let name: String = lower
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !INLINE.contains(&name.as_str()) {
            out.push(' ');
        }
        let skip_to = if lower.starts_with("<script") {
            find_ci(after, "</script>")
        } else if lower.starts_with("<style") {
            find_ci(after, "</style>")
        } else {
            None
        };
        let from = skip_to.unwrap_or(0);
        match after[from..].find('>') {
            Some(j) => rest = &after[from + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let decoded = decode_references(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Character references in one pass (so `&amp;#52;` stays the text `&#52;`): the common named
/// ones, and numeric ones in decimal or hex (`&#65300;`, `&#xFF14;`); anything else is kept.
fn decode_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(j, _)| j);
        let decoded = end.and_then(|j| {
            let name = &after[1..j];
            let c = match name {
                "nbsp" => Some(' '),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse::<u32>().ok(),
                    };
                    code.and_then(char::from_u32)
                        .filter(|c| !c.is_control() || c.is_whitespace())
                }
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &after[j + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// The page's `<title>`, if any.
pub fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let end = lower[open_end..].find("</title")? + open_end;
    let t = visible_text(&html[open_end..end]);
    (!t.is_empty()).then(|| t.chars().take(200).collect())
}

/// Match the page against the profile's patterns; the first pattern in profile order wins
/// (profiles list specific codes before the catch-all).
pub fn read_page(profile: &Profile, html: &str) -> Option<PageMatch> {
    let text = seen_text(html);
    for p in &profile.pages {
        let Some(re) = p.regex() else {
            continue;
        };
        if let Some(c) = re.captures(&text) {
            let matched = c.get(0).map(|m| m.as_str()).unwrap_or("");
            return Some(PageMatch {
                section: p.section.clone(),
                status: p.status,
                matched: matched.chars().take(200).collect(),
                captured: c.get(1).map(|m| m.as_str().to_string()),
            });
        }
    }
    None
}

/// A page that matched none of the profile's error patterns, judged against what the profile
/// says the endpoint's page looks like: pass when it matches, a warning that shows the page's
/// title when it does not (an unknown page is never "everything works"). Without a
/// description the page passes as before, saying that no error message was found.
pub fn unmatched_page(
    f: Finding,
    expect: Option<&ExpectedPage>,
    html: &str,
    section: &str,
) -> Finding {
    let t = title(html).unwrap_or_default();
    let Some(expect) = expect else {
        return f.pass(crate::guide::phrase("page.no_error", &[("title", &t)]));
    };
    if expected(expect, html) {
        return f.pass(crate::guide::phrase("page.expected", &[("title", &t)]));
    }
    f.warn(crate::guide::phrase("page.unrecognised", &[("title", &t)]))
        .section(section.to_string())
        .fix(crate::guide::fix("net.page_unrecognised", &[("title", &t)]))
}

/// Does the page look like the one the profile describes (title, text, a form)?
pub fn expected(expect: &ExpectedPage, html: &str) -> bool {
    let title_ok = match (&expect.title, title(html)) {
        (Some(re), Some(t)) => {
            regex::Regex::new(re).is_ok_and(|r| r.is_match(&t.nfkc().collect::<String>()))
        }
        (Some(_), None) => false,
        (None, _) => true,
    };
    let text_ok = match &expect.text {
        Some(re) => regex::Regex::new(re).is_ok_and(|r| r.is_match(&seen_text(html))),
        None => true,
    };
    let form_ok = !expect.form || html.to_ascii_lowercase().contains("<form");
    title_ok && text_ok && form_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup_joins_and_references_decode() {
        assert_eq!(
            seen_text("<td>エラーコード</td><td>：<b>4</b><!-- x --><b>6</b></td>"),
            "エラーコード :46"
        );
        assert_eq!(
            seen_text("<p>エラーコード&#xFF1A;&#65300;&#65302;</p>"),
            "エラーコード:46"
        );
        assert_eq!(
            visible_text("a &amp;#52; b &bogus; &#0; &#x110000;"),
            "a &#52; b &bogus; &#0; &#x110000;"
        );
        assert_eq!(visible_text("<p>a</p><p>b</p>"), "a b");
        assert_eq!(visible_text("x<!-- unterminated"), "x");
    }

    #[test]
    fn error_codes_are_read_in_profile_order() {
        let p = Profile::builtin();
        let m = read_page(&p, "<p>エラーコード：<b>46</b></p>").unwrap();
        assert_eq!(m.section, "2-2 46");
        let m = read_page(&p, "<p>エラーコード: 99</p>").unwrap();
        assert_eq!(m.section, "2-2 other");
        assert_eq!(m.captured.as_deref(), Some("99"));
        let m = read_page(
            &p,
            "<div>過去1年間ログインされていません。管理者にお問い合わせください</div>",
        )
        .unwrap();
        assert_eq!(m.section, "2-3");
        assert!(read_page(&p, "<h1>ようこそ</h1>").is_none());
    }

    #[test]
    fn scripts_and_tags_are_not_text() {
        assert_eq!(
            visible_text("<script>var a='エラーコード 42'</script><b>ok</b>&amp;"),
            "ok&"
        );
        assert_eq!(
            title("<html><TITLE>ログイン</TITLE>").as_deref(),
            Some("ログイン")
        );
    }

    #[test]
    fn full_width_digits_are_read_as_digits() {
        let p = Profile::builtin();
        let m = read_page(&p, "<p>エラーコード：４６</p>").unwrap();
        assert_eq!(m.section, "2-2 46");
        let m = read_page(&p, "<p>エラーコード　：　５３</p>").unwrap();
        assert_eq!(m.section, "2-2 53");
    }

    #[test]
    fn pages_without_a_declared_charset_are_detected() {
        let text = "<html><body><p>ただいまアカウントがロックされています。エラーコード：46 管理者にお問い合わせください。</p></body></html>";
        for enc in [
            encoding_rs::SHIFT_JIS,
            encoding_rs::EUC_JP,
            encoding_rs::ISO_2022_JP,
            encoding_rs::UTF_8,
        ] {
            let bytes = enc.encode(text).0;
            let got = detect_charset(&bytes);
            assert_eq!(got, enc, "{}", enc.name());
            let (decoded, _, _) = got.decode(&bytes);
            let m = read_page(&Profile::builtin(), &decoded).unwrap();
            assert_eq!(m.section, "2-2 46", "{}", enc.name());
        }
    }

    #[test]
    fn the_expected_page_is_recognised_and_another_is_a_warning() {
        let expect = ExpectedPage {
            title: Some("ログイン".into()),
            text: Some("ユーザー\\s*ID".into()),
            form: false,
        };
        let good = "<title>ログイン</title><p>ユーザーID とパスワード</p>";
        assert!(expected(&expect, good));
        let f = || {
            Finding::new(
                "net.login.page",
                crate::finding::Phase::Network,
                crate::finding::Text::same("p"),
                "h",
            )
        };
        let r = unmatched_page(f(), Some(&expect), good, "2-1");
        assert_eq!(r.status, crate::finding::Status::Pass);
        let odd = "<title>Welcome to nginx!</title><p>It works</p>";
        let r = unmatched_page(f(), Some(&expect), odd, "2-1");
        assert_eq!(r.status, crate::finding::Status::Warn);
        assert!(r.detail.en.contains("Welcome to nginx!"), "{}", r.detail.en);
        assert_eq!(r.section.as_deref(), Some("2-1"));
        let r = unmatched_page(f(), None, odd, "2-1");
        assert_eq!(r.status, crate::finding::Status::Pass);
        let form = ExpectedPage {
            title: None,
            text: None,
            form: true,
        };
        assert!(!expected(&form, odd));
        assert!(expected(&form, "<FORM action=x></FORM>"));
    }
}

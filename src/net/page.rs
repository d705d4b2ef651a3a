//! Reading what a page says: the profile's patterns (error codes, guide messages) matched
//! against the decoded text of the page.

use crate::profile::{PageStatus, Profile};

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

/// Visible text of an HTML page: tags dropped (each becomes a space), common entities decoded,
/// script and style content skipped, white space collapsed.
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let after = &rest[i..];
        let lower: String = after.chars().take(8).flat_map(char::to_lowercase).collect();
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
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
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
    let text = visible_text(html);
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "ok &"
        );
        assert_eq!(
            title("<html><TITLE>ログイン</TITLE>").as_deref(),
            Some("ログイン")
        );
    }
}

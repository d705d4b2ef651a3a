//! Markdown rendering of a check (the body of the support report).

use super::{text, RenderOptions, Report};
use crate::guide::label;
use crate::text::escape::clean;

/// Escape text for a Markdown table cell or paragraph: no raw HTML, no pipes, no emphasis.
pub fn md(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '|' | '<' | '>' | '*' | '_' | '`' | '[' | ']' | '\\' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The findings as a Markdown table, with the verdict above it and the fixes below.
pub fn findings(report: &Report, opts: &RenderOptions) -> String {
    let lang = opts.lang;
    let mut out = String::new();
    out.push_str(&format!(
        "**{}** {}\n\n",
        label("verdict", lang),
        md(&report.verdict_line(lang))
    ));
    let rule = report.verdict().rule;
    if let Some((said, why)) = super::table::rule_words(rule, lang) {
        out.push_str(&format!("**{said}** `{rule}` — {}\n\n", md(&why)));
    }
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|\n",
        label("step", lang),
        label("target", lang),
        label("result", lang),
        label("detail", lang),
        label("guide", lang)
    ));
    for f in &report.findings {
        out.push_str(&format!(
            "| {} (`{}`) | {} | {} | {} | {} |\n",
            md(f.title.get(lang)),
            f.id,
            md(&super::shown_target(&f.target, lang)),
            label(&format!("status.{}", f.status.as_str()), lang),
            md(&text(&f.detail, lang)),
            f.section.as_deref().map(md).unwrap_or_default()
        ));
    }
    out
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    findings(report, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn markdown_escapes_server_text() {
        assert_eq!(md("a|b<script>"), "a\\|b\\<script\\>");
        let out = render(&sample::report(), &RenderOptions::default());
        assert!(out.contains("| Chain to root (`cert.chain`) |"), "{out}");
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn markdown_names_the_rule_that_decided() {
        let out = render(&sample::report(), &RenderOptions::default());
        assert!(
            out.contains("**Decided by:** `cause_of_observed_failures` — this finding explains"),
            "{out}"
        );
    }
}

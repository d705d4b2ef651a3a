//! JUnit XML: one testcase per finding, for CI dashboards.

use super::{ms, text, RenderOptions, Report};
use crate::finding::Status;

/// Escape for XML 1.0 text and attributes, dropping characters XML 1.0 cannot carry.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c as u32, 0xFFFE | 0xFFFF) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit's `timestamp` is an ISO 8601 date-time without a zone or fractions
/// (`xs:dateTime` restricted in the Ant/Jenkins JUnit schema); certprobe writes UTC.
fn timestamp(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let lang = opts.lang;
    let s = report.summary();
    let failures = report
        .findings
        .iter()
        .filter(|f| f.is_failure(opts.strict))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"certprobe\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">\n",
        report.findings.len(),
        report.duration.as_secs_f64()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"certprobe.{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">\n",
        xml(&report.profile),
        report.findings.len(),
        s.skip,
        report.duration.as_secs_f64(),
        timestamp(report.started)
    ));
    for f in &report.findings {
        let time = ms(f.elapsed).unwrap_or(0.0) / 1000.0;
        out.push_str(&format!(
            "    <testcase classname=\"certprobe.{}\" name=\"{} ({})\" time=\"{time:.3}\">\n",
            f.phase.as_str(),
            xml(&f.id),
            xml(&f.target)
        ));
        let detail = text(&f.detail, lang);
        let mut body = detail.clone();
        if let Some(sec) = &f.section {
            body.push_str(&format!("\nguide: {sec}"));
        }
        if let Some(fix) = &f.fix {
            body.push_str(&format!(
                "\nfix: {}",
                crate::text::escape::clean_multiline(fix.get(lang))
            ));
        }
        if f.is_failure(opts.strict) {
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                xml(&detail),
                f.status.as_str(),
                xml(&body)
            ));
        } else if f.status == Status::Skip {
            out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(&detail)));
        } else {
            out.push_str(&format!("      <system-out>{}</system-out>\n", xml(&body)));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn parses_as_xml_with_one_testcase_per_finding() {
        let out = render(&sample::report(), &RenderOptions::default());
        let doc = roxmltree::Document::parse(&out).expect("well-formed XML");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 6);
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        assert_eq!(failures, 2);
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("timestamp"), Some("2026-11-25T12:00:00"));
    }

    #[test]
    fn xml_escapes_and_drops_illegal_characters() {
        assert_eq!(xml("<a&\"b'>\u{1}"), "&lt;a&amp;&quot;b&apos;&gt;\\u{1}");
    }
}

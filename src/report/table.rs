//! The table people read: verdict above, one row per step, summary and fixes below.

use super::{text, RenderOptions, Report};
use crate::finding::{Lang, Status};
use crate::guide::label;
use crate::text::escape::clean_multiline;
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Attribute, Cell, Color, ContentArrangement, Table,
};

fn status_word(s: Status, lang: Lang) -> String {
    label(&format!("status.{}", s.as_str()), lang)
}

fn status_color(s: Status) -> Color {
    match s {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
        Status::Skip => Color::DarkGrey,
        Status::Info => Color::Cyan,
    }
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let lang = opts.lang;
    let mut out = String::new();
    let verdict = report.verdict();

    // Verdict: the most likely root cause and the one thing to do first.
    match verdict.cause {
        None => {
            out.push_str(&format!(
                "{} {}\n\n",
                label("verdict", lang),
                report.verdict_line(lang)
            ));
        }
        Some(cause) => {
            let mut line = format!("{} {}", label("verdict", lang), report.verdict_line(lang));
            if let Some(sec) = &cause.section {
                line.push_str(&format!(" [{} {}]", label("guide", lang), sec));
            }
            out.push_str(&paint(&line, opts.color, status_color(cause.status)));
            out.push('\n');
            if let Some((said, why)) = rule_words(verdict.rule, lang) {
                out.push_str(&format!("{said} {} — {why}\n", verdict.rule));
            }
            if let Some(fix) = verdict.first_do {
                out.push_str(&format!(
                    "{} {}\n",
                    label("first_do", lang),
                    text(fix, lang)
                ));
            }
            if !verdict.consequences.is_empty() {
                let ids: Vec<&str> = verdict.consequences.iter().map(|f| f.id.as_str()).collect();
                out.push_str(&format!(
                    "{} {}\n",
                    label("consequences", lang),
                    ids.join(", ")
                ));
            }
            out.push('\n');
        }
    }

    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = opts.width {
        table.set_width(w);
    }
    if opts.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let header = ["step", "target", "result", "detail", "guide"].map(|k| {
        let c = Cell::new(label(k, lang));
        if opts.color {
            c.add_attribute(Attribute::Bold)
        } else {
            c
        }
    });
    table.set_header(header);
    for f in &report.findings {
        if opts.quiet && !f.is_failure(opts.strict) {
            continue;
        }
        let mut result = status_word(f.status, lang);
        if let Some(ms) = super::ms(f.elapsed) {
            result.push_str(&format!("\n{ms:.0} ms"));
        }
        let mut detail = text(&f.detail, lang);
        if let Some(cause) = &f.consequence_of {
            detail = format!("{} {cause}: {detail}", label("because_of", lang));
        }
        let mut result_cell = Cell::new(result);
        if opts.color {
            result_cell = result_cell.fg(status_color(f.status));
        }
        table.add_row(vec![
            Cell::new(format!("{}\n{}", text(&f.title, lang), f.id)),
            Cell::new(super::shown_target(&f.target, lang)),
            result_cell,
            Cell::new(detail),
            Cell::new(f.section.clone().unwrap_or_default()),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');

    let s = report.summary();
    out.push_str(&format!(
        "{}: {} {}, {} {}, {} {}, {} {}, {} {} ({})\n",
        label("summary", lang),
        s.pass,
        label("summary.pass", lang),
        s.warn,
        label("summary.warn", lang),
        s.fail,
        label("summary.fail", lang),
        s.skip,
        label("summary.skip", lang),
        s.info,
        label("summary.info", lang),
        crate::text::human::duration(report.duration)
    ));

    // The fix for each failure (and warning), root causes first; consequences point at their cause.
    let mut fixes = String::new();
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
    {
        let head = format!(
            "[{}] {}{}",
            status_word(f.status, lang),
            f.id,
            f.section
                .as_ref()
                .map(|s| format!(" ({} {s})", label("guide", lang)))
                .unwrap_or_default()
        );
        let body = match (&f.consequence_of, &f.fix) {
            (Some(cause), _) => format!("{} {cause}", label("fix_cause_first", lang)),
            (None, Some(fix)) => clean_multiline(fix.get(lang)),
            (None, None) => continue,
        };
        fixes.push_str(&format!(
            "\n{}\n",
            paint(&head, opts.color, status_color(f.status))
        ));
        for line in body.lines() {
            fixes.push_str(&format!("  {line}\n"));
        }
    }
    if !fixes.is_empty() {
        out.push_str(&format!("\n{}\n", label("fixes", lang)));
        out.push_str(&fixes);
    }
    out
}

/// The label and the plain-words meaning of the diagnosis rule that chose the verdict (the rule's
/// name itself is shown beside them, as JSON has it); `None` before diagnosis.
pub(crate) fn rule_words(rule: &str, lang: Lang) -> Option<(String, String)> {
    (!rule.is_empty()).then(|| {
        (
            label("diagnose.rule", lang),
            label(&format!("diagnose.rule.{rule}"), lang),
        )
    })
}

fn paint(s: &str, color: bool, c: Color) -> String {
    if !color {
        return s.to_string();
    }
    let code = match c {
        Color::Green => "32",
        Color::Yellow => "33",
        Color::Red => "31",
        Color::Cyan => "36",
        _ => "90",
    };
    format!("\x1b[1;{code}m{s}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn table_has_verdict_rows_summary_and_fixes() {
        let out = render(&sample::report(), &RenderOptions::default());
        let first = out.lines().next().unwrap();
        assert!(
            first.contains("intermediate `SECOM Passport for Member PUB CA1` not found"),
            "{out}"
        );
        assert!(first.contains("2-1 (7)"), "{out}");
        assert!(out.contains("Import the intermediate certificate."));
        assert!(out.contains("net.login.tls"));
        assert!(out.contains("because of cert.chain"), "{out}");
        assert!(out.contains("Summary: 1 passed, 1 warning(s)"), "{out}");
        assert!(
            !out.contains('\u{1b}'),
            "raw escape reached the table: {out}"
        );
        assert!(out.contains("\\u{1b}]0;pwned"));
    }

    #[test]
    fn the_rule_that_decided_is_shown_in_both_languages() {
        let out = render(&sample::report(), &RenderOptions::default());
        assert!(
            out.contains(
                "Decided by: cause_of_observed_failures — this finding explains other failures"
            ),
            "{out}"
        );
        let ja = RenderOptions {
            lang: Lang::Ja,
            ..Default::default()
        };
        let out = render(&sample::report(), &ja);
        assert!(
            out.contains("判定の根拠: cause_of_observed_failures — この項目で"),
            "{out}"
        );
        assert_eq!(rule_words("", Lang::En), None);
    }

    #[test]
    fn japanese_headers_and_text() {
        let opts = RenderOptions {
            lang: Lang::Ja,
            ..Default::default()
        };
        let out = render(&sample::report(), &opts);
        assert!(out.contains("ステップ"), "{out}");
        assert!(out.contains("中間証明書をインポートしてください。"));
    }

    #[test]
    fn colour_only_when_asked() {
        let opts = RenderOptions {
            color: true,
            ..Default::default()
        };
        assert!(render(&sample::report(), &opts).contains("\x1b["));
    }

    #[test]
    fn quiet_shows_only_failures() {
        let opts = RenderOptions {
            quiet: true,
            ..Default::default()
        };
        let out = render(&sample::report(), &opts);
        assert!(!out.contains("trust.roots"));
        assert!(out.contains("cert.chain"));
    }
}

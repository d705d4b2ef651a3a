//! Nagios / Icinga plugin output: one status line, `|` perfdata, then long text.
//! Exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

use super::{text, RenderOptions, Report};
use crate::finding::Status;
use crate::guide::label;
use crate::text::escape::clean;

pub fn exit_code(report: &Report) -> u8 {
    let s = report.summary();
    if s.fail > 0 {
        2
    } else if s.warn > 0 {
        1
    } else {
        0
    }
}

pub fn state_word(code: u8) -> &'static str {
    match code {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        _ => "UNKNOWN",
    }
}

/// `'label'=value[UOM];[warn];[crit];[min];[max]`; labels are finding ids (no `'` or `=`).
fn perf_label(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c == '\'' || c == '=' || c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("'{safe}'")
}

/// The output for a run that could not check anything (bad input, internal error):
/// state UNKNOWN, exit 3, as the plugin guidelines have it for invalid arguments.
pub fn unknown(message: &str) -> String {
    let one_line = clean(message.lines().next().unwrap_or_default()).replace('|', "/");
    format!("CERTPROBE UNKNOWN - {one_line}\n")
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let code = exit_code(report);
    let s = report.summary();
    // The status line must not contain `|` (perfdata separator) or a newline.
    let verdict = report.verdict_line(opts.lang).replace('|', "/");
    let lang = opts.lang;
    let mut out = format!(
        "CERTPROBE {} - {} ({} {}, {} {}, {} {})",
        state_word(code),
        verdict,
        s.fail,
        label("summary.fail", lang),
        s.warn,
        label("summary.warn", lang),
        s.pass,
        label("summary.pass", lang)
    );
    let mut perf = vec![format!(
        "'duration'={:.3}s;;;0;",
        report.duration.as_secs_f64()
    )];
    for st in [Status::Fail, Status::Warn, Status::Pass] {
        perf.push(format!("'{}'={};;;0;", st.as_str(), s.count(st)));
    }
    for f in &report.findings {
        if let Some(d) = f.elapsed {
            perf.push(format!(
                "{}={:.3}s;;;0;",
                perf_label(&f.id),
                d.as_secs_f64()
            ));
        }
    }
    out.push_str(" | ");
    out.push_str(&perf.join(" "));
    out.push('\n');
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
    {
        let line = format!(
            "[{}] {} {}: {}{}",
            f.status.as_str().to_uppercase(),
            f.id,
            clean(&f.target),
            text(&f.detail, opts.lang),
            f.section
                .as_ref()
                .map(|s| format!(" ({} {s})", label("guide", opts.lang)))
                .unwrap_or_default()
        );
        out.push_str(&line.replace('|', "/"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn status_line_and_perfdata() {
        let out = render(&sample::report(), &RenderOptions::default());
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("CERTPROBE CRITICAL - "), "{first}");
        let (_, perf) = first.split_once(" | ").unwrap();
        assert!(perf.contains("'net.login.tls'=0.031s;;;0;"), "{perf}");
        assert_eq!(exit_code(&sample::report()), 2);
    }

    #[test]
    fn unknown_is_one_status_line() {
        assert_eq!(
            unknown("cannot read profile x|y\nsecond line"),
            "CERTPROBE UNKNOWN - cannot read profile x/y\n"
        );
    }
}

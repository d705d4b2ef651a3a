//! The first screen a person sees: the verdict and the one thing to do first, then one line per
//! group of steps (local, environment, each endpoint) with ✓ / ✗ / !, and only the failing and
//! warning steps spelled out. Each fix is printed once, however many findings share it. The full
//! step table is one flag away (`--details`, [`super::table`]).

use super::{text, RenderOptions, Report};
use crate::finding::{Finding, Lang, Phase, Status};
use crate::guide::label;
use crate::text::escape::clean_multiline;

/// Width when the terminal's is not known.
const DEFAULT_WIDTH: usize = 100;

/// A group of findings shown as one line.
struct Group<'a> {
    /// `local`, `environment`, or the endpoint's id.
    key: String,
    findings: Vec<&'a Finding>,
}

/// Local, environment, then each endpoint in the order its first step appears; anything else last.
fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut out: Vec<Group> = Vec::new();
    for f in &report.findings {
        let key = match f.phase {
            Phase::Local => "local".to_string(),
            Phase::Environment => "environment".to_string(),
            Phase::Network => match f.id.split('.').collect::<Vec<_>>().as_slice() {
                ["net", ep, _, ..] => format!("net.{ep}"),
                _ => "other".to_string(),
            },
        };
        match out.iter_mut().find(|g| g.key == key) {
            Some(g) => g.findings.push(f),
            None => out.push(Group {
                key,
                findings: vec![f],
            }),
        }
    }
    out
}

/// The worst status of a group: fail, then warn, else pass (info and skip alone count as pass).
fn worst(fs: &[&Finding]) -> Status {
    if fs.iter().any(|f| f.status == Status::Fail) {
        Status::Fail
    } else if fs.iter().any(|f| f.status == Status::Warn) {
        Status::Warn
    } else {
        Status::Pass
    }
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Warn => "!",
        Status::Skip => "–",
        Status::Info => "i",
    }
}

fn paint(s: &str, opts: &RenderOptions, status: Status) -> String {
    if !opts.color {
        return s.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "31",
        Status::Info => "36",
        Status::Skip => "90",
    };
    format!("\x1b[1;{code}m{s}\x1b[0m")
}

/// The title an endpoint's steps share ("Log-in site" of "Log-in site: TLS handshake").
fn endpoint_label(g: &Group, lang: Lang) -> String {
    let title = text(&g.findings[0].title, lang);
    for sep in [": ", "：", ":"] {
        if let Some((head, _)) = title.split_once(sep) {
            return head.trim().to_string();
        }
    }
    g.key.trim_start_matches("net.").to_string()
}

/// The host (and port) an endpoint's steps talk to: the TCP step's target, else the first one's.
fn endpoint_target(g: &Group) -> String {
    g.findings
        .iter()
        .find(|f| f.id.ends_with(".tcp"))
        .or_else(|| g.findings.first())
        .map(|f| crate::text::escape::clean(&f.target))
        .unwrap_or_default()
}

fn strip_endpoint(title: &str, endpoint: &str) -> String {
    title
        .strip_prefix(endpoint)
        .map(|t| t.trim_start_matches([':', '：', ' ']).to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| title.to_string())
}

fn step_name(f: &Finding, lang: Lang) -> String {
    let step = f.id.rsplit('.').next().unwrap_or(&f.id);
    let key = format!("short.{step}");
    let l = label(&key, lang);
    if l == key {
        step.to_string()
    } else {
        l
    }
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let lang = opts.lang;
    let width = opts.width.map(usize::from).unwrap_or(DEFAULT_WIDTH);
    let mut out = String::new();
    let verdict = report.verdict();

    // 1. The verdict and the first thing to do.
    let mut shown_fixes: Vec<String> = Vec::new();
    match verdict.cause {
        None => {
            let line = format!("{} {}", label("verdict", lang), label("verdict.ok", lang));
            out.push_str(&paint(&line, opts, Status::Pass));
            out.push('\n');
        }
        Some(cause) => {
            let mut line = format!("{} {}", label("verdict", lang), report.verdict_line(lang));
            if let Some(sec) = &cause.section {
                line.push_str(&format!(" [{} {sec}]", label("guide", lang)));
            }
            let mut v = String::new();
            crate::text::wrap::wrap_into(&mut v, &line, width, "", "  ");
            out.push_str(&paint(v.trim_end(), opts, cause.status));
            out.push('\n');
            if let Some(fix) = &cause.fix {
                let fix = clean_multiline(fix.get(lang));
                for (i, para) in fix.lines().enumerate() {
                    let head = if i == 0 {
                        format!("{} ", label("first_do", lang))
                    } else {
                        "  ".to_string()
                    };
                    crate::text::wrap::wrap_into(&mut out, para, width, &head, "  ");
                }
                shown_fixes.push(fix);
            }
        }
    }
    out.push('\n');

    // 2. One line per group; failing and warning steps spelled out beneath it.
    for g in groups(report) {
        let status = worst(&g.findings);
        if opts.quiet && status == Status::Pass {
            continue;
        }
        let head = match g.key.as_str() {
            "local" | "environment" | "other" => label(&format!("group.{}", g.key), lang),
            _ => format!("{}  {}", endpoint_label(&g, lang), endpoint_target(&g)),
        };
        let summary = if g.key.starts_with("net.") {
            g.findings
                .iter()
                .filter(|f| f.status != Status::Info)
                .map(|f| format!("{} {}", step_name(f, lang), mark(f.status)))
                .collect::<Vec<_>>()
                .join("  ")
        } else {
            let ok = g
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Pass | Status::Info))
                .count();
            label("compact.steps_ok", lang).replace("{n}", &ok.to_string())
        };
        let mut line = String::new();
        crate::text::wrap::wrap_into(
            &mut line,
            &format!("{head}  ·  {summary}"),
            width,
            "  ",
            "    ",
        );
        out.push_str(&paint(mark(status), opts, status));
        out.push_str(&line[1..]);
        for f in g
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        {
            let mut detail = text(&f.detail, lang);
            if let Some(cause) = &f.consequence_of {
                detail = format!("{} {cause}: {detail}", label("because_of", lang));
            }
            let title = text(&f.title, lang);
            // An endpoint's steps are titled "<endpoint>: <step>"; the group line names the endpoint.
            let title = match g.key.starts_with("net.") {
                true => strip_endpoint(&title, &endpoint_label(&g, lang)),
                false => title,
            };
            let mut line = format!("{title}: {detail}");
            if let Some(sec) = &f.section {
                line.push_str(&format!(" [{sec}]"));
            }
            let first = format!("    {} ", paint(mark(f.status), opts, f.status));
            // The mark's colour codes do not take up columns: wrap on the plain text.
            let mut wrapped = String::new();
            crate::text::wrap::wrap_into(&mut wrapped, &line, width, "      ", "      ");
            out.push_str(&first);
            out.push_str(wrapped.trim_start());
        }
    }

    // 3. Each remaining fix once, with the sections it serves.
    let mut fixes: Vec<(String, Vec<String>)> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && f.consequence_of.is_none())
    {
        let Some(fix) = &f.fix else { continue };
        let fix = clean_multiline(fix.get(lang));
        if shown_fixes.contains(&fix) {
            continue;
        }
        let section = f.section.clone().unwrap_or_else(|| f.id.clone());
        match fixes.iter_mut().find(|(t, _)| *t == fix) {
            Some((_, secs)) if !secs.contains(&section) => secs.push(section),
            Some(_) => {}
            None => fixes.push((fix, vec![section])),
        }
    }
    if !fixes.is_empty() {
        out.push_str(&format!("\n{}\n", label("fixes", lang)));
        for (fix, secs) in fixes {
            out.push_str(&format!("  [{}]\n", secs.join(", ")));
            for para in fix.lines() {
                crate::text::wrap::wrap_into(&mut out, para, width, "    ", "    ");
            }
        }
    }

    // 4. The counts, and where the rest is.
    let s = report.summary();
    let summary = format!(
        "{}: {} {}, {} {}, {} {}, {} {}, {} {} ({})  ·  {}",
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
        crate::text::duration(report.duration),
        label("compact.details_hint", lang),
    );
    out.push('\n');
    crate::text::wrap::wrap_into(&mut out, &summary, width, "", "  ");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn verdict_first_then_groups_and_only_failing_steps() {
        let out = render(&sample::report(), &RenderOptions::default());
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("Verdict:"), "{out}");
        assert!(
            out.contains("First do: Import the intermediate certificate."),
            "{out}"
        );
        assert!(
            out.contains("✗ Certificate, key, chain and trust store"),
            "{out}"
        );
        // A passing step is counted, not spelled out.
        assert!(!out.contains("S47000001, issued by"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.contains("--details"), "{out}");
    }

    #[test]
    fn a_fix_shared_by_several_findings_is_printed_once() {
        let mut r = sample::report();
        let extra = r.findings[1].clone();
        let mut twin = extra.clone();
        twin.id = "cert.sent_chain".into();
        r.findings.insert(2, twin);
        let out = render(&r, &RenderOptions::default());
        assert_eq!(
            out.matches("Import the intermediate certificate.").count(),
            1,
            "{out}"
        );
    }

    #[test]
    fn japanese_labels() {
        let opts = RenderOptions {
            lang: Lang::Ja,
            ..Default::default()
        };
        let out = render(&sample::report(), &opts);
        assert!(out.starts_with("診断:"), "{out}");
        assert!(
            out.contains("証明書・秘密鍵・チェーン・信頼ストア"),
            "{out}"
        );
    }

    #[test]
    fn lines_fit_the_width() {
        let opts = RenderOptions {
            width: Some(60),
            ..Default::default()
        };
        let out = render(&sample::report(), &opts);
        for line in out.lines() {
            assert!(
                textwrap::core::display_width(line) <= 60,
                "{} columns: {line}",
                textwrap::core::display_width(line)
            );
        }
    }
}

//! The report as one self-contained HTML page: inline CSS and SVG, no script, no external font
//! or image. Verdict and first step on top; the certificate chain and the route of each
//! endpoint drawn; every finding grouped by phase, failures first; the guide's [1]–[6] blanks
//! as a printable form.
//!
//! Templates are `maud` macros: every string from a finding, a certificate or a server is
//! escaped by the template engine (and its control characters made visible by
//! [`crate::text::escape::clean`]). Every label comes from the guide catalogue.

mod model;
mod pictures;

use super::support::{scrub, SupportReport};
use super::{RenderOptions, Report};
use crate::finding::{Finding, Lang, Phase, Status, Text};
use crate::guide::label;
use crate::text::escape::{clean, clean_multiline};
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = include_str!("style.css");

/// A check's report as HTML (`check --format html`, `demo --format html`): the form's blanks
/// are left to fill in by hand.
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    page(report, None, opts.lang).into_string()
}

/// The support report as HTML (`report --format html`), the form prefilled from the flags,
/// with the same secret and redaction rules as the Markdown report.
pub fn render_support(r: &SupportReport<'_>, opts: &RenderOptions, secrets: &[String]) -> String {
    let out = page(r.report, Some(r), opts.lang).into_string();
    // A secret or a redacted name may appear as written or HTML-escaped: scrub both spellings.
    let both = |v: &[String]| -> Vec<String> {
        let mut all: Vec<String> = v
            .iter()
            .flat_map(|s| [s.clone(), escape(s)])
            .filter(|s| !s.is_empty())
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
        all
    };
    scrub(out, &both(secrets), &both(&r.redactions()))
}

/// HTML-escaped as the templates write it.
fn escape(s: &str) -> String {
    html! { (s) }.into_string()
}

fn page(report: &Report, support: Option<&SupportReport<'_>>, lang: Lang) -> Markup {
    let title = match support {
        Some(_) => label("report.title", lang),
        None => label("html.title", lang),
    };
    let today = report.started.date();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " — " (clean(&report.profile)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.top {
                    h1 { (title) }
                    p.meta {
                        (label("report.generated_by", lang)) " certprobe " (clean(&report.tool_version))
                        " · " (started(report))
                        " · " (label("report.profile", lang)) " " code { (clean(&report.profile)) }
                    }
                }
                (verdict(report, lang))
                (summary(report, lang))
                (pictures::chain_section(report, today, lang))
                (pictures::routes_section(report, lang))
                (findings_section(report, lang))
                (form(support, lang))
                @if let Some(s) = support {
                    (details(s, lang))
                }
                footer { p { (label("report.footer", lang)) } }
            }
        }
    }
}

/// `2026-12-07 00:45:49 UTC`.
fn started(report: &Report) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    report
        .started
        .to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

fn status_class(s: Status) -> String {
    format!("st-{}", s.as_str())
}

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Info => "i",
        Status::Skip => "–",
        Status::Warn => "!",
        Status::Fail => "✗",
    }
}

fn status_word(s: Status, lang: Lang) -> String {
    label(&format!("status.{}", s.as_str()), lang)
}

/// Icon and word together: the status never rests on colour alone.
fn badge(s: Status, lang: Lang) -> Markup {
    html! {
        span class={ "badge " (status_class(s)) } {
            span.icon aria-hidden="true" { (icon(s)) }
            " " (status_word(s, lang))
        }
    }
}

fn t(x: &Text, lang: Lang) -> String {
    clean(x.get(lang))
}

fn multiline(s: &str) -> Markup {
    let s = clean_multiline(s);
    html! {
        @for (i, line) in s.split('\n').enumerate() {
            @if i > 0 { br; }
            (line)
        }
    }
}

fn section_link(id: &str, lang: Lang) -> Markup {
    let title = crate::guide::catalogue()
        .find(id)
        .map(|s| t(&s.title, lang));
    html! {
        span.guide {
            (label("guide", lang)) " " strong { (clean(id)) }
            @if let Some(title) = title { " — " (title) }
        }
    }
}

fn verdict(report: &Report, lang: Lang) -> Markup {
    let v = report.verdict();
    let status = v.cause.map(|c| c.status).unwrap_or(Status::Pass);
    html! {
        section #verdict class={ "verdict " (status_class(status)) } data-cause=[v.cause.map(|c| clean(&c.id))] {
            div.big-icon aria-hidden="true" { (icon(status)) }
            div.verdict-body {
                p.verdict-label { (label("verdict", lang).trim_end_matches([':', '：'])) " · " (status_word(status, lang)) }
                @match v.cause {
                    None => { p.verdict-line { (label("verdict.ok", lang)) } }
                    Some(c) => {
                        p.verdict-line { (t(&c.title, lang)) }
                        p.verdict-detail { (t(&c.detail, lang)) }
                        @if let Some(fix) = &c.fix {
                            div #first-do .first-do {
                                h2 { (label("first_do", lang).trim_end_matches([':', '：'])) }
                                p { (multiline(fix.get(lang))) }
                            }
                        }
                        @if let Some(sec) = &c.section { p { (section_link(sec, lang)) } }
                        @if !v.consequences.is_empty() {
                            p.consequences {
                                (label("consequences", lang)) " "
                                @for (i, f) in v.consequences.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    code { (clean(&f.id)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn summary(report: &Report, lang: Lang) -> Markup {
    let s = report.summary();
    html! {
        p.summary aria-label=(label("summary", lang)) {
            @for st in [Status::Fail, Status::Warn, Status::Pass, Status::Skip, Status::Info] {
                span class={ "chip " (status_class(st)) } {
                    span.icon aria-hidden="true" { (icon(st)) } " " (s.count(st)) " " (label(&format!("summary.{}", st.as_str()), lang))
                }
            }
        }
    }
}

pub(crate) fn ms(f: &Finding, lang: Lang) -> Option<String> {
    f.elapsed
        .map(|d| label("html.ms", lang).replace("{n}", &format!("{:.1}", d.as_secs_f64() * 1e3)))
}

fn phase_label(p: Phase, lang: Lang) -> String {
    match p {
        Phase::Local => label("html.phase.local", lang),
        Phase::Environment => label("html.phase.environment", lang),
        Phase::Network => label("html.phase.network", lang),
    }
}

/// The findings of each phase, failures first (the check's order kept within a status).
fn by_phase(report: &Report) -> Vec<(Phase, Vec<&Finding>)> {
    [Phase::Local, Phase::Environment, Phase::Network]
        .into_iter()
        .map(|phase| {
            let mut fs: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.phase == phase)
                .collect();
            fs.sort_by_key(|f| std::cmp::Reverse(f.status));
            (phase, fs)
        })
        .filter(|(_, fs)| !fs.is_empty())
        .collect()
}

fn findings_section(report: &Report, lang: Lang) -> Markup {
    html! {
        section #findings .card {
            h2 { (label("html.findings", lang)) }
            @for (phase, fs) in by_phase(report) {
                h3 { (phase_label(phase, lang)) }
                ul.findings {
                    @for f in fs { (finding(f, lang)) }
                }
            }
        }
    }
}

fn finding(f: &Finding, lang: Lang) -> Markup {
    html! {
        li class={ "finding " (status_class(f.status)) } data-id=(clean(&f.id)) {
            div.f-head {
                (badge(f.status, lang))
                span.f-title { (t(&f.title, lang)) }
                code.f-id { (clean(&f.id)) }
            }
            p.f-detail { (t(&f.detail, lang)) }
            p.f-target { span.k { (label("target", lang)) } " " (crate::report::shown_target(&f.target, lang))
                @if let Some(m) = ms(f, lang) { " · " (m) }
            }
            @if let Some(c) = &f.consequence_of {
                p.f-because { (label("because_of", lang)) " " code { (clean(c)) } }
            }
            @if let Some(sec) = &f.section { p { (section_link(sec, lang)) } }
            @if f.status >= Status::Warn {
                @if let Some(fix) = &f.fix {
                    div.fix { span.k { (label("html.fix", lang)) } p { (multiline(fix.get(lang))) } }
                }
            }
        }
    }
}

/// The guide's [1]–[6]: what the support desk asks for, as a form to print and fill in.
fn form(support: Option<&SupportReport<'_>>, lang: Lang) -> Markup {
    let person = support.map(|s| &s.person);
    let os = support.map(|s| {
        format!(
            "{} ({})",
            clean(&s.environment.os),
            clean(&s.environment.arch)
        )
    });
    let rows: [(u8, String, Option<String>, Option<String>); 6] = [
        (
            1,
            label("report.message", lang),
            person.and_then(|p| p.message.clone()),
            None,
        ),
        (
            2,
            label("report.screen", lang),
            None,
            Some(label("report.screen.hint", lang)),
        ),
        (
            3,
            label("report.what_i_did", lang),
            person.and_then(|p| p.what_i_did.clone()),
            None,
        ),
        (
            4,
            label("report.user_id", lang),
            person.and_then(|p| p.user_id.clone()),
            None,
        ),
        (5, label("report.browser", lang), None, None),
        (6, label("report.os", lang), os, None),
    ];
    html! {
        section #form .card {
            h2 { (label("report.person", lang)) }
            table.form {
                tbody {
                    @for (n, name, value, hint) in rows {
                        @let value = value.filter(|v| !v.trim().is_empty());
                        tr {
                            th scope="row" { "[" (n) "] " (name) }
                            td class=(if value.is_some() { "filled" } else { "blank" }) {
                                @match value {
                                    Some(v) => { (multiline(&v)) }
                                    None => {
                                        span.hint { (hint.unwrap_or_else(|| label("report.blank", lang))) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Certificates, environment and endpoints of the support report.
fn details(s: &SupportReport<'_>, lang: Lang) -> Markup {
    let pairs = |v: &[(String, String)]| -> String {
        if v.is_empty() {
            label("report.none", lang)
        } else {
            v.iter()
                .map(|(k, v)| format!("{}={}", clean(k), clean(v)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    html! {
        section #details .card {
            h2 { (label("report.certificates", lang)) }
            @if s.certificates.is_empty() && s.certificate_notes.is_empty() {
                p.muted { (label("report.no_certificates", lang)) }
            }
            ul.certs {
                @for c in &s.certificates {
                    li {
                        strong { (clean(&c.subject)) } " (" (clean(&c.source)) ")"
                        br; span.k { (label("report.issuer", lang)) } " " (clean(&c.issuer))
                        br; span.k { (label("report.serial", lang)) } " " (clean(&c.serial))
                        br; span.k { (label("report.validity", lang)) } " " (clean(&c.not_before)) " – " (clean(&c.not_after))
                        br; span.k { "SHA-256" } " " code.fp { (clean(&c.sha256)) }
                    }
                }
                @for n in &s.certificate_notes { li { (clean(n)) } }
            }
            h2 { (label("report.environment", lang)) }
            dl.env {
                dt { (label("report.os", lang)) } dd { (clean(&s.environment.os)) }
                dt { (label("report.arch", lang)) } dd { (clean(&s.environment.arch)) }
                dt { (label("report.locale", lang)) } dd { (pairs(&s.environment.locale)) }
                dt { (label("report.proxy", lang)) } dd { (pairs(&s.environment.proxy)) }
                dt { (label("report.profile", lang)) } dd {
                    code { (clean(&s.report.profile)) }
                    @if let Some(t) = &s.profile_title { " — " (clean(t)) }
                }
            }
            ul.endpoints {
                @for (id, url) in &s.endpoints { li { code { (clean(id)) } " " (clean(url)) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn server_strings_are_escaped_and_control_characters_made_visible() {
        let mut r = sample::report();
        r.findings[0].detail = Text::same("<script>alert(1)</script> & \"x\" \u{1b}[31m");
        r.findings[0].target = "<img src=x onerror=alert(1)>".into();
        let out = render(&r, &RenderOptions::default());
        assert!(!out.contains("<script>alert"), "{out}");
        assert!(!out.contains("<img src=x"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'));
        assert!(!out.contains("<script") && !out.contains("http://") && !out.contains("https://"));
    }

    #[test]
    fn verdict_first_do_and_failures_first() {
        let r = sample::report();
        let out = render(&r, &RenderOptions::default());
        let verdict = out.find("id=\"verdict\"").unwrap();
        let first_do = out.find("id=\"first-do\"").unwrap();
        assert!(verdict < first_do && first_do < out.find("id=\"chain\"").unwrap());
        assert!(out.contains("Import the intermediate certificate."));
        // In the local phase, the failing chain comes before the passing load.
        let local = &out[out.find("id=\"findings\"").unwrap()..];
        assert!(
            local.find("data-id=\"cert.chain\"").unwrap()
                < local.find("data-id=\"cert.load\"").unwrap()
        );
        assert!(out.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        let ja = render(
            &r,
            &RenderOptions {
                lang: Lang::Ja,
                ..Default::default()
            },
        );
        assert!(ja.contains("<html lang=\"ja\">") && ja.contains(&label("html.chain", Lang::Ja)));
    }

    #[test]
    fn support_html_is_prefilled_redacted_and_scrubbed() {
        let mut rep = sample::report();
        rep.findings[0].detail = Text::same("pw hunter22secret and p<w&d>long-one");
        let s = SupportReport {
            report: &rep,
            profile_title: None,
            endpoints: vec![],
            environment: crate::report::support::Environment {
                os: "Debian GNU/Linux 12".into(),
                arch: "x86_64".into(),
                ..Default::default()
            },
            certificates: vec![],
            certificate_notes: vec![],
            person: crate::report::support::PersonFacts {
                message: Some("page <b>cannot</b> be shown".into()),
                what_i_did: None,
                user_id: Some("user-4711".into()),
            },
            private_files: vec!["/home/yamada.taro/me.p12".into()],
            redact: true,
        };
        let secrets = ["hunter22secret".to_string(), "p<w&d>long-one".to_string()];
        let out = render_support(&s, &RenderOptions::default(), &secrets);
        assert!(
            out.contains("page &lt;b&gt;cannot&lt;/b&gt; be shown"),
            "{out}"
        );
        assert!(out.contains("Debian GNU/Linux 12 (x86_64)"));
        assert!(!out.contains("user-4711") && out.contains("[redacted]"));
        assert!(!out.contains("yamada.taro"), "{out}");
        assert!(
            !out.contains("hunter22secret") && !out.contains("long-one"),
            "{out}"
        );
        assert!(out.contains("pw [removed] and [removed]"), "{out}");
    }
}

//! The JSON document scripts read. Its shape is pinned by `schema/report.schema.json`;
//! `schema_version` changes whenever a field changes meaning or goes away.

use super::{ms, text, RenderOptions, Report, Summary, SCHEMA_VERSION};
use serde::Serialize;

/// Field order is the document's order: the verdict a person acts on comes first.
#[derive(Serialize)]
struct Doc<'a> {
    verdict: Option<VerdictDoc>,
    schema_version: u32,
    tool: Tool<'a>,
    profile: &'a str,
    lang: &'static str,
    started: String,
    duration_ms: f64,
    summary: Summary,
    exit_code: u8,
    findings: Vec<FindingDoc<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct VerdictDoc {
    /// Id of the finding that is the root cause.
    cause: String,
    status: &'static str,
    section: Option<String>,
    /// One line: the cause's title and what was seen.
    summary: String,
    first_action: Option<String>,
    /// Ids of the findings the cause explains.
    consequences: Vec<String>,
    /// The diagnosis rule that chose the cause.
    rule: String,
}

#[derive(Serialize)]
struct FindingDoc<'a> {
    id: &'a str,
    phase: &'static str,
    title: String,
    target: String,
    status: &'static str,
    detail: String,
    section: Option<&'a str>,
    fix: Option<String>,
    elapsed_ms: Option<f64>,
    consequence_of: Option<&'a str>,
    data: serde_json::Value,
}

pub fn to_value(report: &Report, opts: &RenderOptions) -> serde_json::Value {
    serde_json::to_value(doc(report, opts)).unwrap_or(serde_json::Value::Null)
}

fn doc<'a>(report: &'a Report, opts: &RenderOptions) -> Doc<'a> {
    let lang = opts.lang;
    let v = report.verdict();
    Doc {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "certprobe",
            version: &report.tool_version,
        },
        profile: &report.profile,
        lang: lang.code(),
        started: report
            .started
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: ms(Some(report.duration)).unwrap_or(0.0),
        verdict: v.cause.map(|c| VerdictDoc {
            cause: c.id.clone(),
            status: c.status.as_str(),
            section: c.section.clone(),
            summary: report.verdict_line(lang),
            first_action: v
                .first_do
                .map(|f| crate::text::escape::clean_multiline(f.get(lang))),
            consequences: v.consequences.iter().map(|f| f.id.clone()).collect(),
            rule: v.rule.to_string(),
        }),
        summary: report.summary(),
        exit_code: report.exit_code(opts.strict),
        findings: report
            .findings
            .iter()
            .map(|f| FindingDoc {
                id: &f.id,
                phase: f.phase.as_str(),
                title: text(&f.title, lang),
                target: crate::text::escape::clean(&f.target),
                status: f.status.as_str(),
                detail: text(&f.detail, lang),
                section: f.section.as_deref(),
                fix: f
                    .fix
                    .as_ref()
                    .map(|t| crate::text::escape::clean_multiline(t.get(lang))),
                elapsed_ms: ms(f.elapsed),
                consequence_of: f.consequence_of.as_deref(),
                data: clean_value(&f.data),
            })
            .collect(),
    }
}

/// Structured data may hold server-controlled strings: escape them as everywhere else.
fn clean_value(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(crate::text::escape::clean(s)),
        Value::Array(a) => Value::Array(a.iter().map(clean_value).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (crate::text::escape::clean(k), clean_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The document as text, fields in their declared order (`verdict` first).
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut s = serde_json::to_string_pretty(&doc(report, opts)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn json_carries_verdict_and_findings() {
        let v = to_value(&sample::report(), &RenderOptions::default());
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["verdict"]["cause"], "cert.chain");
        assert_eq!(v["verdict"]["consequences"][0], "net.login.tls");
        assert_eq!(v["verdict"]["rule"], "cause_of_observed_failures");
        assert_eq!(v["findings"].as_array().unwrap().len(), 6);
        assert_eq!(v["findings"][0]["elapsed_ms"], 1.2);
        assert_eq!(v["exit_code"], 1);
        assert!(
            !v.to_string().contains("\\u001b"),
            "control character survived: {v}"
        );
    }

    #[test]
    fn the_verdict_comes_first_in_the_document() {
        let s = render(&sample::report(), &RenderOptions::default());
        assert!(s.starts_with("{\n  \"verdict\": {"), "{}", &s[..80]);
    }
}

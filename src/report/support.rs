//! The support report: one Markdown (or JSON) document a person attaches to an e-mail to the
//! support desk. It carries what the guide asks for — [1] the error message, [2] the screen,
//! [3] what was done, [4] user ID, [5] browser, [6] OS — with the check's findings, the
//! environment and certificate summaries. It never carries a key, a password or a proxy
//! credential: the caller hands in only summaries, and [`scrub`] removes anything listed as secret
//! from the finished text as a last guard.

use super::markdown::md;
use super::{text, RenderOptions, Report};
use crate::finding::Lang;
use crate::guide::label;
use crate::text::escape::clean;
use serde::Serialize;

/// What only the person knows ([1], [3], [4]); empty fields are printed as blanks to fill in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonFacts {
    pub message: Option<String>,
    pub what_i_did: Option<String>,
    pub user_id: Option<String>,
}

/// The computer the check ran on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Environment {
    /// Operating system name and version, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os: String,
    pub arch: String,
    /// Locale variables as set (`LANG=ja_JP.UTF-8`), and the language of this report.
    pub locale: Vec<(String, String)>,
    /// Proxy settings with credentials removed (`HTTPS_PROXY=http://proxy:8080`).
    pub proxy: Vec<(String, String)>,
}

/// One certificate, as a person and the support desk read it. Never a key.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    /// Where it came from (`--cert client.p12`, `--trust root.pem`).
    pub source: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    /// A CA certificate (its subject is public and never masked).
    pub is_ca: bool,
}

/// Everything the support report shows.
pub struct SupportReport<'a> {
    pub report: &'a Report,
    pub profile_title: Option<String>,
    /// Endpoint id and URL (per-user parts left as placeholders).
    pub endpoints: Vec<(String, String)>,
    pub environment: Environment,
    pub certificates: Vec<CertSummary>,
    /// Files that could not be summarised, with the reason.
    pub certificate_notes: Vec<String>,
    pub person: PersonFacts,
    /// The files that name the person (`--cert`, `--key`, `--password-file`), as given: masked
    /// with `redact`, the whole path and the file name alone.
    pub private_files: Vec<String>,
    /// Mask the user ID, certificate serials, the subjects and SHA-256 fingerprints of
    /// end-entity certificates, and the paths of `private_files`.
    pub redact: bool,
}

pub const REDACTED: &str = "[redacted]";
pub const REMOVED: &str = "[removed]";

impl SupportReport<'_> {
    /// Strings `--redact` masks wherever they appear: the user ID, every serial, each
    /// end-entity certificate's subject, common name and SHA-256 fingerprint (in the spellings
    /// certprobe uses), and the personal files' paths and names.
    pub(crate) fn redactions(&self) -> Vec<String> {
        if !self.redact {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(u) = &self.person.user_id {
            out.push(u.clone());
        }
        for c in &self.certificates {
            out.push(c.serial.clone());
            if !c.is_ca {
                let bare = c.sha256.replace(':', "");
                out.push(bare.to_ascii_lowercase());
                out.push(bare.to_ascii_uppercase());
                out.push(c.sha256.to_ascii_uppercase());
                out.push(c.sha256.to_ascii_lowercase());
                out.push(c.subject.clone());
                for part in c.subject.split(',') {
                    if let Some(cn) = part.trim().strip_prefix("CN=") {
                        out.push(cn.to_string());
                    }
                }
            }
        }
        for f in &self.private_files {
            out.push(f.clone());
            if let Some(name) = std::path::Path::new(f).file_name() {
                out.push(name.to_string_lossy().into_owned());
            }
        }
        out.retain(|s| s.chars().count() >= 3);
        out.dedup();
        // Longest first, so a subject is masked whole before its common name.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }
}

/// Replace every secret with `[removed]` and every redaction with `[redacted]`, and drop any
/// PEM private-key block, whatever put it there.
pub fn scrub(mut s: String, secrets: &[String], redactions: &[String]) -> String {
    for secret in secrets.iter().filter(|x| !x.is_empty()) {
        s = replace_secret(&s, secret);
    }
    for r in redactions {
        s = s.replace(r.as_str(), REDACTED);
    }
    static KEY_BLOCK: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = KEY_BLOCK.get_or_init(|| {
        regex::Regex::new(
            r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
        )
        .ok()
    });
    match re {
        Some(re) => re.replace_all(&s, REMOVED).into_owned(),
        // The pattern is a constant checked by the tests; without it, refuse to pass keys on.
        None if s.contains("PRIVATE KEY") => REMOVED.to_string(),
        None => s,
    }
}

/// Secrets of at least this many characters are removed wherever they appear; shorter ones
/// only where they stand alone (not inside a longer word), so that a two-letter proxy user name
/// does not shred the report's text.
const SUBSTRING_SECRET_LEN: usize = 8;

fn replace_secret(s: &str, secret: &str) -> String {
    if secret.chars().count() >= SUBSTRING_SECRET_LEN {
        return s.replace(secret, REMOVED);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(secret) {
        let before = out
            .chars()
            .next_back()
            .or_else(|| rest[..i].chars().next_back());
        let before = if i > 0 {
            rest[..i].chars().next_back()
        } else {
            before
        };
        let after = rest[i + secret.len()..].chars().next();
        out.push_str(&rest[..i]);
        if word(before) || word(after) {
            out.push_str(secret);
        } else {
            out.push_str(REMOVED);
        }
        rest = &rest[i + secret.len()..];
    }
    out.push_str(rest);
    out
}

fn blank_or(v: &Option<String>, lang: Lang) -> String {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => md(s),
        _ => format!("_{}_", label("report.blank", lang)),
    }
}

/// The report as Markdown.
pub fn markdown(r: &SupportReport<'_>, opts: &RenderOptions) -> String {
    let lang = opts.lang;
    let l = |k: &str| label(k, lang);
    let rep = r.report;
    let mut o = String::new();
    o.push_str(&format!("# {}\n\n", l("report.title")));
    o.push_str(&format!(
        "{} certprobe {} · {} · {} `{}`\n\n",
        l("report.generated_by"),
        md(&rep.tool_version),
        rep.started
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        l("report.profile"),
        md(&rep.profile)
    ));

    o.push_str(&format!("## {}\n\n", l("report.person")));
    o.push_str(&format!(
        "**[1] {}**\n\n{}\n\n",
        l("report.message"),
        blank_or(&r.person.message, lang)
    ));
    o.push_str(&format!(
        "**[2] {}**\n\n_{}_\n\n",
        l("report.screen"),
        l("report.screen.hint")
    ));
    o.push_str(&format!(
        "**[3] {}**\n\n{}\n\n",
        l("report.what_i_did"),
        blank_or(&r.person.what_i_did, lang)
    ));
    o.push_str(&format!(
        "**[4] {}**\n\n{}\n\n",
        l("report.user_id"),
        blank_or(&r.person.user_id, lang)
    ));
    o.push_str(&format!(
        "**[5] {}**\n\n_{}_\n\n",
        l("report.browser"),
        l("report.blank")
    ));
    o.push_str(&format!(
        "**[6] {}**\n\n{} ({})\n\n",
        l("report.os"),
        md(&r.environment.os),
        md(&r.environment.arch)
    ));

    o.push_str(&format!("## {}\n\n", l("report.result")));
    o.push_str(&super::markdown::findings(rep, opts));
    o.push('\n');
    let fixes: Vec<_> = rep
        .findings
        .iter()
        .filter(|f| f.fix.is_some() && f.status >= crate::finding::Status::Warn)
        .collect();
    if !fixes.is_empty() {
        o.push_str(&format!("### {}\n\n", l("fixes").trim_end_matches(':')));
        for f in fixes {
            let fix = f.fix.as_ref().map(|t| text(t, lang)).unwrap_or_default();
            let section = f
                .section
                .as_deref()
                .map(|s| format!(" [{} {}]", l("guide"), md(s)))
                .unwrap_or_default();
            o.push_str(&format!("- `{}`{}: {}\n", f.id, section, md(&fix)));
        }
        o.push('\n');
    }

    o.push_str(&format!("## {}\n\n", l("report.certificates")));
    if r.certificates.is_empty() && r.certificate_notes.is_empty() {
        o.push_str(&format!("_{}_\n\n", l("report.no_certificates")));
    }
    for c in &r.certificates {
        o.push_str(&format!("- **{}** ({})\n", md(&c.subject), md(&c.source)));
        o.push_str(&format!("  - {}: {}\n", l("report.issuer"), md(&c.issuer)));
        o.push_str(&format!("  - {}: {}\n", l("report.serial"), md(&c.serial)));
        o.push_str(&format!(
            "  - {}: {} – {}\n",
            l("report.validity"),
            md(&c.not_before),
            md(&c.not_after)
        ));
        o.push_str(&format!("  - SHA-256: `{}`\n", c.sha256));
    }
    for n in &r.certificate_notes {
        o.push_str(&format!("- {}\n", md(n)));
    }
    o.push('\n');

    o.push_str(&format!("## {}\n\n", l("report.environment")));
    o.push_str(&format!(
        "- {}: {}\n- {}: {}\n",
        l("report.os"),
        md(&r.environment.os),
        l("report.arch"),
        md(&r.environment.arch)
    ));
    let pairs = |v: &[(String, String)]| -> String {
        if v.is_empty() {
            l("report.none")
        } else {
            v.iter()
                .map(|(k, v)| format!("`{}={}`", clean(k), clean(v).replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    o.push_str(&format!(
        "- {}: {}\n",
        l("report.locale"),
        pairs(&r.environment.locale)
    ));
    o.push_str(&format!(
        "- {}: {}\n\n",
        l("report.proxy"),
        pairs(&r.environment.proxy)
    ));

    o.push_str(&format!("## {}\n\n", l("report.profile")));
    o.push_str(&format!(
        "`{}`{}\n\n",
        md(&rep.profile),
        r.profile_title
            .as_deref()
            .map(|t| format!(" — {}", md(t)))
            .unwrap_or_default()
    ));
    for (id, url) in &r.endpoints {
        o.push_str(&format!(
            "- `{}`: <{}>\n",
            id,
            url.replace(['<', '>', ' '], "")
        ));
    }
    o.push_str(&format!("\n---\n{}\n", l("report.footer")));
    o
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    kind: &'static str,
    person: &'a PersonFacts,
    environment: &'a Environment,
    profile_title: Option<&'a str>,
    endpoints: Vec<serde_json::Value>,
    certificates: &'a [CertSummary],
    certificate_notes: &'a [String],
    check: serde_json::Value,
}

/// The report as JSON: the check's own JSON document under `check`, with the rest beside it.
pub fn json(r: &SupportReport<'_>, opts: &RenderOptions) -> String {
    let doc = JsonDoc {
        kind: "certprobe-support-report",
        person: &r.person,
        environment: &r.environment,
        profile_title: r.profile_title.as_deref(),
        endpoints: r
            .endpoints
            .iter()
            .map(|(id, url)| serde_json::json!({ "id": id, "url": url }))
            .collect(),
        certificates: &r.certificates,
        certificate_notes: &r.certificate_notes,
        check: super::json::to_value(r.report, opts),
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Render in the chosen format and apply the secrets and redactions.
pub fn render(
    r: &SupportReport<'_>,
    opts: &RenderOptions,
    as_json: bool,
    secrets: &[String],
) -> String {
    let out = if as_json {
        json(r, opts)
    } else {
        markdown(r, opts)
    };
    let redactions = r.redactions();
    if as_json {
        // Secrets may appear JSON-escaped; scrub both spellings.
        let escaped = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| {
                    let e = serde_json::to_string(s).unwrap_or_default();
                    let e = e.trim_matches('"').to_string();
                    [s.clone(), e]
                })
                .collect()
        };
        scrub(out, &escaped(secrets), &escaped(&redactions))
    } else {
        scrub(out, secrets, &redactions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn support(report: &Report, redact: bool) -> SupportReport<'_> {
        SupportReport {
            report,
            profile_title: Some("SECOM".into()),
            endpoints: vec![(
                "login".into(),
                "https://ds.e-kakushin.com/ebunsho/UrlExclusive.do".into(),
            )],
            environment: Environment {
                os: "Debian GNU/Linux 12 (bookworm)".into(),
                arch: "x86_64".into(),
                locale: vec![("LANG".into(), "ja_JP.UTF-8".into())],
                proxy: vec![("HTTPS_PROXY".into(), "http://proxy.example:8080".into())],
            },
            certificates: vec![CertSummary {
                source: "--cert me.p12".into(),
                subject: "CN=S47000001,O=Demo,C=JP".into(),
                issuer: "CN=SECOM Passport for Member PUB CA1,C=JP".into(),
                serial: "47:00:00:01".into(),
                not_before: "2026-01-01".into(),
                not_after: "2027-01-01".into(),
                sha256: "AB:CD:EF:01:23:45:67:89".into(),
                is_ca: false,
            }],
            certificate_notes: vec![],
            person: PersonFacts {
                message: Some("page cannot be displayed".into()),
                what_i_did: None,
                user_id: Some("user-4711".into()),
            },
            private_files: vec!["/home/yamada.taro/me.p12".into()],
            redact,
        }
    }

    #[test]
    fn markdown_has_the_guide_items_and_blanks() {
        let rep = sample::report();
        let out = render(&support(&rep, false), &RenderOptions::default(), false, &[]);
        for want in [
            "[1] ",
            "page cannot be displayed",
            "[2] ",
            "[3] ",
            "[4] ",
            "user-4711",
            "[5] ",
            "[6] ",
            "Debian GNU/Linux 12",
            "| Chain to root (`cert.chain`) |",
            "CN=S47000001",
            "47:00:00:01",
            "`HTTPS_PROXY=http://proxy.example:8080`",
        ] {
            assert!(out.contains(want), "missing {want:?}:\n{out}");
        }
        assert!(out.contains(&label("report.blank", Lang::En)), "{out}");
    }

    #[test]
    fn redact_masks_user_id_serials_and_subjects_everywhere() {
        let rep = sample::report();
        let out = render(&support(&rep, true), &RenderOptions::default(), false, &[]);
        for gone in [
            "user-4711",
            "47:00:00:01",
            "S47000001",
            "yamada.taro",
            "me.p12",
            "AB:CD:EF:01:23:45:67:89",
        ] {
            assert!(!out.contains(gone), "{gone} still there:\n{out}");
        }
        assert!(out.contains(REDACTED));
        // CA names stay: the support desk needs them.
        assert!(out.contains("SECOM Passport for Member PUB CA1"));
        let js = render(&support(&rep, true), &RenderOptions::default(), true, &[]);
        assert!(
            !js.contains("S47000001") && !js.contains("user-4711"),
            "{js}"
        );
        let v: serde_json::Value = serde_json::from_str(&js).unwrap();
        assert_eq!(v["kind"], "certprobe-support-report");
        assert_eq!(v["check"]["profile"], "ebunsho");
    }

    #[test]
    fn secrets_and_private_keys_are_removed() {
        let mut rep = sample::report();
        rep.findings[0].detail = crate::finding::Text::same(
            "pw hunter2 -----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\nend",
        );
        let out = render(
            &support(&rep, false),
            &RenderOptions::default(),
            false,
            &["hunter2".to_string()],
        );
        assert!(!out.contains("hunter2"));
        assert!(!out.contains("MIIEv"));
        let s = scrub(
            "a\n-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\nb\n-----BEGIN EC PRIVATE KEY-----\nSECRET\n-----END EC PRIVATE KEY-----\nc".into(),
            &[],
            &[],
        );
        assert!(
            s.contains("BEGIN CERTIFICATE") && !s.contains("SECRET"),
            "{s}"
        );
    }

    #[test]
    fn short_secrets_are_removed_only_where_they_stand_alone() {
        let s = scrub(
            "support u:pw u@host user".into(),
            &["u".into(), "pw".into()],
            &[],
        );
        assert_eq!(s, "support [removed]:[removed] [removed]@host user");
        let s = scrub("xLongSecret99x".into(), &["LongSecret99".into()], &[]);
        assert_eq!(s, "x[removed]x");
    }
}

//! `certprobe report`: run the full check and write one support report file (Markdown, JSON
//! with `--format json`, or one HTML page with `--format html`), readable by its owner only, and
//! print its path. The file is written by [`crate::outfile`]: a new file, never through a link,
//! an existing one only with `--force`.

use super::Context;
use crate::cert::info::{fingerprint, show_time, CertInfo};
use crate::cert::source::{self, Passwords};
use crate::cli::{CheckArgs, Format};
use crate::error::AppError;
use crate::guide::label;
use crate::probe::{self, CheckOptions, CheckPlan};
use crate::report::support::{self, CertSummary, Environment, PersonFacts, SupportReport};
use crate::text::url::{credentials, without_credentials};
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};

/// What only the person knows, for the support desk.
pub struct Person {
    pub message: Option<String>,
    pub what_i_did: Option<String>,
    pub user_id: Option<String>,
}

/// Proxy variables read from the environment, in the order shown.
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];
const LOCALE_VARS: [&str; 4] = ["LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANG"];

pub fn run(
    ctx: &Context,
    check: &CheckArgs,
    person: &Person,
    redact: bool,
    out: Option<&Path>,
    force: bool,
) -> Result<u8, AppError> {
    let ext = match ctx.global.format {
        Format::Table | Format::Markdown => "md",
        Format::Json => "json",
        Format::Html => "html",
        other => {
            return Err(AppError::catalogued(
                "errors.report_format",
                &[("format", &format!("{other:?}").to_lowercase())],
            ))
        }
    };
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_name(ext));
    // Refused before any network work: a link, FIFO or device there, or a file without --force.
    crate::outfile::check_target(&path, force)?;
    let check = &CheckOptions::from(check);
    let profile = ctx.profile()?;
    let plan = CheckPlan {
        profile: &profile,
        args: check,
        timeout: ctx.global.timeout,
    };
    let report = super::diagnosed(super::runtime()?.block_on(probe::run(&plan))?);

    let (environment, mut secrets) = environment(ctx, check);
    let (certificates, certificate_notes) = certificates(check, ctx.lang);
    let passwords = crate::cert::passwords(&check.identity);
    if let Ok(Some(p)) = passwords.given() {
        secrets.push(p.trim_end_matches(['\r', '\n']).to_string());
        secrets.push(p);
    }
    secrets.extend(check.net.token.iter().cloned());
    secrets.extend(check.net.signup_code.iter().cloned());
    secrets.retain(|s| !s.trim().is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));

    let doc = SupportReport {
        report: &report,
        profile_title: profile.title.clone(),
        endpoints: profile
            .endpoints
            .iter()
            .map(|e| (e.id.clone(), e.url.clone()))
            .collect(),
        environment,
        certificates,
        certificate_notes,
        private_files: [
            &check.identity.cert,
            &check.identity.key,
            &check.identity.password_file,
        ]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect(),
        person: PersonFacts {
            message: person.message.clone(),
            what_i_did: person.what_i_did.clone(),
            user_id: person.user_id.clone(),
        },
        redact,
    };
    let mut opts = ctx.render;
    opts.color = false;
    let text = match ext {
        "html" => crate::report::html::render_support(&doc, &opts, &secrets),
        _ => support::render(&doc, &opts, ext == "json", &secrets),
    };
    let gate = if ext == "json" {
        crate::text::out::Gate::Json
    } else {
        crate::text::out::Gate::Text
    };
    let text = crate::text::out::sanitize(&text, gate);
    crate::outfile::write_new(&path, text.as_bytes(), force)?;
    super::print(&format!(
        "{} {}\n",
        label("report.written", ctx.lang),
        path.display()
    ))?;
    Ok(report.exit_code(ctx.global.strict))
}

/// `certprobe-report-20261125-163000Z.md` (or `.json`, `.html`) in the current folder (UTC).
pub(crate) fn default_name(ext: &str) -> PathBuf {
    let f = time::macros::format_description!("[year][month][day]-[hour][minute][second]Z");
    let now = time::OffsetDateTime::now_utc();
    let stamp = now.format(&f).unwrap_or_else(|_| "report".into());
    PathBuf::from(format!("certprobe-report-{stamp}.{ext}"))
}

/// OS, architecture, locale and proxy settings; and the proxy credentials found (to scrub).
fn environment(ctx: &Context, check: &CheckOptions) -> (Environment, Vec<String>) {
    let mut secrets = Vec::new();
    let mut locale: Vec<(String, String)> = LOCALE_VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    locale.push(("certprobe --lang".into(), ctx.lang.code().into()));
    let mut proxy = Vec::new();
    if let Some(p) = &check.net.proxy {
        secrets.extend(credentials(p));
        proxy.push(("--proxy".to_string(), without_credentials(p)));
    }
    if check.net.no_proxy {
        proxy.push(("--no-proxy".to_string(), "on".to_string()));
    }
    for k in PROXY_VARS {
        if let Ok(v) = std::env::var(k) {
            if k.eq_ignore_ascii_case("NO_PROXY") {
                proxy.push((k.to_string(), v));
            } else {
                secrets.extend(credentials(&v));
                proxy.push((k.to_string(), without_credentials(&v)));
            }
        }
    }
    let env = Environment {
        os: os_name(),
        arch: std::env::consts::ARCH.to_string(),
        locale,
        proxy,
    };
    (env, secrets)
}

/// The operating system's name and version.
#[cfg(target_os = "linux")]
fn os_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let name = parse_os_release(&release).unwrap_or_else(|| "Linux".to_string());
    match std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        Ok(k) if !k.trim().is_empty() => format!("{name} (kernel {})", k.trim()),
        _ => name,
    }
}

#[cfg(windows)]
fn os_name() -> String {
    // The registry's product name would be better; the platform part may provide it later.
    "Windows".to_string()
}

#[cfg(not(any(target_os = "linux", windows)))]
fn os_name() -> String {
    std::env::consts::OS.to_string()
}

/// `PRETTY_NAME`, else `NAME VERSION`, from an os-release file.
pub fn parse_os_release(src: &str) -> Option<String> {
    let get = |key: &str| {
        src.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
        })
    };
    if let Some(p) = get("PRETTY_NAME").filter(|p| !p.is_empty()) {
        return Some(p);
    }
    let name = get("NAME")?;
    Some(match get("VERSION") {
        Some(v) => format!("{name} {v}"),
        None => name,
    })
}

/// Summaries of the certificates in `--cert`, `--ca` and `--trust` (never a key). A PKCS#12
/// file is opened only with a password given by flag: the check itself already asked for it.
fn certificates(
    check: &CheckOptions,
    lang: crate::finding::Lang,
) -> (Vec<CertSummary>, Vec<String>) {
    let id = &check.identity;
    let passwords = crate::cert::passwords(id);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut add = |flag: &str, path: &Path, pw: Option<&Passwords>| {
        let shown = format!("{flag} {}", path.display());
        match read_certs(path, pw) {
            Ok(Some(certs)) => {
                for c in certs {
                    if let Ok(info) = CertInfo::parse(&c) {
                        out.push(CertSummary {
                            source: shown.clone(),
                            subject: info.subject.clone(),
                            issuer: info.issuer.clone(),
                            serial: info.serial.clone(),
                            not_before: show_time(info.not_before),
                            not_after: show_time(info.not_after),
                            sha256: fingerprint(c.as_ref()),
                            is_ca: info.is_ca,
                        });
                    }
                }
            }
            Ok(None) => notes.push(
                label("report.p12_locked", lang).replace("{file}", &path.display().to_string()),
            ),
            Err(e) => notes.push(format!("{shown}: {e}")),
        }
    };
    if let Some(c) = &id.cert {
        let pw = matches!(passwords.given(), Ok(Some(_))).then_some(&passwords);
        add("--cert", c, pw);
    }
    for c in &id.ca {
        add("--ca", c, None);
    }
    for c in &id.trust {
        add("--trust", c, None);
    }
    (out, notes)
}

/// Certificates of a PEM or DER file; of a PKCS#12 file only when a password was given
/// (`Ok(None)` otherwise). Never prompts.
fn read_certs(
    path: &Path,
    passwords: Option<&Passwords>,
) -> Result<Option<Vec<CertificateDer<'static>>>, AppError> {
    let bytes = source::read_file(path)?;
    if source::looks_like_pem(&bytes) {
        let blocks =
            source::pem_blocks(&bytes).map_err(|e| e.to_app(&path.display().to_string()))?;
        return Ok(Some(
            blocks
                .into_iter()
                .filter(|b| b.label.contains("CERTIFICATE"))
                .map(|b| CertificateDer::from(b.der))
                .collect(),
        ));
    }
    let der = CertificateDer::from(bytes);
    if CertInfo::parse(&der).is_ok() {
        return Ok(Some(vec![der]));
    }
    match passwords {
        Some(p) => Ok(Some(source::read_container(path, p)?.certs)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_names() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION=\"12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release(debian).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            parse_os_release("NAME=Alpine\nVERSION='3.20'\n").as_deref(),
            Some("Alpine 3.20")
        );
        assert_eq!(parse_os_release("garbage"), None);
    }

    #[test]
    fn default_names_are_dated() {
        let n = default_name("md").display().to_string();
        assert!(
            n.starts_with("certprobe-report-2") && n.ends_with(".md"),
            "{n}"
        );
        assert!(default_name("json")
            .display()
            .to_string()
            .ends_with(".json"));
    }
}

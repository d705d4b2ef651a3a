//! Profiles: what a client-certificate service looks like — its endpoints, the certificate
//! it expects, the hosts that may see that certificate, and what its pages say.
//!
//! The built-in profile `ebunsho` is embedded; `--profile FILE` loads any other service
//! described the same way.

use crate::finding::{Status, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const EBUNSHO: &str = include_str!("ebunsho.toml");

/// A bilingual string in a profile: either one string for both languages or `{ en, ja }`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ProfileText {
    Same(String),
    Both { en: String, ja: String },
}

impl ProfileText {
    pub fn text(&self) -> Text {
        match self {
            ProfileText::Same(s) => Text::same(s.clone()),
            ProfileText::Both { en, ja } => Text::new(en.clone(), ja.clone()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    pub client_cert: ClientCertSpec,
    #[serde(default)]
    pub proxy: ProxySpec,
    pub certificate_hosts: CertificateHosts,
    #[serde(rename = "endpoint")]
    pub endpoints: Vec<Endpoint>,
    #[serde(default, rename = "ca")]
    pub cas: Vec<CaSpec>,
    #[serde(default, rename = "page")]
    pub pages: Vec<PagePattern>,
    #[serde(default)]
    pub login: Option<LoginForm>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientCertSpec {
    /// Wildcard pattern (`*`, `?`) the subject's common name must match, e.g. `S47*`.
    #[serde(default)]
    pub subject_pattern: Option<String>,
    /// Exact issuer common names that are expected.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Wildcard patterns of issuer common names of the same family (accepted, named as such).
    #[serde(default)]
    pub issuer_patterns: Vec<String>,
    /// Root CA common names the chain must end in.
    #[serde(default)]
    pub roots: Vec<String>,
    /// Newer roots of the same operator, recognised and named when found.
    #[serde(default)]
    pub successor_roots: Vec<String>,
    /// Whether a leaf without an extendedKeyUsage extension is acceptable (`false`: it must say clientAuth).
    #[serde(default)]
    pub require_client_auth_eku: bool,
    #[serde(default = "default_expiry_days")]
    pub expiry_warning_days: u32,
}

fn default_expiry_days() -> u32 {
    30
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    /// Proxy exceptions the service needs, in Windows `ProxyOverride` syntax (`*.secomtrust.net`).
    #[serde(default)]
    pub exceptions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CertificateHosts {
    /// Host names (exact) to which the client certificate may be presented.
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Short stable id, used in finding ids (`net.login.tls`).
    pub id: String,
    pub title: ProfileText,
    /// `https://host[:port]/path?query`, with `{param}` placeholders for per-user parts.
    pub url: String,
    /// Whether this endpoint asks for the client certificate.
    #[serde(default)]
    pub client_cert: bool,
    /// The guide section a failure here points to.
    pub section: String,
    /// A placeholder whose absence skips this endpoint (instead of failing the check).
    #[serde(default)]
    pub optional_param: Option<String>,
    /// What the healthy page looks like; a page that matches neither this nor an error
    /// pattern is a warning that shows its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectedPage>,
}

/// How to recognise an endpoint's healthy page. Every part given must match.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPage {
    /// A regular expression matched against the page's `<title>` (NFKC-normalised).
    #[serde(default)]
    pub title: Option<String>,
    /// A regular expression matched against the text a person sees (NFKC-normalised).
    #[serde(default)]
    pub text: Option<String>,
    /// The page holds a `<form>`.
    #[serde(default)]
    pub form: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaSpec {
    /// `root` or `intermediate`.
    pub role: CaRole,
    /// Common name of the CA certificate.
    pub name: String,
    /// Where the CA publishes its certificate.
    #[serde(default)]
    pub url: Option<String>,
    /// SHA-256 fingerprint of the DER certificate (hex), pinned for downloads.
    #[serde(default)]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CaRole {
    Root,
    Intermediate,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagePattern {
    /// A regular expression matched against the decoded page text.
    pub pattern: String,
    /// The guide section the match points to.
    pub section: String,
    #[serde(default = "default_page_status")]
    pub status: PageStatus,
    /// `pattern`, compiled on first use (a check reads several pages with the same profile).
    #[serde(skip)]
    compiled: std::sync::OnceLock<Option<regex::Regex>>,
}

impl PagePattern {
    /// The compiled pattern; `None` when it is not a valid regular expression (a checked
    /// profile never has one).
    pub fn regex(&self) -> Option<&regex::Regex> {
        self.compiled
            .get_or_init(|| compile_pattern(&self.pattern).ok().map(|(re, _)| re))
            .as_ref()
    }
}

impl PartialEq for PagePattern {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
            && self.section == other.section
            && self.status == other.status
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PageStatus {
    Fail,
    Warn,
    Info,
}

impl PageStatus {
    pub fn status(self) -> Status {
        match self {
            PageStatus::Fail => Status::Fail,
            PageStatus::Warn => Status::Warn,
            PageStatus::Info => Status::Info,
        }
    }
}

fn default_page_status() -> PageStatus {
    PageStatus::Fail
}

/// The log-in form, for `check --login`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    pub url: String,
    pub user_field: String,
    pub password_field: String,
    #[serde(default)]
    pub extra_fields: BTreeMap<String, String>,
    /// A regular expression that appears on the page after a successful log-in.
    pub success_pattern: String,
}

/// The compiled size one page pattern may reach (`RegexBuilder::size_limit`).
pub const REGEX_PATTERN_LIMIT: usize = 256 * 1024;
/// The compiled size all page patterns of one profile may reach together.
pub const REGEX_PROFILE_BUDGET: usize = 2 * 1024 * 1024;

/// Compile a profile's pattern within [`REGEX_PATTERN_LIMIT`]. Also gives its cost against the
/// profile's budget: the smallest of a few growing size limits it compiles within (the regex
/// crate does not report the size it used; a limit it fails under costs little to try).
/// An error carries the message and the work spent (a pattern too large costs the limit).
pub fn compile_pattern(pattern: &str) -> Result<(regex::Regex, usize), (String, usize)> {
    let mut limit = 16 * 1024;
    loop {
        let built = regex::RegexBuilder::new(pattern)
            .size_limit(limit)
            .dfa_size_limit(limit.max(256 * 1024))
            .build();
        match built {
            Ok(re) => return Ok((re, limit)),
            Err(regex::Error::CompiledTooBig(_)) if limit < REGEX_PATTERN_LIMIT => limit *= 4,
            Err(regex::Error::CompiledTooBig(_)) => {
                return Err((
                    crate::guide::message(
                        "input.regex_size",
                        &[("limit", &crate::text::human::bytes(limit as u64))],
                    ),
                    limit,
                ))
            }
            Err(e) => return Err((regex_problem(&e), 0)),
        }
    }
}

/// A profile that could not be loaded: one message naming file, line and key.
#[derive(Debug)]
pub enum ProfileError {
    Read { path: String, reason: String },
    Invalid(String),
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProfileError::Read { path, reason } => f.write_str(&say(
                "errors.profile.read",
                &[("file", path), ("reason", reason)],
            )),
            ProfileError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ProfileError {}

/// A catalogue message in the run's language.
fn say(key: &str, args: &[(&str, &str)]) -> String {
    crate::guide::message(key, args)
}

fn regex_problem(e: &regex::Error) -> String {
    let detail = e.to_string();
    let detail = detail.lines().last().unwrap_or_default().trim();
    say("errors.profile.bad_regex", &[("detail", detail)])
}

/// The TOML reader's message as it is in English; in Japanese, the sentence for its kind, with
/// the names it quotes.
fn toml_problem(detail: &str) -> String {
    let detail = detail.replace('\n', " ");
    let quoted: Vec<&str> = detail.split('`').skip(1).step_by(2).collect();
    let (key, args): (&str, Vec<(&str, String)>) =
        if let Some(rest) = detail.strip_prefix("invalid type: ") {
            let value = rest
                .split_once(", expected")
                .map_or(rest, |(v, _)| v)
                .split_once(' ')
                .map_or("", |(_, v)| v);
            (
                "errors.profile.toml_type",
                vec![("value", value.to_string())],
            )
        } else if detail.starts_with("unknown field") && !quoted.is_empty() {
            let allowed: Vec<String> = quoted[1..].iter().map(|q| format!("`{q}`")).collect();
            (
                "errors.profile.toml_unknown",
                vec![
                    ("field", quoted[0].to_string()),
                    ("allowed", allowed.join(", ")),
                ],
            )
        } else if detail.starts_with("missing field") && !quoted.is_empty() {
            (
                "errors.profile.toml_missing",
                vec![("field", quoted[0].to_string())],
            )
        } else if detail.contains("duplicate key") {
            ("errors.profile.toml_duplicate", vec![])
        } else {
            ("errors.profile.toml_other", vec![])
        };
    let mut args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    args.push(("detail", &detail));
    say(key, &args)
}

impl Profile {
    /// The built-in profile. It is compiled in, and a unit test proves [`Profile::parse`] finds
    /// no problem in it, so its semantic checks (guide sections looked up, every page pattern
    /// compiled) are not repeated on each run: a pattern compiles when a page is first read.
    pub fn builtin() -> Profile {
        match toml::from_str(EBUNSHO) {
            Ok(p) => p,
            Err(e) => panic!("built-in profile is malformed: {e}"),
        }
    }

    pub fn builtin_source() -> &'static str {
        EBUNSHO
    }

    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let read = |reason: String| ProfileError::Read {
            path: path.display().to_string(),
            reason,
        };
        let bytes = crate::infile::read_capped(path, crate::infile::PROFILE_CAP)
            .map_err(|e| read(crate::AppError::from(e).to_string()))?;
        let src = String::from_utf8(bytes).map_err(|_| {
            read(crate::guide::message(
                "input.not_text",
                &[("file", &path.display().to_string())],
            ))
        })?;
        Profile::parse(&src, &path.display().to_string())
    }

    /// Parse and check a profile. Every problem is reported, each with `file:line:column` and key.
    pub fn parse(src: &str, origin: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(src).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(src, s.start)).unwrap_or((1, 1));
            let key = key_at_line(src, line)
                .map(|k| format!("{k}: "))
                .unwrap_or_default();
            let msg = toml_problem(e.message().trim_end());
            ProfileError::Invalid(format!("{origin}:{line}:{col}: {key}{msg}"))
        })?;
        let problems = profile.problems(src);
        if problems.is_empty() {
            Ok(profile)
        } else {
            let lines: Vec<String> = problems
                .into_iter()
                .map(|(key, msg)| {
                    let (line, col) = find_key(src, &key);
                    format!("{origin}:{line}:{col}: {key}: {msg}")
                })
                .collect();
            Err(ProfileError::Invalid(lines.join("\n")))
        }
    }

    /// Semantic checks serde cannot make: URLs, patterns, sections, duplicate ids.
    fn problems(&self, _src: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.endpoints.is_empty() {
            out.push(("endpoint".into(), say("errors.profile.no_endpoint", &[])));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, ep) in self.endpoints.iter().enumerate() {
            if !seen.insert(ep.id.as_str()) {
                out.push((
                    format!("endpoint[{i}].id"),
                    say("errors.profile.id_twice", &[("id", &ep.id)]),
                ));
            }
            if ep.id.is_empty()
                || !ep
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                out.push((
                    format!("endpoint[{i}].id"),
                    say("errors.profile.id_chars", &[("id", &ep.id)]),
                ));
            }
            match parse_url(&ep.url) {
                Ok(u) => {
                    if ep.client_cert
                        && !self
                            .certificate_hosts
                            .allow
                            .iter()
                            .any(|h| h.eq_ignore_ascii_case(&u.host))
                    {
                        out.push((
                            format!("endpoint[{i}].url"),
                            say(
                                "errors.profile.cert_host",
                                &[("id", &ep.id), ("host", &u.host)],
                            ),
                        ));
                    }
                }
                Err(e) => out.push((
                    format!("endpoint[{i}].url"),
                    say("errors.profile.bad_url", &[("id", &ep.id), ("error", &e)]),
                )),
            }
            if crate::guide::catalogue().find(&ep.section).is_none() {
                out.push((
                    format!("endpoint[{i}].section"),
                    say(
                        "errors.profile.unknown_section",
                        &[("section", &ep.section)],
                    ),
                ));
            }
            let expect = ep.expect.as_ref();
            for (field, re) in [
                ("title", expect.and_then(|x| x.title.as_ref())),
                ("text", expect.and_then(|x| x.text.as_ref())),
            ] {
                if let Some(Err(e)) = re.map(|r| regex::Regex::new(r)) {
                    out.push((format!("endpoint[{i}].expect.{field}"), regex_problem(&e)));
                }
            }
        }
        let mut budget = REGEX_PROFILE_BUDGET;
        let mut over_budget = false;
        for (i, p) in self.pages.iter().enumerate() {
            // Compiled once here and kept for every page the check reads. Once over the
            // profile's budget, the rest are not compiled at all (one message says so).
            if over_budget {
                let _ = p.compiled.set(None);
                continue;
            }
            let result = compile_pattern(&p.pattern);
            let cost = match &result {
                Ok((_, cost)) | Err((_, cost)) => *cost,
            };
            match result {
                Ok((re, _)) if cost <= budget => {
                    budget -= cost;
                    let _ = p.compiled.set(Some(re));
                }
                Err((e, _)) if cost <= budget => {
                    budget -= cost;
                    out.push((format!("page[{i}].pattern"), e));
                }
                _ => {
                    over_budget = true;
                    let _ = p.compiled.set(None);
                    out.push((
                        format!("page[{i}].pattern"),
                        crate::guide::message(
                            "input.regex_budget",
                            &[(
                                "limit",
                                &crate::text::human::bytes(REGEX_PROFILE_BUDGET as u64),
                            )],
                        ),
                    ));
                }
            }
            if crate::guide::catalogue().find(&p.section).is_none() {
                out.push((
                    format!("page[{i}].section"),
                    say("errors.profile.unknown_section", &[("section", &p.section)]),
                ));
            }
        }
        for (i, ca) in self.cas.iter().enumerate() {
            if let Some(fp) = &ca.sha256 {
                if fp.len() != 64 || !fp.chars().all(|c| c.is_ascii_hexdigit()) {
                    out.push((
                        format!("ca[{i}].sha256"),
                        say("errors.profile.ca_sha256", &[("name", &ca.name)]),
                    ));
                }
            }
        }
        out
    }

    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// May the client certificate be presented to this host?
    pub fn may_present_certificate(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.certificate_hosts
            .allow
            .iter()
            .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(host))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render profile: {e}\n"))
    }
}

/// The parts of an endpoint URL certprobe needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointUrl {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl EndpointUrl {
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Parse `scheme://host[:port]/path?query` (http or https; IPv6 in brackets).
pub fn parse_url(url: &str) -> Result<EndpointUrl, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| say("errors.url.no_scheme", &[("url", url)]))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        other => return Err(say("errors.url.scheme", &[("scheme", other)])),
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.contains('@') {
        return Err(say("errors.url.credentials", &[]));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| say("errors.url.bracket", &[("url", url)]))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(say("errors.url.junk", &[("url", url)])),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(say("errors.url.no_host", &[("url", url)]));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| say("errors.url.port", &[("url", url), ("port", p)]))?,
        None => default_port,
    };
    if port == 0 {
        return Err(say("errors.url.port_zero", &[("url", url)]));
    }
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(EndpointUrl {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// Fill `{name}` placeholders; returns the names that had no value.
pub fn expand_url(url: &str, params: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                let name = &rest[start + 1..start + end];
                match params.get(name) {
                    Some(v) => out.push_str(v),
                    None => missing.push(name.to_string()),
                }
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

/// `*` and `?` wildcards, case-insensitive (certificate names are compared that way by people).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// The first line on which `key =` is written (for semantic errors serde cannot place).
/// Where a problem's key is: `name`, or `endpoint[2].url` (the key inside the third
/// `[[endpoint]]` table). Falls back to the table, then to the top of the file.
fn find_key(src: &str, key: &str) -> (usize, usize) {
    let lines: Vec<&str> = src.lines().collect();
    let (start, end, key) = match key.split_once('[').and_then(|(table, rest)| {
        let (idx, k) = rest.split_once("].")?;
        Some((table, idx.parse::<usize>().ok()?, k))
    }) {
        Some((table, idx, k)) => {
            let header = format!("[[{table}]]");
            match lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.trim() == header)
                .nth(idx)
            {
                Some((h, _)) => {
                    let end = lines[h + 1..]
                        .iter()
                        .position(|l| l.trim_start().starts_with('['))
                        .map_or(lines.len(), |p| h + 1 + p);
                    let found = (h + 1..end).find(|&i| assigns(lines[i], k));
                    return match found {
                        Some(i) => (i + 1, indent(lines[i]) + 1),
                        None => (h + 1, 1),
                    };
                }
                None => (0, lines.len(), k),
            }
        }
        None => (0, lines.len(), key),
    };
    (start..end)
        .find(|&i| assigns(lines[i], key))
        .map_or((1, 1), |i| (i + 1, indent(lines[i]) + 1))
}

fn assigns(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The dotted key assigned on a (1-based) line, qualified by the table it is in:
/// `client_cert.expiry_warning_days`, `endpoint[1].url`.
fn key_at_line(src: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = src.lines().collect();
    let text = lines.get(line.checked_sub(1)?)?.trim_start();
    let (key, _) = text.split_once('=')?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
    {
        return None;
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut table = None;
    for l in &lines[..line - 1] {
        let t = l.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
            let n = counts.entry(name.trim().to_string()).or_insert(0);
            table = Some(format!("{}[{}]", name.trim(), *n));
            *n += 1;
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            table = Some(name.trim().to_string());
        }
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_parses_and_lists_the_service() {
        let p = Profile::parse(EBUNSHO, "ebunsho").expect("built-in parses");
        assert_eq!(
            p,
            Profile::builtin(),
            "built-in read unchecked is the checked one"
        );
        assert!(Profile::builtin()
            .pages
            .iter()
            .all(|pg| pg.regex().is_some()));
        assert_eq!(p.name, "ebunsho");
        let ids: Vec<_> = p.endpoints.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["check", "issuance", "signup", "login"]);
        assert!(p.may_present_certificate("ds.e-kakushin.com"));
        assert!(p.may_present_certificate("DS.E-KAKUSHIN.COM."));
        assert!(!p.may_present_certificate("evil.example"));
        assert_eq!(p.client_cert.subject_pattern.as_deref(), Some("S47*"));
    }

    #[test]
    fn unknown_key_is_reported_with_line_and_key() {
        let src = EBUNSHO.replace(
            "expiry_warning_days = 30",
            "expiry_warning_days = 30\ncolour = \"red\"",
        );
        let err = Profile::parse(&src, "p.toml").unwrap_err().to_string();
        let line = src.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
        assert!(err.starts_with(&format!("p.toml:{line}:")), "{err}");
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn semantic_errors_name_line_and_key() {
        let src = EBUNSHO.replace("section = \"2-1 (5)\"", "section = \"9-9\"");
        let err = Profile::parse(&src, "p.toml").unwrap_err().to_string();
        assert!(
            err.contains("section: unknown guide section `9-9`"),
            "{err}"
        );
        let bad_host = EBUNSHO.replace(
            "url = \"https://ds.e-kakushin.com/ebunsho/UrlExclusive.do\"",
            "url = \"https://elsewhere.example/\"",
        );
        let err = Profile::parse(&bad_host, "p.toml").unwrap_err().to_string();
        assert!(err.contains("not in certificate_hosts.allow"), "{err}");
    }

    #[test]
    fn urls_parse() {
        let u = parse_url("https://ds.e-kakushin.com/ebunsho/UrlExclusive.do").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("ds.e-kakushin.com", 443, "/ebunsho/UrlExclusive.do")
        );
        let u = parse_url("https://[::1]:8443?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8443, "/?x=1")
        );
        assert_eq!(u.authority(), "[::1]:8443");
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("https://u:p@x/").is_err());
        assert!(parse_url("https://x:99999/").is_err());
        assert!(parse_url("nothing").is_err());
    }

    #[test]
    fn url_placeholders_expand_and_report_missing() {
        let mut m = BTreeMap::new();
        m.insert("token".to_string(), "abc".to_string());
        assert_eq!(
            expand_url("https://h/e?{token}", &m),
            ("https://h/e?abc".into(), vec![])
        );
        assert_eq!(
            expand_url("https://h/s?cd={signup_code}", &m).1,
            vec!["signup_code".to_string()]
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("S47*", "S47012345"));
        assert!(wildcard_match("s47*", "S47"));
        assert!(!wildcard_match("S47*", "X47012345"));
        assert!(wildcard_match(
            "SECOM Passport for Member PUB CA*",
            "SECOM Passport for Member PUB CA8"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
    }

    #[test]
    fn pattern_budget_fits_real_profiles_and_stops_bombs() {
        let p = Profile::builtin();
        let total: usize = p
            .pages
            .iter()
            .map(|pg| compile_pattern(&pg.pattern).unwrap().1)
            .sum();
        assert!(
            total * 4 <= REGEX_PROFILE_BUDGET,
            "built-in profile costs {total}"
        );
        assert!(compile_pattern(r"\w{200}N").is_err());
        assert!(compile_pattern("(").unwrap_err().0.contains("not a valid"));
    }
}

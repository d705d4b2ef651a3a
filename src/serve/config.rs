//! The `certprobe serve` configuration (TOML): the exporter's limits and the modules a scrape
//! may name. A module is a profile plus an identity; its targets are the profile's endpoints and
//! nothing else, so the exporter never becomes an open proxy for the client certificate.

use crate::error::AppError;
use crate::finding::Lang;
use crate::profile::{Endpoint, Profile};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    module: BTreeMap<String, RawModule>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    max_concurrent_probes: Option<usize>,
    max_queued_probes: Option<usize>,
    timeout: Option<String>,
    timeout_offset: Option<String>,
    versions_cache: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawModule {
    profile: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    #[serde(default)]
    ca: Vec<PathBuf>,
    #[serde(default)]
    trust: Vec<PathBuf>,
    #[serde(default)]
    no_system_trust: bool,
    cert_thumbprint: Option<String>,
    cert_subject: Option<String>,
    #[serde(default)]
    machine_store: bool,
    proxy: Option<String>,
    #[serde(default)]
    no_proxy: bool,
    resolver: Option<String>,
    timeout: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
}

/// The exporter's own settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: Option<String>,
    /// Probes that run at once; more wait in the queue.
    pub max_concurrent_probes: usize,
    /// Probes that may wait for a slot; beyond that a scrape gets 503 at once.
    pub max_queued_probes: usize,
    /// A probe's bound when neither the module nor Prometheus names a shorter one.
    pub timeout: Duration,
    /// Taken off Prometheus's `X-Prometheus-Scrape-Timeout-Seconds` so the answer arrives in time.
    pub timeout_offset: Duration,
    /// How long the versions a server accepts are remembered (zero: every scrape asks).
    pub versions_cache: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: None,
            max_concurrent_probes: 4,
            max_queued_probes: 16,
            timeout: Duration::from_secs(10),
            timeout_offset: Duration::from_millis(500),
            versions_cache: Duration::from_secs(3600),
        }
    }
}

/// Where a module's client certificate comes from: plain paths and names, resolved against
/// the configuration file's folder. Passwords are read from a file or a variable, never written
/// in the configuration.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub ca: Vec<PathBuf>,
    pub trust: Vec<PathBuf>,
    pub no_system_trust: bool,
    pub cert_thumbprint: Option<String>,
    pub cert_subject: Option<String>,
    pub machine_store: bool,
}

/// One module: what `/probe?module=NAME` runs.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub profile: Profile,
    pub identity: Identity,
    pub proxy: Option<String>,
    pub no_proxy: bool,
    pub resolver: Option<String>,
    pub timeout: Option<Duration>,
    /// The endpoints of the profile a scrape may target (all when the module names none).
    pub endpoints: Vec<String>,
}

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub modules: BTreeMap<String, Arc<Module>>,
}

/// `10s`, `500ms`, `5m`, `1h`, or a bare number of seconds, at most a day; `0` only where
/// `zero_ok`.
pub fn parse_duration(s: &str, zero_ok: bool) -> Option<Duration> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => v / 1000.0,
        "" | "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return None,
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) || (secs == 0.0 && !zero_ok) {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// A catalogue text with its `{name}` placeholders filled.
pub(crate) fn say(key: &str, lang: Lang, args: &[(&str, &str)]) -> String {
    let mut s = crate::guide::label(key, lang);
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Where a configuration's messages go: its file name and the language.
struct Ctx<'a> {
    path: &'a str,
    lang: Lang,
}

impl Ctx<'_> {
    fn say(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut all = vec![("path", self.path)];
        all.extend_from_slice(args);
        say(key, self.lang, &all)
    }

    fn dur(
        &self,
        key: &str,
        v: &Option<String>,
        zero_ok: bool,
    ) -> Result<Option<Duration>, String> {
        match v.as_deref() {
            None => Ok(None),
            Some(s) => parse_duration(s, zero_ok).map(Some).ok_or_else(|| {
                self.say(
                    "serve.config_duration",
                    &[("key", key), ("value", &crate::text::escape::clean(s))],
                )
            }),
        }
    }
}

impl Config {
    pub fn load(path: &Path, lang: Lang) -> Result<Config, AppError> {
        let shown = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| {
            AppError::input(say(
                "serve.config_read",
                lang,
                &[("path", &shown), ("error", &e.to_string())],
            ))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&src, base, &shown, lang).map_err(AppError::input)
    }

    /// Parse and check; relative paths are taken from `base`; messages name `shown`.
    pub fn parse(src: &str, base: &Path, shown: &str, lang: Lang) -> Result<Config, String> {
        let cx = Ctx { path: shown, lang };
        let raw: RawConfig = toml::from_str(src).map_err(|e| {
            let line = e
                .span()
                .map(|sp| src[..sp.start.min(src.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            cx.say(
                "serve.config_syntax",
                &[("line", &line.to_string()), ("error", e.message().trim())],
            )
        })?;
        let d = ServerSettings::default();
        let s = &raw.server;
        let server = ServerSettings {
            listen: s.listen.clone(),
            max_concurrent_probes: s.max_concurrent_probes.unwrap_or(d.max_concurrent_probes),
            max_queued_probes: s.max_queued_probes.unwrap_or(d.max_queued_probes),
            timeout: cx
                .dur("server.timeout", &s.timeout, false)?
                .unwrap_or(d.timeout),
            timeout_offset: cx
                .dur("server.timeout_offset", &s.timeout_offset, true)?
                .unwrap_or(d.timeout_offset),
            versions_cache: cx
                .dur("server.versions_cache", &s.versions_cache, true)?
                .unwrap_or(d.versions_cache),
        };
        if !(1..=1024).contains(&server.max_concurrent_probes) {
            return Err(cx.say(
                "serve.config_range",
                &[("key", "server.max_concurrent_probes"), ("range", "1–1024")],
            ));
        }
        if server.max_queued_probes > 100_000 {
            return Err(cx.say(
                "serve.config_range",
                &[("key", "server.max_queued_probes"), ("range", "0–100000")],
            ));
        }
        if raw.module.is_empty() {
            return Err(cx.say("serve.config_no_module", &[]));
        }
        let abs = |p: &PathBuf| -> PathBuf {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        let mut modules = BTreeMap::new();
        for (name, m) in raw.module {
            if !valid_name(&name) {
                return Err(cx.say(
                    "serve.config_module_name",
                    &[("name", &crate::text::escape::clean(&name))],
                ));
            }
            let n = name.as_str();
            let profile = match &m.profile {
                Some(p) => Profile::load(&abs(p)).map_err(|e| {
                    cx.say(
                        "serve.config_module",
                        &[("name", n), ("error", &e.to_string())],
                    )
                })?,
                None => Profile::builtin(),
            };
            for id in &m.endpoints {
                if profile.endpoint(id).is_none() {
                    return Err(cx.say(
                        "serve.config_endpoint",
                        &[("name", n), ("profile", &profile.name), ("id", id)],
                    ));
                }
            }
            if m.password_file.is_some() && m.password_env.is_some() {
                return Err(cx.say("serve.config_password_both", &[("name", n)]));
            }
            let identity = Identity {
                cert: m.cert.as_ref().map(abs),
                key: m.key.as_ref().map(abs),
                password_file: m.password_file.as_ref().map(abs),
                password_env: m.password_env.clone(),
                ca: m.ca.iter().map(abs).collect(),
                trust: m.trust.iter().map(abs).collect(),
                no_system_trust: m.no_system_trust,
                cert_thumbprint: m.cert_thumbprint.clone(),
                cert_subject: m.cert_subject.clone(),
                machine_store: m.machine_store,
            };
            for p in identity
                .cert
                .iter()
                .chain(identity.key.iter())
                .chain(identity.password_file.iter())
                .chain(identity.ca.iter())
                .chain(identity.trust.iter())
            {
                if !p.is_file() {
                    return Err(cx.say(
                        "serve.config_file",
                        &[("name", n), ("file", &p.display().to_string())],
                    ));
                }
            }
            let timeout = cx.dur(&format!("module.{name}.timeout"), &m.timeout, false)?;
            let module = Module {
                name: name.clone(),
                profile,
                identity,
                proxy: m.proxy.clone(),
                no_proxy: m.no_proxy,
                resolver: m.resolver.clone(),
                timeout,
                endpoints: m.endpoints.clone(),
            };
            modules.insert(name, Arc::new(module));
        }
        Ok(Config { server, modules })
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The host, port and path of a URL, lower-cased host without a final dot.
fn split_url(url: &str) -> Option<(String, String, u16, String)> {
    let u = crate::profile::parse_url(url).ok()?;
    let host = u.host.trim_end_matches('.').to_ascii_lowercase();
    let path = u.path.split('?').next().unwrap_or("/").to_string();
    Some((u.scheme, host, u.port, path))
}

impl Module {
    fn allowed(&self) -> impl Iterator<Item = &Endpoint> {
        self.profile
            .endpoints
            .iter()
            .filter(|e| self.endpoints.is_empty() || self.endpoints.contains(&e.id))
    }

    /// The endpoints a scrape's `target` names: an endpoint id, an endpoint's URL (its query
    /// and per-user parts aside), or `host[:port]` / `https://host[:port]/` for every endpoint
    /// on that server. Anything else is not this module's to probe.
    pub fn resolve_target(&self, target: &str, lang: Lang) -> Result<Vec<String>, String> {
        let t = target.trim();
        if t.is_empty() {
            return Err(say("serve.target_empty", lang, &[]));
        }
        if let Some(e) = self.allowed().find(|e| e.id == t) {
            return Ok(vec![e.id.clone()]);
        }
        let with_scheme = if t.contains("://") {
            t.to_string()
        } else {
            format!("https://{t}")
        };
        let Some((scheme, host, port, path)) = split_url(&with_scheme) else {
            return Err(say("serve.target_not_url", lang, &[]));
        };
        let whole_server = path.is_empty() || path == "/";
        let ids: Vec<String> = self
            .allowed()
            .filter(|e| {
                let ep_url = e.url.split('{').next().unwrap_or(&e.url);
                split_url(ep_url).is_some_and(|(s, h, p, ep_path)| {
                    s == scheme
                        && h == host
                        && p == port
                        && (whole_server || ep_path.trim_end_matches('?') == path)
                })
            })
            .map(|e| e.id.clone())
            .collect();
        if ids.is_empty() {
            return Err(say(
                "serve.target_not_allowed",
                lang,
                &[("name", &self.name), ("profile", &self.profile.name)],
            ));
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Result<Config, String> {
        let src = format!("[module.ebunsho]\n{extra}\n");
        Config::parse(&src, Path::new("."), "t.toml", Lang::En)
    }

    #[test]
    fn defaults_and_durations() {
        let c = cfg("").unwrap();
        assert_eq!(c.server.max_concurrent_probes, 4);
        assert_eq!(c.server.versions_cache, Duration::from_secs(3600));
        assert_eq!(parse_duration("1h", false), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0", true), Some(Duration::ZERO));
        assert!(parse_duration("0", false).is_none());
        assert!(parse_duration("soon", true).is_none());
        assert!(parse_duration("25h", true).is_none());
    }

    #[test]
    fn unknown_keys_missing_files_and_bad_names_are_refused() {
        assert!(cfg("password = \"x\"").unwrap_err().contains("password"));
        assert!(cfg("cert = \"/nonexistent/c.p12\"")
            .unwrap_err()
            .contains("not a readable file"));
        assert!(cfg("endpoints = [\"nope\"]")
            .unwrap_err()
            .contains("no endpoint `nope`"));
        let parse = |s: &str| Config::parse(s, Path::new("."), "t.toml", Lang::En);
        assert!(parse("[module.\"a b\"]\n").is_err());
        assert!(parse("").unwrap_err().contains("no [module.NAME]"));
        let e = parse("[server]\n\ntimeout = \"soon\"\n[module.a]\n").unwrap_err();
        assert!(e.contains("server.timeout") && !e.contains('\n'), "{e}");
        let e = parse("[server]\nbogus = 1\n").unwrap_err();
        assert!(e.starts_with("t.toml: line 2:") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn targets_are_only_the_profiles_endpoints() {
        let c = cfg("").unwrap();
        let m = &c.modules["ebunsho"];
        let login = m.profile.endpoint("login").unwrap().url.clone();
        assert_eq!(m.resolve_target("login", Lang::En).unwrap(), vec!["login"]);
        assert_eq!(m.resolve_target(&login, Lang::En).unwrap(), vec!["login"]);
        let host = split_url(&login).unwrap().1;
        assert!(!m.resolve_target(&host, Lang::En).unwrap().is_empty());
        assert!(m.resolve_target("https://evil.example/", Lang::En).is_err());
        assert!(m
            .resolve_target(&format!("https://{host}.evil.example/"), Lang::En)
            .is_err());
        assert!(m
            .resolve_target(&format!("https://{host}:8443/"), Lang::En)
            .is_err());
        assert!(m.resolve_target("", Lang::En).is_err());
    }

    #[test]
    fn a_module_may_narrow_its_endpoints() {
        let c = cfg("endpoints = [\"login\"]").unwrap();
        let m = &c.modules["ebunsho"];
        assert!(m.resolve_target("login", Lang::En).is_ok());
        assert!(m.resolve_target("check", Lang::En).is_err());
    }
}

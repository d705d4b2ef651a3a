//! The `certprobe serve` configuration (TOML): the exporter's limits and the modules a scrape
//! may name. A module is a profile plus an identity; its targets are the profile's endpoints and
//! nothing else, so the exporter never becomes an open proxy for the client certificate.

use crate::error::AppError;
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

/// `10s`, `500ms`, `5m`, `1h`, or a bare number of seconds; `0` only where `zero_ok`.
pub fn parse_duration(s: &str, zero_ok: bool) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration (10s, 500ms, 5m, 1h)"))?;
    let secs = match unit.trim() {
        "ms" => v / 1000.0,
        "" | "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("`{t}`: unknown unit (ms, s, m, h)")),
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) || (secs == 0.0 && !zero_ok) {
        return Err(format!("`{t}`: out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn dur(key: &str, v: &Option<String>, zero_ok: bool) -> Result<Option<Duration>, String> {
    v.as_deref()
        .map(|s| parse_duration(s, zero_ok).map_err(|e| format!("{key}: {e}")))
        .transpose()
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, AppError> {
        let src = std::fs::read_to_string(path).map_err(|e| {
            AppError::input(format!("cannot read configuration {}: {e}", path.display()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&src, base).map_err(|e| AppError::input(format!("{}: {e}", path.display())))
    }

    /// Parse and check; relative paths are taken from `base`.
    pub fn parse(src: &str, base: &Path) -> Result<Config, String> {
        let raw: RawConfig = toml::from_str(src).map_err(|e| e.to_string().trim().to_string())?;
        let d = ServerSettings::default();
        let s = &raw.server;
        let server = ServerSettings {
            listen: s.listen.clone(),
            max_concurrent_probes: s.max_concurrent_probes.unwrap_or(d.max_concurrent_probes),
            max_queued_probes: s.max_queued_probes.unwrap_or(d.max_queued_probes),
            timeout: dur("server.timeout", &s.timeout, false)?.unwrap_or(d.timeout),
            timeout_offset: dur("server.timeout_offset", &s.timeout_offset, true)?
                .unwrap_or(d.timeout_offset),
            versions_cache: dur("server.versions_cache", &s.versions_cache, true)?
                .unwrap_or(d.versions_cache),
        };
        if server.max_concurrent_probes == 0 || server.max_concurrent_probes > 1024 {
            return Err("server.max_concurrent_probes: must be 1 to 1024".into());
        }
        if server.max_queued_probes > 100_000 {
            return Err("server.max_queued_probes: at most 100000".into());
        }
        if raw.module.is_empty() {
            return Err("no [module.NAME] is configured".into());
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
                return Err(format!(
                    "module `{}`: names are letters, digits, `-`, `_` and `.`",
                    crate::text::escape::clean(&name)
                ));
            }
            let profile = match &m.profile {
                Some(p) => Profile::load(&abs(p)).map_err(|e| format!("module `{name}`: {e}"))?,
                None => Profile::builtin(),
            };
            for id in &m.endpoints {
                if profile.endpoint(id).is_none() {
                    return Err(format!(
                        "module `{name}`: profile `{}` has no endpoint `{id}`",
                        profile.name
                    ));
                }
            }
            if m.password_file.is_some() && m.password_env.is_some() {
                return Err(format!(
                    "module `{name}`: give password_file or password_env, not both"
                ));
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
                    return Err(format!(
                        "module `{name}`: {} is not a readable file",
                        p.display()
                    ));
                }
            }
            let module = Module {
                name: name.clone(),
                profile,
                identity,
                proxy: m.proxy.clone(),
                no_proxy: m.no_proxy,
                resolver: m.resolver.clone(),
                timeout: dur(&format!("module `{name}` timeout"), &m.timeout, false)?,
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
    pub fn resolve_target(&self, target: &str) -> Result<Vec<String>, String> {
        let t = target.trim();
        if t.is_empty() {
            return Err("`target` is empty".into());
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
            return Err("`target` is neither an endpoint id nor a URL".into());
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
            return Err(format!(
                "target is not an endpoint of module `{}` (profile `{}`)",
                self.name, self.profile.name
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
        Config::parse(&src, Path::new("."))
    }

    #[test]
    fn defaults_and_durations() {
        let c = cfg("").unwrap();
        assert_eq!(c.server.max_concurrent_probes, 4);
        assert_eq!(c.server.versions_cache, Duration::from_secs(3600));
        assert_eq!(parse_duration("1h", false), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0", true), Ok(Duration::ZERO));
        assert!(parse_duration("0", false).is_err());
        assert!(parse_duration("soon", true).is_err());
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
        assert!(Config::parse("[module.\"a b\"]\n", Path::new(".")).is_err());
        assert!(Config::parse("", Path::new(".")).is_err());
    }

    #[test]
    fn targets_are_only_the_profiles_endpoints() {
        let c = cfg("").unwrap();
        let m = &c.modules["ebunsho"];
        let login = m.profile.endpoint("login").unwrap().url.clone();
        assert_eq!(m.resolve_target("login").unwrap(), vec!["login"]);
        assert_eq!(m.resolve_target(&login).unwrap(), vec!["login"]);
        let host = split_url(&login).unwrap().1;
        assert!(!m.resolve_target(&host).unwrap().is_empty());
        assert!(m.resolve_target("https://evil.example/").is_err());
        assert!(m
            .resolve_target(&format!("https://{host}.evil.example/"))
            .is_err());
        assert!(m.resolve_target(&format!("https://{host}:8443/")).is_err());
        assert!(m.resolve_target("").is_err());
    }

    #[test]
    fn a_module_may_narrow_its_endpoints() {
        let c = cfg("endpoints = [\"login\"]").unwrap();
        let m = &c.modules["ebunsho"];
        assert!(m.resolve_target("login").is_ok());
        assert!(m.resolve_target("check").is_err());
    }
}

//! Proxies (guide 1-3 (5)–(8)): where the settings come from, whether each host goes direct or
//! through the proxy, an HTTP CONNECT tunnel that tells its failures apart, and detection of a
//! TLS-intercepting proxy from the server chain seen through it.
//!
//! Proxy credentials are kept only inside [`ProxyUrl`], whose `Display` and `Debug` hide them;
//! they leave the process only in the `Proxy-Authorization` header sent to the proxy itself.

use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::net::NetOptions;
use crate::profile::{wildcard_match, Profile};
use base64::Engine as _;

use std::fmt;
use std::net::IpAddr;

// ---------------------------------------------------------------------------------------------
// Proxy URL

/// An HTTP proxy: `http://[user:password@]host:port`. Credentials are never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub host: String,
    pub port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl ProxyUrl {
    /// Parse a proxy setting. A bare `host:port` (as Windows stores it) means `http://`.
    /// The error never repeats the value (it may hold a password).
    pub fn parse(s: &str) -> Result<ProxyUrl, Text> {
        let s = s.trim();
        if s.is_empty() {
            return Err(phrase("net.proxy_url_empty", &[]));
        }
        let with_scheme = if s.contains("://") {
            s.to_string()
        } else {
            format!("http://{s}")
        };
        let u = url::Url::parse(&with_scheme).map_err(|e| {
            super::words::with_detail(phrase("net.proxy_url_invalid", &[]), &e.to_string())
        })?;
        match u.scheme() {
            "http" => {}
            "https" => return Err(phrase("net.proxy_url_https", &[])),
            other if other.starts_with("socks") => {
                return Err(phrase("net.proxy_url_socks", &[("scheme", other)]))
            }
            other => return Err(phrase("net.proxy_url_scheme", &[("scheme", other)])),
        }
        // `http://wpad/wpad.dat`, `http://host/proxy.pac`: the address of an automatic
        // configuration script pasted where a proxy belongs.
        let path = u.path().to_ascii_lowercase();
        if path.ends_with(".pac") || path.ends_with(".dat") {
            return Err(phrase("net.proxy_url_is_pac", &[]));
        }
        let host = match u.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(phrase("net.proxy_url_no_host", &[])),
        };
        let port = u.port().unwrap_or(80);
        let decode = |x: &str| {
            percent_encoding::percent_decode_str(x)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = (!u.username().is_empty()).then(|| decode(u.username()));
        let password = u.password().map(decode);
        Ok(ProxyUrl {
            host,
            port,
            user,
            password,
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.user.is_some() || self.password.is_some()
    }

    /// `host:port` (IPv6 in brackets), as used to connect and in messages.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `http://user:password@host:port`, percent-encoded: only for handing the proxy to an HTTP
    /// client. Never display it.
    pub fn with_credentials(&self) -> String {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        match (&self.user, &self.password) {
            (None, None) => format!("http://{}", self.authority()),
            (u, p) => format!(
                "http://{}:{}@{}",
                enc(u.as_deref().unwrap_or("")),
                enc(p.as_deref().unwrap_or("")),
                self.authority()
            ),
        }
    }

    fn basic_auth(&self) -> Option<String> {
        if !self.has_credentials() {
            return None;
        }
        let raw = format!(
            "{}:{}",
            self.user.as_deref().unwrap_or(""),
            self.password.as_deref().unwrap_or("")
        );
        Some(base64::engine::general_purpose::STANDARD.encode(raw))
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_credentials() {
            write!(f, "http://***@{}", self.authority())
        } else {
            write!(f, "http://{}", self.authority())
        }
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// ---------------------------------------------------------------------------------------------
// Settings and routes

/// Where a proxy setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--proxy`
    Flag,
    /// An environment variable, by name.
    Env(String),
    /// Windows Internet Settings (`ProxyServer`).
    Windows,
    /// The automatic configuration (PAC) script at this address, as Windows evaluates it.
    Pac(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--proxy"),
            Source::Env(n) => f.write_str(n),
            Source::Windows => f.write_str("Windows Internet Settings"),
            Source::Pac(url) => write!(f, "PAC {url}"),
        }
    }
}

impl Source {
    /// Where the setting came from, for a finding's sentence.
    pub fn text(&self) -> Text {
        match self {
            Source::Flag => Text::same("--proxy"),
            Source::Env(n) => Text::same(n.clone()),
            Source::Windows => phrase("net.source_windows", &[]),
            Source::Pac(url) => phrase("net.source_pac", &[("url", url)]),
        }
    }
}

/// A proxy and where it was configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub url: ProxyUrl,
    pub source: Source,
}

/// One entry of a bypass list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bypass {
    /// `*` alone: no proxy for anything.
    All,
    /// NO_PROXY `example.com` / `.example.com` / `*.example.com`: the domain and every name under it.
    Domain(String),
    /// Windows `ProxyOverride` pattern with `*` / `?` wildcards (a plain name matches exactly).
    Glob(String),
    /// An IP address.
    Ip(IpAddr),
    /// An address range `10.0.0.0/8`.
    Cidr(IpAddr, u8),
    /// Windows `<local>`: names without a dot.
    Local,
}

impl Bypass {
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match self {
            Bypass::All => true,
            Bypass::Domain(d) => host == d || host.ends_with(&format!(".{d}")),
            Bypass::Glob(p) => wildcard_match(p, host),
            Bypass::Ip(ip) => host.parse::<IpAddr>().is_ok_and(|h| h == *ip),
            Bypass::Cidr(net, bits) => host
                .parse::<IpAddr>()
                .is_ok_and(|h| in_cidr(h, *net, *bits)),
            Bypass::Local => !host.contains('.') && host.parse::<IpAddr>().is_err(),
        }
    }
}

impl fmt::Display for Bypass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bypass::All => f.write_str("*"),
            Bypass::Domain(d) => write!(f, ".{d}"),
            Bypass::Glob(p) => f.write_str(p),
            Bypass::Ip(ip) => write!(f, "{ip}"),
            Bypass::Cidr(n, b) => write!(f, "{n}/{b}"),
            Bypass::Local => f.write_str("<local>"),
        }
    }
}

fn in_cidr(h: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (h, net) {
        (IpAddr::V4(h), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(h) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(h), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(h) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Parse a `NO_PROXY` value (comma or space separated; suffix semantics, as curl has them).
pub fn parse_no_proxy(value: &str) -> Vec<Bypass> {
    value
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e == "*" {
                return Bypass::All;
            }
            if let Some((ip, bits)) = e.split_once('/') {
                if let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
                    return Bypass::Cidr(ip, bits);
                }
            }
            let bare = e.trim_start_matches('[');
            let bare = bare.split(']').next().unwrap_or(bare);
            if let Ok(ip) = bare.parse::<IpAddr>() {
                return Bypass::Ip(ip);
            }
            // `host:port` — the port is ignored.
            let name = match e.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
                _ => e,
            };
            let name = name.trim_start_matches('*').trim_start_matches('.');
            Bypass::Domain(name.trim_end_matches('.').to_ascii_lowercase())
        })
        .collect()
}

/// Parse a Windows `ProxyOverride` value (`;`-separated, wildcards, `<local>`).
pub fn parse_proxy_override(value: &str) -> Vec<Bypass> {
    value
        .split([';', ' ', '\t', '\r', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e.eq_ignore_ascii_case("<local>") {
                return Bypass::Local;
            }
            let e = e
                .strip_prefix("http://")
                .or_else(|| e.strip_prefix("https://"))
                .unwrap_or(e);
            if e == "*" {
                return Bypass::All;
            }
            Bypass::Glob(e.to_ascii_lowercase())
        })
        .collect()
}

/// The Windows Internet Settings values that concern proxies (read from
/// `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings` by the Windows code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsInternetSettings {
    pub proxy_enable: bool,
    pub proxy_server: Option<String>,
    pub proxy_override: Option<String>,
    pub auto_config_url: Option<String>,
}

/// `ProxyServer`: `host:port` for every protocol, or `http=h:p;https=h:p;socks=h:p`.
/// Returns (for https, for http, problems).
pub fn parse_proxy_server(value: &str) -> (Option<ProxyUrl>, Option<ProxyUrl>, Vec<Text>) {
    let mut problems = Vec::new();
    let mut parse = |v: &str, what: &str| match ProxyUrl::parse(v) {
        Ok(u) => Some(u),
        Err(e) => {
            let name = Text::same(format!("ProxyServer {what}").trim_end().to_string());
            problems.push(super::words::fill(
                phrase("net.proxy_server_part", &[]),
                &[("name", &name), ("why", &e)],
            ));
            None
        }
    };
    if !value.contains('=') {
        let u = parse(value, "");
        return (u.clone(), u, problems);
    }
    let (mut https, mut http, mut socks) = (None, None, false);
    for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((proto, addr)) = part.split_once('=') else {
            continue;
        };
        match proto.trim().to_ascii_lowercase().as_str() {
            "https" => https = parse(addr, "https="),
            "http" => http = parse(addr, "http="),
            "socks" => socks = true,
            _ => {}
        }
    }
    if socks {
        problems.push(phrase("net.proxy_server_socks", &[]));
    }
    (https, http, problems)
}

/// The proxy settings in force, from `--proxy`/`--no-proxy`, the environment, or Windows.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// `--no-proxy` given: everything goes direct.
    pub disabled: bool,
    pub https: Option<Proxy>,
    pub http: Option<Proxy>,
    pub bypass: Vec<Bypass>,
    /// Where the bypass list came from (`NO_PROXY`, `ProxyOverride`).
    pub bypass_source: Option<String>,
    /// Windows (and the browsers on it) never send localhost or 127.0.0.0/8 to a proxy.
    pub implicit_loopback_bypass: bool,
    /// An automatic configuration (PAC) URL.
    pub pac: Option<String>,
    /// Settings that could not be used, each `(name, why)`; never the value itself.
    pub problems: Vec<(String, Text)>,
    /// Settings seen but overridden by a flag.
    pub overridden: Vec<String>,
}

/// Why a connection goes direct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direct {
    NoProxy,
    Disabled,
    Bypassed(String),
}

/// How a connection to one host is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Direct(Direct),
    Via(Proxy),
}

impl ProxySettings {
    /// Build the settings. Precedence: `--no-proxy`, `--proxy`, environment, Windows.
    pub fn from_sources(
        args: &NetOptions,
        env: impl Fn(&str) -> Option<String>,
        windows: Option<&WindowsInternetSettings>,
    ) -> ProxySettings {
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let mut s = ProxySettings {
            disabled: args.no_proxy,
            ..ProxySettings::default()
        };
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| env(n).map(|v| (n.to_string(), v)))
        };
        let env_https = first(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]);
        let env_http = first(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]);
        let env_no = first(&["no_proxy", "NO_PROXY"]);

        if let Some(flag) = &args.proxy {
            match ProxyUrl::parse(flag) {
                Ok(u) => {
                    let p = Proxy {
                        url: u,
                        source: Source::Flag,
                    };
                    s.https = Some(p.clone());
                    s.http = Some(p);
                }
                Err(e) => s.problems.push(("--proxy".into(), e)),
            }
            for (n, _) in [&env_https, &env_http, &env_no].into_iter().flatten() {
                s.overridden.push(n.clone());
            }
            s.overridden.dedup();
            return s;
        }
        if env_https.is_some() || env_http.is_some() {
            let mut take = |found: &Option<(String, String)>| {
                let (name, value) = found.as_ref()?;
                match ProxyUrl::parse(value) {
                    Ok(url) => Some(Proxy {
                        url,
                        source: Source::Env(name.clone()),
                    }),
                    Err(e) => {
                        if !s.problems.iter().any(|(n, _)| n == name) {
                            s.problems.push((name.clone(), e));
                        }
                        None
                    }
                }
            };
            let https = take(&env_https);
            let http = take(&env_http);
            s.https = https;
            s.http = http;
            if let Some((name, value)) = env_no {
                s.bypass = parse_no_proxy(&value);
                s.bypass_source = Some(name);
            }
            if windows.is_some_and(|w| w.proxy_enable || w.auto_config_url.is_some()) {
                s.overridden.push("Windows Internet Settings".into());
            }
            return s;
        }
        if let Some(w) = windows {
            s.pac = w.auto_config_url.clone().filter(|u| !u.trim().is_empty());
            if w.proxy_enable {
                if let Some(server) = &w.proxy_server {
                    let (https, http, problems) = parse_proxy_server(server);
                    s.https = https.map(|url| Proxy {
                        url,
                        source: Source::Windows,
                    });
                    s.http = http.map(|url| Proxy {
                        url,
                        source: Source::Windows,
                    });
                    s.problems
                        .extend(problems.into_iter().map(|p| ("ProxyServer".to_string(), p)));
                }
                if let Some(o) = &w.proxy_override {
                    s.bypass = parse_proxy_override(o);
                    s.bypass_source = Some("ProxyOverride".into());
                }
                s.implicit_loopback_bypass = true;
            }
        }
        s
    }

    /// Settings from this process's environment and flags (and, on Windows, the registry's
    /// Internet Settings).
    pub fn from_environment(args: &NetOptions) -> ProxySettings {
        ProxySettings::from_sources(args, |k| std::env::var(k).ok(), windows_settings().as_ref())
    }

    /// Is any proxy configured at all (before `--no-proxy`)?
    pub fn any(&self) -> bool {
        self.https.is_some() || self.http.is_some() || self.pac.is_some()
    }

    /// Route for a connection to `host` with URL scheme `scheme` (`https` or `http`).
    pub fn route(&self, scheme: &str, host: &str) -> Route {
        if self.disabled {
            return Route::Direct(Direct::Disabled);
        }
        // Windows: the PAC script's choice, evaluated by Windows, comes first.
        if let Some(r) = self.pac.as_deref().and_then(|p| pac_route(p, scheme, host)) {
            return r;
        }
        let proxy = if scheme.eq_ignore_ascii_case("http") {
            &self.http
        } else {
            &self.https
        };
        let Some(proxy) = proxy else {
            return Route::Direct(Direct::NoProxy);
        };
        if self.implicit_loopback_bypass && is_loopback_name(host) {
            return Route::Direct(Direct::Bypassed("loopback (implicit)".into()));
        }
        if let Some(rule) = self.bypass.iter().find(|b| b.matches(host)) {
            return Route::Direct(Direct::Bypassed(rule.to_string()));
        }
        Route::Via(proxy.clone())
    }
}

/// The Windows Internet Settings values that concern proxies; `None` elsewhere, or when the
/// registry cannot be read (the reader is in `platform`).
fn windows_settings() -> Option<WindowsInternetSettings> {
    crate::platform::internet::current().map(|s| WindowsInternetSettings {
        proxy_enable: s.proxy_enable.unwrap_or(false),
        proxy_server: s.proxy_server,
        proxy_override: s.proxy_override,
        auto_config_url: s.auto_config_url,
    })
}

/// Windows: the route the PAC script at `pac` chooses for `scheme://host/`, evaluated by Windows
/// (WinHTTP) within [`PAC_TIMEOUT`]; `None` when it cannot be evaluated (then the static settings
/// decide). Elsewhere always `None`.
#[cfg(windows)]
fn pac_route(pac: &str, scheme: &str, host: &str) -> Option<Route> {
    use crate::platform::windows::winhttp::{proxy_for_url, PacChoice};
    let url = format!("{scheme}://{host}/");
    match proxy_for_url(pac, &url, PAC_TIMEOUT).ok()? {
        PacChoice::Direct => Some(Route::Direct(Direct::Bypassed(format!(
            "PAC {pac}: DIRECT"
        )))),
        PacChoice::Proxies(list) => list.iter().find_map(|p| {
            ProxyUrl::parse(p).ok().map(|url| {
                Route::Via(Proxy {
                    url,
                    source: Source::Pac(pac.to_string()),
                })
            })
        }),
    }
}

#[cfg(not(windows))]
fn pac_route(_pac: &str, _scheme: &str, _host: &str) -> Option<Route> {
    None
}

/// The bound on downloading and evaluating the PAC script (once per URL and run).
#[cfg(windows)]
const PAC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn is_loopback_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.ends_with(".localhost")
        || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

// ---------------------------------------------------------------------------------------------
// Findings about the settings

/// The exceptions that would take `hosts` out of the proxy: the profile's pattern when one
/// covers a host (`*.secomtrust.net`), else the host itself.
pub fn exceptions_for(profile: &Profile, hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hosts {
        let e = profile
            .proxy
            .exceptions
            .iter()
            .find(|p| wildcard_match(p, h))
            .cloned()
            .unwrap_or_else(|| h.clone());
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// The same exceptions written for `NO_PROXY` (`*.example.com` → `.example.com`).
fn no_proxy_form(exceptions: &[String]) -> String {
    exceptions
        .iter()
        .map(|e| e.strip_prefix('*').unwrap_or(e).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The hosts that see the client certificate, each with the scheme it is reached by.
fn certificate_hosts(profile: &Profile) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for h in &profile.certificate_hosts.allow {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        let scheme = profile
            .endpoints
            .iter()
            .filter_map(|e| crate::profile::parse_url(&e.url).ok())
            .find(|u| u.host == h)
            .map(|u| u.scheme)
            .unwrap_or_else(|| "https".into());
        if !out.iter().any(|(x, _)| *x == h) {
            out.push((h, scheme));
        }
    }
    out
}

/// `env.proxy` from this process's settings.
pub fn environment_finding(profile: &Profile, args: &NetOptions) -> Finding {
    settings_finding(profile, &ProxySettings::from_environment(args))
}

/// `env.proxy` for given settings (pure; unit-tested).
pub fn settings_finding(profile: &Profile, s: &ProxySettings) -> Finding {
    let f = Finding::new(
        "env.proxy",
        Phase::Environment,
        phrase("net.proxy_settings_title", &[]),
        "proxy",
    );
    let hosts = certificate_hosts(profile);
    let mut routes = serde_json::Map::new();
    let mut via: Vec<(String, Proxy)> = Vec::new();
    for (h, scheme) in &hosts {
        let r = s.route(scheme, h);
        routes.insert(
            h.clone(),
            serde_json::json!(match &r {
                Route::Direct(_) => "direct".to_string(),
                Route::Via(p) => format!("proxy {}", p.url),
            }),
        );
        if let Route::Via(p) = r {
            via.push((h.clone(), p));
        }
    }
    let data = serde_json::json!({
        "https_proxy": s.https.as_ref().map(|p| p.url.to_string()),
        "http_proxy": s.http.as_ref().map(|p| p.url.to_string()),
        "source": s.https.as_ref().or(s.http.as_ref()).map(|p| p.source.to_string()),
        "bypass": s.bypass.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
        "bypass_source": s.bypass_source,
        "pac": s.pac,
        "disabled": s.disabled,
        "overridden": s.overridden,
        "problems": s.problems.iter().map(|(n, e)| format!("{n}: {}", e.en)).collect::<Vec<_>>(),
        "routes": routes,
    });
    let f = f.data(data);
    let all_exc = exceptions_for(
        profile,
        &hosts.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
    );
    let windows_all = all_exc.join(";");

    if let Some((name, why)) = s.problems.first() {
        return f
            .warn(super::words::fill(
                phrase("net.proxy_setting_unusable", &[("name", name)]),
                &[("why", why)],
            ))
            .section("1-3 (5)-(8)")
            .fix(crate::guide::fix("proxy.bad_setting", &[("name", name)]));
    }
    if s.disabled {
        let seen = s
            .https
            .as_ref()
            .or(s.http.as_ref())
            .map(|p| {
                super::words::fill(
                    phrase("net.proxy_seen", &[("proxy", &p.url.to_string())]),
                    &[("source", &p.source.text())],
                )
            })
            .unwrap_or_else(|| Text::same(""));
        return f.info(super::words::fill(
            phrase("net.proxy_disabled", &[]),
            &[("seen", &seen)],
        ));
    }
    if !via.is_empty() {
        let via_hosts: Vec<String> = via.iter().map(|(h, _)| h.clone()).collect();
        let (proxy, source) = (&via[0].1.url, &via[0].1.source);
        let list = via_hosts.join(", ");
        let exc = exceptions_for(profile, &via_hosts);
        let windows = exc.join(";");
        let env_form = no_proxy_form(&exc);
        let fix = match source {
            Source::Env(_) => crate::guide::fix(
                "proxy.exception_env",
                &[("exceptions", &env_form), ("windows", &windows)],
            ),
            Source::Windows => {
                crate::guide::fix("proxy.exception_windows", &[("windows", &windows)])
            }
            Source::Flag => crate::guide::fix("proxy.exception_flag", &[("windows", &windows)]),
            Source::Pac(url) => {
                crate::guide::fix("proxy.pac_via", &[("url", url), ("windows", &windows)])
            }
        };
        let bypass = match &s.bypass_source {
            Some(n) => phrase("net.proxy_bypass_misses", &[("name", n)]),
            None => Text::same(""),
        };
        return f
            .warn(super::words::fill(
                phrase(
                    "net.proxy_hosts_via",
                    &[
                        ("list", &list),
                        ("proxy", &proxy.to_string()),
                        ("windows", &windows),
                    ],
                ),
                &[("source", &source.text()), ("bypass", &bypass)],
            ))
            .section("1-3 (5)-(8)")
            .fix(fix);
    }
    if let Some(pac) = &s.pac {
        // Windows evaluated the script for every certificate host, and none goes via a proxy.
        if !hosts.is_empty()
            && hosts
                .iter()
                .all(|(h, sch)| pac_route(pac, sch, h).is_some())
        {
            return f.pass(crate::guide::fix("proxy.pac_direct", &[("url", pac)]));
        }
        return f
            .info(phrase("net.proxy_pac_unevaluated", &[("pac", pac)]))
            .section("1-3 (5)-(8)")
            .fix(crate::guide::fix(
                "proxy.pac",
                &[("url", pac), ("windows", &windows_all)],
            ));
    }
    match s.https.as_ref().or(s.http.as_ref()) {
        Some(p) => {
            let rules = s
                .bypass
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let by = s.bypass_source.clone().unwrap_or_default();
            f.pass(super::words::fill(
                phrase(
                    "net.proxy_bypassed_all",
                    &[
                        ("proxy", &p.url.to_string()),
                        ("by", &by),
                        ("rules", &rules),
                    ],
                ),
                &[("source", &p.source.text())],
            ))
        }
        None => f.pass(phrase("net.proxy_none", &[])),
    }
}

/// `net.<endpoint>.proxy`: how this endpoint is reached.
pub fn route_finding(
    endpoint_id: &str,
    host: &str,
    port: u16,
    client_cert: bool,
    route: &Route,
    profile: &Profile,
) -> Finding {
    let f = Finding::new(
        format!("net.{endpoint_id}.proxy"),
        Phase::Network,
        phrase("net.proxy_route_title", &[]),
        format!("{host}:{port}"),
    );
    match route {
        Route::Direct(why) => {
            let why = match why {
                Direct::NoProxy => phrase("net.direct_no_proxy", &[]),
                Direct::Disabled => Text::same("--no-proxy"),
                Direct::Bypassed(rule) => phrase("net.direct_exception", &[("rule", rule)]),
            };
            f.data(serde_json::json!({"route": "direct"}))
                .pass(super::words::fill(
                    phrase("net.direct", &[]),
                    &[("why", &why)],
                ))
        }
        Route::Via(p) => {
            let f = f.data(serde_json::json!({"route": "proxy", "proxy": p.url.to_string(), "source": p.source.to_string()}));
            if client_cert {
                let exc = exceptions_for(profile, &[host.to_string()]).join(";");
                f.warn(super::words::fill(
                    phrase(
                        "net.proxy_route_client_cert",
                        &[("proxy", &p.url.to_string()), ("exc", &exc)],
                    ),
                    &[("source", &p.source.text())],
                ))
                .section("1-3 (5)-(8)")
                .fix(crate::guide::fix(
                    "proxy.exception_windows",
                    &[("windows", &exc)],
                ))
            } else {
                f.info(super::words::fill(
                    phrase("net.proxy_route_via", &[("proxy", &p.url.to_string())]),
                    &[("source", &p.source.text())],
                ))
            }
        }
    }
}

mod intercept;
mod tunnel;

pub use intercept::*;
pub use tunnel::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> NetOptions {
        NetOptions::default()
    }
    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn credentials_are_never_displayed() {
        let u = ProxyUrl::parse("http://alice:s3cr%40t@proxy.corp:3128").unwrap();
        assert_eq!(u.to_string(), "http://***@proxy.corp:3128");
        assert_eq!(format!("{u:?}"), "http://***@proxy.corp:3128");
        assert_eq!(u.password.as_deref(), Some("s3cr@t"));
        assert_eq!(
            u.basic_auth().unwrap(),
            base64::engine::general_purpose::STANDARD.encode("alice:s3cr@t")
        );
        let e = ProxyUrl::parse("https://alice:s3cret@proxy:1").unwrap_err();
        assert!(!e.en.contains("s3cret") && !e.ja.contains("s3cret"));
        assert_eq!(
            ProxyUrl::parse("10.0.0.1:8080").unwrap().to_string(),
            "http://10.0.0.1:8080"
        );
        assert_eq!(
            ProxyUrl::parse("http://[::1]:3128").unwrap().authority(),
            "[::1]:3128"
        );
        assert!(ProxyUrl::parse("socks5://h:1").is_err());
        assert!(ProxyUrl::parse("").is_err());
    }

    #[test]
    fn no_proxy_suffix_semantics() {
        let rules =
            parse_no_proxy(".secomtrust.net, example.org,*.wild.test ,10.0.0.0/8,::1,host:8080");
        let hit = |h: &str| rules.iter().any(|r| r.matches(h));
        assert!(hit("webra1.secomtrust.net"));
        assert!(hit("secomtrust.net"));
        assert!(!hit("evilsecomtrust.net"));
        assert!(hit("a.example.org") && hit("example.org"));
        assert!(hit("x.wild.test"));
        assert!(hit("10.1.2.3") && !hit("11.1.2.3"));
        assert!(hit("::1") && hit("[::1]"));
        assert!(hit("host"));
        assert!(parse_no_proxy("*").iter().any(|r| r.matches("anything")));
    }

    #[test]
    fn windows_override_semantics() {
        let rules = parse_proxy_override("*.secomtrust.net;<local>;intranet.corp;10.*");
        let hit = |h: &str| rules.iter().any(|r| r.matches(h));
        assert!(hit("webra1.secomtrust.net"));
        assert!(
            !hit("secomtrust.net"),
            "*.x does not match x itself in WinINet"
        );
        assert!(hit("printer"), "<local> = no dot");
        assert!(!hit("ds.e-kakushin.com"));
        assert!(hit("intranet.corp") && !hit("a.intranet.corp"));
        assert!(hit("10.2.3.4"));
    }

    #[test]
    fn windows_proxy_server_forms() {
        let (s, h, p) = parse_proxy_server("proxy.corp:8080");
        assert_eq!(s.unwrap().authority(), "proxy.corp:8080");
        assert_eq!(h.unwrap().authority(), "proxy.corp:8080");
        assert!(p.is_empty());
        let (s, h, p) = parse_proxy_server("http=p1:80;https=p2:443;socks=s:1080");
        assert_eq!(s.unwrap().authority(), "p2:443");
        assert_eq!(h.unwrap().authority(), "p1:80");
        assert_eq!(p.len(), 1);
        let (s, h, _) = parse_proxy_server("http=p1:80");
        assert!(s.is_none() && h.is_some());
    }

    #[test]
    fn env_precedence_and_routes() {
        let s = ProxySettings::from_sources(
            &args(),
            env(&[
                ("HTTPS_PROXY", "http://up:1"),
                ("https_proxy", "http://low:2"),
                ("NO_PROXY", ".secomtrust.net"),
            ]),
            None,
        );
        let p = s.https.clone().unwrap();
        assert_eq!(p.url.authority(), "low:2");
        assert_eq!(p.source, Source::Env("https_proxy".into()));
        assert!(matches!(
            s.route("https", "webra1.secomtrust.net"),
            Route::Direct(Direct::Bypassed(_))
        ));
        assert!(matches!(
            s.route("https", "ds.e-kakushin.com"),
            Route::Via(_)
        ));
        assert!(matches!(
            s.route("http", "ds.e-kakushin.com"),
            Route::Direct(Direct::NoProxy)
        ));
        // ALL_PROXY applies to both schemes; curl does not bypass localhost implicitly.
        let s = ProxySettings::from_sources(&args(), env(&[("ALL_PROXY", "p:3")]), None);
        assert!(matches!(s.route("http", "localhost"), Route::Via(_)));
        // --no-proxy and --proxy win over the environment.
        let mut a = args();
        a.no_proxy = true;
        let s = ProxySettings::from_sources(&a, env(&[("HTTPS_PROXY", "p:3")]), None);
        assert_eq!(s.route("https", "x"), Route::Direct(Direct::Disabled));
        let mut a = args();
        a.proxy = Some("http://flag:9".into());
        let s = ProxySettings::from_sources(
            &a,
            env(&[("HTTPS_PROXY", "p:3"), ("NO_PROXY", "*")]),
            None,
        );
        assert!(matches!(s.route("https", "x"), Route::Via(p) if p.source == Source::Flag));
        assert_eq!(
            s.overridden,
            vec!["HTTPS_PROXY".to_string(), "NO_PROXY".to_string()]
        );
    }

    #[test]
    fn windows_settings_route() {
        let w = WindowsInternetSettings {
            proxy_enable: true,
            proxy_server: Some("proxy.corp:8080".into()),
            proxy_override: Some("*.secomtrust.net;<local>".into()),
            auto_config_url: None,
        };
        let s = ProxySettings::from_sources(&args(), env(&[]), Some(&w));
        assert!(matches!(
            s.route("https", "webra2.secomtrust.net"),
            Route::Direct(_)
        ));
        assert!(matches!(s.route("https", "localhost"), Route::Direct(_)));
        assert!(
            matches!(s.route("https", "ds.e-kakushin.com"), Route::Via(p) if p.source == Source::Windows)
        );
        let off = WindowsInternetSettings {
            proxy_enable: false,
            ..w
        };
        let s = ProxySettings::from_sources(&args(), env(&[]), Some(&off));
        assert!(matches!(
            s.route("https", "ds.e-kakushin.com"),
            Route::Direct(Direct::NoProxy)
        ));
    }

    #[test]
    fn env_proxy_finding_names_the_exact_exception() {
        let p = Profile::builtin();
        let s = ProxySettings::from_sources(
            &args(),
            env(&[("HTTPS_PROXY", "http://u:pw@proxy:8080")]),
            None,
        );
        let f = settings_finding(&p, &s);
        assert_eq!(f.status, crate::Status::Warn);
        assert_eq!(f.section.as_deref(), Some("1-3 (5)-(8)"));
        assert!(
            f.detail.en.contains("*.secomtrust.net;ds.e-kakushin.com"),
            "{}",
            f.detail.en
        );
        let fix = f.fix.clone().unwrap();
        assert!(
            fix.en.contains(".secomtrust.net,ds.e-kakushin.com"),
            "{}",
            fix.en
        );
        let all = format!("{:?}{}{}", f, fix.en, f.data);
        assert!(!all.contains("pw"), "credentials leaked: {all}");

        let s = ProxySettings::from_sources(
            &args(),
            env(&[
                ("HTTPS_PROXY", "http://proxy:8080"),
                ("NO_PROXY", ".secomtrust.net,ds.e-kakushin.com"),
            ]),
            None,
        );
        assert_eq!(settings_finding(&p, &s).status, crate::Status::Pass);
        let s = ProxySettings::from_sources(&args(), env(&[]), None);
        assert_eq!(settings_finding(&p, &s).status, crate::Status::Pass);
        let s = ProxySettings::from_sources(&args(), env(&[("HTTPS_PROXY", "socks5://x:1")]), None);
        assert_eq!(settings_finding(&p, &s).status, crate::Status::Warn);
        let w = WindowsInternetSettings {
            auto_config_url: Some("http://wpad/proxy.pac".into()),
            ..Default::default()
        };
        let s = ProxySettings::from_sources(&args(), env(&[]), Some(&w));
        let f = settings_finding(&p, &s);
        assert_eq!(f.status, crate::Status::Info);
        assert!(f.detail.en.contains("proxy.pac"));
    }

    #[test]
    fn interception_by_known_issuer_and_by_untrusted_chain() {
        let mk = |cn: &str| {
            let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.distinguished_name.push(rcgen::DnType::CommonName, cn);
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let ca_cert = ca.self_signed(&ca_key).unwrap();
            let issuer = rcgen::Issuer::new(ca, ca_key);
            let leaf = rcgen::CertificateParams::new(vec!["login.test".to_string()]).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let leaf = leaf.signed_by(&key, &issuer).unwrap();
            (ca_cert.der().clone(), leaf.der().clone())
        };
        let (real_ca, real_leaf) = mk("Test Public Root");
        let (_, mitm_leaf) = mk("mitmproxy");
        let (_, other_leaf) = mk("Corp Inspection CA");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(real_ca).unwrap();
        assert_eq!(
            detect_interception(std::slice::from_ref(&real_leaf), "login.test", &roots, None),
            Interception::None
        );
        match detect_interception(std::slice::from_ref(&mitm_leaf), "login.test", &roots, None) {
            Interception::Detected {
                product, issuer, ..
            } => {
                assert_eq!(product, Some("mitmproxy"));
                assert!(issuer.contains("CN=mitmproxy"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            detect_interception(
                std::slice::from_ref(&other_leaf),
                "login.test",
                &roots,
                None
            ),
            Interception::Detected { product: None, .. }
        ));
        // Trusted, but not what is seen directly.
        let mut roots2 = roots.clone();
        let (corp_ca, corp_leaf) = mk("Corp Inspection CA");
        roots2.add(corp_ca).unwrap();
        assert_eq!(
            detect_interception(
                std::slice::from_ref(&corp_leaf),
                "login.test",
                &roots2,
                None
            ),
            Interception::None
        );
        assert!(matches!(
            detect_interception(&[corp_leaf], "login.test", &roots2, Some(&[real_leaf])),
            Interception::Detected { .. }
        ));
        let p = Profile::builtin();
        let v = detect_interception(&[mitm_leaf], "webra1.secomtrust.net", &roots, None);
        let f = interception_finding(
            "check",
            "webra1.secomtrust.net:443",
            "webra1.secomtrust.net",
            &v,
            &p,
        )
        .unwrap();
        assert_eq!(f.id, "net.check.tls");
        assert_eq!(f.status, crate::Status::Fail);
        assert_eq!(f.section.as_deref(), Some("1-3 (5)-(8)"));
        assert!(f.fix.unwrap().en.contains("*.secomtrust.net"));
    }
}

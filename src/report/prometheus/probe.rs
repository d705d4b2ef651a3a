//! One scrape's answer for `certprobe serve`: first the metrics blackbox_exporter users already
//! chart and alert on (same names, same meaning), then what blackbox_exporter cannot say — the
//! client certificate's and its chain's expiry, the verdict with its guide section, the server
//! certificate even when the handshake was refused, and why a probe failed.

use super::{esc, steps};
use crate::finding::{Finding, Status};
use crate::report::{RenderOptions, Report};
use std::fmt::Write;

/// Which exposition format a scrape asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text (`Accept: application/openmetrics-text`).
    OpenMetrics,
}

impl Exposition {
    /// The format an `Accept` header asks for.
    pub fn from_accept(accept: Option<&str>) -> Exposition {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Exposition::OpenMetrics,
            _ => Exposition::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Text => "text/plain; version=0.0.4; charset=utf-8",
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Writes metric families; `info` families follow each format's rules.
struct Out {
    s: String,
    om: bool,
}

impl Out {
    fn gauge(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.s, "# HELP {name} {help}");
        let _ = writeln!(self.s, "# TYPE {name} gauge");
    }

    /// An info family: `NAME_info{…} 1` samples (OpenMetrics type `info`, a gauge in 0.0.4).
    fn info(&mut self, name: &str, help: &str) {
        if self.om {
            let _ = writeln!(self.s, "# HELP {name} {help}");
            let _ = writeln!(self.s, "# TYPE {name} info");
        } else {
            self.gauge(&format!("{name}_info"), help);
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.s.push_str(name);
        if !labels.is_empty() {
            self.s.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.s.push(',');
                }
                let _ = write!(self.s, "{k}=\"{}\"", esc(v));
            }
            self.s.push('}');
        }
        let _ = writeln!(self.s, " {}", num(value));
    }
}

fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Why a probe failed, in words an alert rule can match: the verdict's finding turned into
/// one of a few stable reasons. `client_cert_expired` and `unreachable` are never the same.
pub fn reason(cause: Option<&Finding>) -> &'static str {
    let Some(f) = cause else {
        return "ok";
    };
    let id = f.id.as_str();
    let step = id.rsplit('.').next().unwrap_or(id);
    let failed = f.status == Status::Fail;
    match () {
        _ if id == "cert.validity" && failed => "client_cert_expired",
        _ if id == "cert.validity" => "client_cert_expiring",
        _ if id.starts_with("cert.") => "client_cert",
        _ if id.starts_with("trust.") => "trust",
        _ if id.starts_with("env.") => "environment",
        _ if id.starts_with("net.") => match step {
            "dns" => "dns",
            "tcp" => "unreachable",
            "tls" => {
                let code = f.data.get("error").and_then(|v| v.as_str()).unwrap_or("");
                if code.contains("expired") {
                    "tls_cert_expired"
                } else {
                    "tls_handshake"
                }
            }
            "versions" => "tls_versions",
            "http" => "http",
            "page" => "page_error",
            "intercept" | "proxy" => "proxy",
            _ => "network",
        },
        _ => "other",
    }
}

/// `2045-01-01` or an RFC 3339 time as Unix seconds.
fn unix(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

fn find<'a>(report: &'a Report, id: &str) -> Option<&'a Finding> {
    report.findings.iter().find(|f| f.id == id)
}

/// Network findings of one step (`tls`, `http`, …), with the endpoint id they belong to.
fn net_steps<'a>(
    report: &'a Report,
    step: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Finding)> {
    report.findings.iter().filter_map(move |f| {
        let rest = f.id.strip_prefix("net.")?;
        let (ep, s) = rest.rsplit_once('.')?;
        (s == step).then_some((ep, f))
    })
}

/// The first of `keys` that `v` has as a non-empty string.
fn first<'a>(v: &'a serde_json::Value, keys: &[&str]) -> &'a str {
    keys.iter()
        .map(|k| str_of(v, k))
        .find(|s| !s.is_empty())
        .unwrap_or("")
}

fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("")
}

/// The whole answer to one `/probe` scrape.
pub fn render_probe(report: &Report, opts: &RenderOptions, format: Exposition) -> String {
    let mut o = Out {
        s: String::with_capacity(8 * 1024),
        om: format == Exposition::OpenMetrics,
    };
    let verdict = report.verdict();
    let success = report.exit_code(opts.strict) == 0;

    // blackbox_exporter's names.
    o.gauge(
        "probe_success",
        "Displays whether or not the probe was a success",
    );
    o.sample("probe_success", &[], f64::from(u8::from(success)));
    o.gauge(
        "probe_duration_seconds",
        "Returns how long the probe took to complete in seconds",
    );
    o.sample("probe_duration_seconds", &[], report.duration.as_secs_f64());

    let dns: Vec<_> = net_steps(report, "dns")
        .filter_map(|(ep, f)| f.elapsed.map(|d| (ep, d)))
        .collect();
    if !dns.is_empty() {
        o.gauge(
            "probe_dns_lookup_time_seconds",
            "Returns the time taken for probe dns lookup in seconds",
        );
        for (ep, d) in &dns {
            o.sample(
                "probe_dns_lookup_time_seconds",
                &[("endpoint", ep)],
                d.as_secs_f64(),
            );
        }
    }

    o.gauge(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
    );
    for (phase, step) in [
        ("resolve", "dns"),
        ("connect", "tcp"),
        ("tls", "tls"),
        ("processing", "http"),
    ] {
        for (ep, f) in net_steps(report, step) {
            if let Some(d) = f.elapsed {
                o.sample(
                    "probe_http_duration_seconds",
                    &[("endpoint", ep), ("phase", phase)],
                    d.as_secs_f64(),
                );
            }
        }
    }

    let http: Vec<_> = net_steps(report, "http")
        .filter_map(|(ep, f)| {
            f.data
                .get("status")
                .and_then(|s| s.as_u64())
                .map(|s| (ep, s))
        })
        .collect();
    o.gauge(
        "probe_http_status_code",
        "Response HTTP status code (0 when no response was read)",
    );
    if http.is_empty() {
        o.sample("probe_http_status_code", &[], 0.0);
    }
    for (ep, code) in &http {
        o.sample("probe_http_status_code", &[("endpoint", ep)], *code as f64);
    }

    let tls: Vec<(&str, &Finding)> = net_steps(report, "tls").collect();
    o.gauge(
        "probe_http_ssl",
        "Indicates if SSL was used for the final redirect",
    );
    o.sample(
        "probe_http_ssl",
        &[],
        f64::from(u8::from(
            tls.iter()
                .any(|(_, f)| !str_of(&f.data, "version").is_empty()),
        )),
    );

    let versions: Vec<(&str, &str)> = tls
        .iter()
        .map(|(ep, f)| (*ep, str_of(&f.data, "version")))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if !versions.is_empty() {
        o.info(
            "probe_tls_version",
            "Returns the TLS version used or NaN when unknown",
        );
        for (ep, v) in &versions {
            o.sample(
                "probe_tls_version_info",
                &[("endpoint", ep), ("version", v)],
                1.0,
            );
        }
    }

    // The server chains, also when the handshake was refused (blackbox_exporter then has none).
    let chains: Vec<(&str, &Finding, &Vec<serde_json::Value>)> = tls
        .iter()
        .filter_map(|(ep, f)| {
            f.data
                .get("server_chain")
                .and_then(|c| c.as_array())
                .filter(|c| !c.is_empty())
                .map(|c| (*ep, *f, c))
        })
        .collect();
    let earliest = chains
        .iter()
        .flat_map(|(_, _, c)| c.iter())
        .filter_map(|c| unix(str_of(c, "not_after")))
        .min();
    if let Some(t) = earliest {
        o.gauge(
            "probe_ssl_earliest_cert_expiry",
            "Returns last SSL chain expiry in unixtime",
        );
        o.sample("probe_ssl_earliest_cert_expiry", &[], t as f64);
    }
    if !chains.is_empty() {
        o.info(
            "probe_ssl_last_chain",
            "Contains SSL leaf certificate information",
        );
        for (ep, _, chain) in &chains {
            let leaf = &chain[0];
            let fp = str_of(leaf, "sha256").replace(':', "").to_ascii_lowercase();
            let sans = leaf
                .get("sans")
                .and_then(|s| s.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            o.sample(
                "probe_ssl_last_chain_info",
                &[
                    ("endpoint", ep),
                    ("fingerprint_sha256", &fp),
                    ("subject", str_of(leaf, "subject")),
                    ("issuer", str_of(leaf, "issuer")),
                    ("subjectalternative", &sans),
                    ("serialnumber", str_of(leaf, "serial")),
                ],
                1.0,
            );
        }
        o.gauge(
            "certprobe_server_cert_expiry_timestamp_seconds",
            "When each certificate the server sent expires (Unix time), also when the handshake was refused",
        );
        for (ep, f, chain) in &chains {
            let handshake = if f.status == Status::Fail {
                "refused"
            } else {
                "completed"
            };
            for (i, c) in chain.iter().enumerate() {
                if let Some(t) = unix(str_of(c, "not_after")) {
                    let depth = i.to_string();
                    o.sample(
                        "certprobe_server_cert_expiry_timestamp_seconds",
                        &[
                            ("endpoint", ep),
                            ("depth", &depth),
                            ("subject", first(c, &["subject_name", "subject_cn"])),
                            ("handshake", handshake),
                        ],
                        t as f64,
                    );
                }
            }
        }
    }

    // The client certificate, its intermediates and the anchor.
    let mut client: Vec<(&str, String, i64)> = Vec::new();
    if let Some(f) = find(report, "cert.load") {
        if let Some(t) = unix(str_of(&f.data, "not_after")) {
            client.push(("leaf", String::new(), t));
        }
    }
    if let Some(path) = find(report, "cert.chain")
        .and_then(|f| f.data.get("path"))
        .and_then(|p| p.as_array())
    {
        for c in path.iter().filter(|c| str_of(c, "role") == "intermediate") {
            if let Some(t) = unix(str_of(c, "not_after")) {
                client.push(("intermediate", str_of(c, "name").to_string(), t));
            }
        }
    }
    if let Some(found) = find(report, "trust.root")
        .and_then(|f| f.data.get("found"))
        .and_then(|p| p.as_array())
    {
        for c in found {
            if let Some(t) = unix(str_of(c, "not_after")) {
                client.push(("anchor", str_of(c, "subject").to_string(), t));
            }
        }
    }
    if !client.is_empty() {
        o.gauge(
            "certprobe_client_cert_expiry_timestamp_seconds",
            "When the client certificate (role leaf), its intermediates and its trust anchor expire (Unix time)",
        );
        for (role, name, t) in &client {
            o.sample(
                "certprobe_client_cert_expiry_timestamp_seconds",
                &[("role", role), ("name", name)],
                *t as f64,
            );
        }
    }

    // The verdict: the one finding to act on, its guide section, and a stable reason.
    o.info(
        "certprobe_verdict",
        "The verdict's finding, its guide section and the reason the probe failed (reason ok when it did not)",
    );
    let cause = verdict.cause;
    let code = cause.map(|f| str_of(&f.data, "error")).unwrap_or("");
    o.sample(
        "certprobe_verdict_info",
        &[
            ("finding", cause.map(|f| f.id.as_str()).unwrap_or("")),
            (
                "section",
                cause.and_then(|f| f.section.as_deref()).unwrap_or(""),
            ),
            ("status", cause.map(|f| f.status.as_str()).unwrap_or("pass")),
            ("reason", reason(cause)),
            ("code", code),
        ],
        1.0,
    );

    // Every step, as `certprobe check --format prometheus` writes it.
    if o.om {
        let mut s = String::new();
        steps(&mut s, report, opts);
        o.s.push_str(&s);
        o.s.push_str("# EOF\n");
    } else {
        steps(&mut o.s, report, opts);
    }
    o.s
}

/// The answer when the probe itself could not run to the end (the scrape's time ran out).
pub fn render_timeout(elapsed: std::time::Duration, format: Exposition) -> String {
    let mut o = Out {
        s: String::new(),
        om: format == Exposition::OpenMetrics,
    };
    o.gauge(
        "probe_success",
        "Displays whether or not the probe was a success",
    );
    o.sample("probe_success", &[], 0.0);
    o.gauge(
        "probe_duration_seconds",
        "Returns how long the probe took to complete in seconds",
    );
    o.sample("probe_duration_seconds", &[], elapsed.as_secs_f64());
    o.info(
        "certprobe_verdict",
        "The verdict's finding, its guide section and the reason the probe failed (reason ok when it did not)",
    );
    o.sample(
        "certprobe_verdict_info",
        &[
            ("finding", ""),
            ("section", ""),
            ("status", "fail"),
            ("reason", "timeout"),
            ("code", ""),
        ],
        1.0,
    );
    if o.om {
        o.s.push_str("# EOF\n");
    }
    o.s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Phase, Text};
    use crate::report::sample;

    #[test]
    fn blackbox_names_then_the_verdict_with_its_section() {
        let out = render_probe(
            &sample::report(),
            &RenderOptions::default(),
            Exposition::Text,
        );
        assert!(out.contains("probe_success 0\n"), "{out}");
        assert!(out.contains("probe_duration_seconds 0.842\n"), "{out}");
        assert!(out.contains("# TYPE probe_http_status_code gauge"));
        assert!(out.contains(
            "certprobe_verdict_info{finding=\"cert.chain\",section=\"2-1 (7)\",status=\"fail\",reason=\"client_cert\",code=\"\"} 1"
        ), "{out}");
        assert!(out.contains("certprobe_finding_status{"), "steps follow");
        assert!(!out.contains("# EOF"));
    }

    #[test]
    fn openmetrics_info_families_and_eof() {
        let out = render_probe(
            &sample::report(),
            &RenderOptions::default(),
            Exposition::OpenMetrics,
        );
        assert!(out.contains("# TYPE certprobe_verdict info\n"));
        assert!(out.ends_with("# EOF\n"));
        assert_eq!(
            Exposition::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Exposition::OpenMetrics
        );
        assert_eq!(Exposition::from_accept(None), Exposition::Text);
    }

    fn report_with(fs: Vec<Finding>) -> Report {
        let mut r = Report::new("p");
        r.findings = fs;
        r
    }

    #[test]
    fn expired_and_unreachable_are_different_reasons() {
        let expired = Finding::new("cert.validity", Phase::Local, Text::same("v"), "c")
            .fail(Text::same("expired"));
        let tcp = Finding::new("net.login.tcp", Phase::Network, Text::same("t"), "h:443")
            .fail(Text::same("refused"));
        assert_eq!(reason(Some(&expired)), "client_cert_expired");
        assert_eq!(reason(Some(&tcp)), "unreachable");
        assert_eq!(reason(None), "ok");
    }

    #[test]
    fn server_chain_and_client_expiry_even_when_the_handshake_failed() {
        let tls = Finding::new("net.login.tls", Phase::Network, Text::same("t"), "h:443")
            .fail(Text::same("unknown_ca"))
            .data(serde_json::json!({
                "version": null,
                "server_chain": [{"subject": "CN=h", "subject_name": "h", "issuer": "CN=ca",
                    "serial": "01", "sans": ["h"], "sha256": "AB:CD",
                    "not_after": "2030-01-01T00:00:00Z"}],
                "error": "unknown_ca"
            }));
        let load = Finding::new("cert.load", Phase::Local, Text::same("l"), "c")
            .pass(Text::same("ok"))
            .data(serde_json::json!({"not_after": "2045-01-01T00:00:00Z"}));
        let chain = Finding::new("cert.chain", Phase::Local, Text::same("c"), "c")
            .pass(Text::same("ok"))
            .data(serde_json::json!({"path": [{"role": "intermediate", "name": "CA1", "not_after": "2040-01-01"}]}));
        let root = Finding::new("trust.root", Phase::Local, Text::same("r"), "s")
            .pass(Text::same("ok"))
            .data(serde_json::json!({"found": [{"subject": "Root\"1", "not_after": "2050-01-01T00:00:00Z"}]}));
        let out = render_probe(
            &report_with(vec![load, root, chain, tls]),
            &RenderOptions::default(),
            Exposition::Text,
        );
        assert!(
            out.contains("probe_ssl_earliest_cert_expiry 1893456000\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "probe_ssl_last_chain_info{endpoint=\"login\",fingerprint_sha256=\"abcd\""
            ),
            "{out}"
        );
        assert!(out.contains("handshake=\"refused\"} 1893456000"), "{out}");
        assert!(out.contains("certprobe_client_cert_expiry_timestamp_seconds{role=\"leaf\",name=\"\"} 2366841600"), "{out}");
        assert!(
            out.contains("role=\"intermediate\",name=\"CA1\"} 2208988800"),
            "{out}"
        );
        assert!(out.contains("role=\"anchor\",name=\"Root\\\"1\"}"), "{out}");
        assert!(out.contains("probe_http_status_code 0\n"));
        assert!(
            !out.contains("probe_tls_version_info"),
            "no version when refused"
        );
    }
}

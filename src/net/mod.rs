//! Network probes: DNS, TCP, TLS with the client certificate, HTTP, page reading; proxies.
//!
//! Every endpoint of the profile runs concurrently; within one endpoint the steps run in
//! order (dns → tcp → tls → http → page) and stop at the first failure. One TCP connection and
//! one TLS handshake per endpoint: the HTTP request goes over the handshake's own connection.

pub mod legacy;
pub mod proxy;
pub mod versions;

use crate::cert::LocalOutcome;
use crate::error::AppError;
use crate::finding::{Finding, Phase, Status};
use crate::profile::{Endpoint, Profile};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod aia;
pub mod clock;
pub mod connect;
pub mod crl;
pub mod diagnose;
pub mod dns;
pub mod endpoint;
pub mod fetch;
pub mod http;
pub mod page;
pub mod route;
pub mod tcp;
pub mod tls;
pub mod words;

pub use endpoint::{Target, TargetOutcome};

/// Bounds of single steps; each is also cut short by the run's deadline.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(5);
pub const TCP_TIMEOUT: Duration = Duration::from_secs(5);
pub const TLS_TIMEOUT: Duration = Duration::from_secs(5);

/// How the network is reached, as plain values: the library's side of `--resolver`,
/// `--proxy`, `--no-proxy`, `--token`, `--signup-code` and `--endpoint` (the CLI builds it from
/// its flags in `commands`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetOptions {
    /// Ask this DNS server (IP or IP:PORT) instead of the system resolver.
    pub resolver: Option<String>,
    /// This HTTP proxy (`http://[user:pass@]host:port`) instead of the environment's settings.
    pub proxy: Option<String>,
    /// Ignore every proxy setting and connect directly.
    pub no_proxy: bool,
    /// Per-user token of the issuance URL.
    pub token: Option<String>,
    /// Per-user code of the sign-up URL.
    pub signup_code: Option<String>,
    /// Probe only these endpoints of the profile (all when empty).
    pub endpoints: Vec<String>,
}

/// `env.proxy` and `env.tls_settings`, before any endpoint is contacted.
pub fn environment_probe(profile: &Profile, args: &NetOptions) -> Vec<Finding> {
    vec![
        proxy::environment_finding(profile, args),
        // On Windows the user's `SecureProtocols` value; elsewhere (or when it is absent) this
        // reports the tool's own TLS stack.
        versions::tls_settings_finding(
            crate::platform::internet::current()
                .and_then(|s| s.secure_protocols)
                .map(|p| p.0),
        ),
    ]
}

/// What every endpoint's probe shares.
pub struct NetContext {
    pub profile: Profile,
    pub dns: Result<Arc<dns::Dns>, dns::DnsFailure>,
    pub resolver: dns::ResolverChoice,
    pub client: Option<Arc<rustls::sign::CertifiedKey>>,
    pub roots: Arc<rustls::RootCertStore>,
    pub deadline: Instant,
    /// A host the person named together with `--cert` (`certprobe tls HOST --cert …`): it may
    /// see the certificate although the profile does not list it.
    pub named_host: Option<String>,
    /// Proxy settings: which hosts go through a CONNECT tunnel (src/net/proxy.rs).
    pub proxy: proxy::ProxySettings,
    /// The servers whose versions this check has asked (one enumeration per server).
    pub versions: versions::PerCheck,
}

impl NetContext {
    pub fn new(
        profile: &Profile,
        args: &NetOptions,
        client: Option<Arc<rustls::sign::CertifiedKey>>,
        roots: Arc<rustls::RootCertStore>,
        deadline: Instant,
    ) -> Result<NetContext, AppError> {
        let resolver = dns::ResolverChoice::parse(args.resolver.as_deref())
            .map_err(|bad| AppError::catalogued("net.bad_resolver", &[("value", &bad)]))?;
        // A proxy the person names on the command line must be usable: probing around it
        // would answer a question they did not ask. (The error never repeats the value.)
        if let Some(p) = &args.proxy {
            proxy::ProxyUrl::parse(p).map_err(|e| {
                AppError::catalogued(
                    "net.bad_proxy_flag",
                    &[("why_en", &e.en), ("why_ja", &e.ja)],
                )
            })?;
        }
        let per_query = DNS_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let dns =
            dns::Dns::new(resolver.clone(), per_query.max(Duration::from_millis(1))).map(Arc::new);
        Ok(NetContext {
            profile: profile.clone(),
            dns,
            resolver,
            client,
            roots,
            deadline,
            named_host: None,
            proxy: proxy::ProxySettings::from_environment(args),
            versions: versions::PerCheck::default(),
        })
    }

    /// May the client certificate be presented to `host`?
    pub fn may_present(&self, host: &str) -> bool {
        self.profile.may_present_certificate(host)
            || self
                .named_host
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(host.trim_end_matches('.')))
    }

    /// The one route decision for a connection to `host` (see [`route`]).
    pub fn route(&self, scheme: &str, host: &str) -> proxy::Route {
        route::decide(&self.proxy, scheme, host)
    }

    /// The end of a step that may take at most `cap`.
    pub fn step_deadline(&self, cap: Duration) -> Instant {
        (Instant::now() + cap).min(self.deadline)
    }
}

/// The per-user URL parts from the flags.
fn url_params(args: &NetOptions) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(t) = &args.token {
        m.insert("token".to_string(), t.clone());
    }
    if let Some(c) = &args.signup_code {
        m.insert("signup_code".to_string(), c.clone());
    }
    m
}

/// The endpoints `--endpoint` selects (all when none is named).
pub fn selected_endpoints<'a>(
    profile: &'a Profile,
    args: &NetOptions,
) -> Result<Vec<&'a Endpoint>, AppError> {
    if args.endpoints.is_empty() {
        return Ok(profile.endpoints.iter().collect());
    }
    let mut out = Vec::new();
    for id in &args.endpoints {
        match profile.endpoint(id) {
            Some(e) => out.push(e),
            None => {
                let ids: Vec<&str> = profile.endpoints.iter().map(|e| e.id.as_str()).collect();
                return Err(AppError::catalogued(
                    "net.no_such_endpoint",
                    &[
                        ("id", id),
                        ("profile", &profile.name),
                        ("ids", &ids.join(", ")),
                    ],
                ));
            }
        }
    }
    Ok(out)
}

/// Sockets one endpoint's probe may hold at once: its own connection, the direct look beside a
/// proxy, five version probes, and a DNS query.
pub const SOCKETS_PER_ENDPOINT: usize = 8;
/// Files kept free for everything else (the CRL and CA downloads, the resolver, stdio, files).
pub const RESERVED_FILES: usize = 64;
/// An endpoint whose turn comes with less time left than this is reported as not run.
pub const MIN_TURN: Duration = Duration::from_millis(200);
/// Never more endpoints at once than this, whatever the limit.
pub const MAX_CONCURRENT_ENDPOINTS: usize = 256;

/// How many endpoints run at once with `open_files` files allowed: as many as fit.
pub fn concurrency_bound(open_files: usize) -> usize {
    (open_files.saturating_sub(RESERVED_FILES) / SOCKETS_PER_ENDPOINT)
        .clamp(1, MAX_CONCURRENT_ENDPOINTS)
}

/// Every endpoint of the profile, concurrently up to [`concurrency_bound`] of the open-file
/// limit, finished by `deadline`: an endpoint whose turn has not come by then is reported as
/// not run.
pub async fn probe_endpoints(
    profile: &Profile,
    args: &NetOptions,
    local: &LocalOutcome,
    deadline: Instant,
) -> Result<Vec<Finding>, AppError> {
    let endpoints = selected_endpoints(profile, args)?;
    let ctx = Arc::new(NetContext::new(
        profile,
        args,
        local.client.clone(),
        local.roots.clone(),
        deadline,
    )?);
    let params = url_params(args);
    let progress = progress_bar(endpoints.len());
    let total = endpoints.len();
    let bound = concurrency_bound(crate::platform::open_file_limit());
    tracing::info!(endpoints = total, at_once = bound, "endpoints: start");
    let slots = Arc::new(tokio::sync::Semaphore::new(bound));
    let tasks = endpoints.into_iter().map(|ep| {
        let ctx = ctx.clone();
        let ep = ep.clone();
        let params = params.clone();
        let progress = progress.clone();
        let slots = slots.clone();
        async move {
            // A turn after `deadline - MIN_TURN` would be late: stop waiting for one then, so
            // the endpoints never started are reported before the deadline, not after it.
            let last_turn = deadline.checked_sub(MIN_TURN).unwrap_or(deadline);
            let turn = tokio::time::timeout_at(last_turn.into(), slots.acquire_owned()).await;
            // A turn that comes with almost no time left would only produce time-outs that
            // say nothing about the endpoint.
            let late = deadline.saturating_duration_since(Instant::now()) < MIN_TURN;
            let o = match turn {
                Ok(Ok(_slot)) if !late => endpoint::probe_endpoint(ctx, ep, params).await,
                _ => endpoint::not_started(
                    &ep,
                    crate::guide::phrase(
                        "net.not_run_no_turn",
                        &[("total", &total.to_string()), ("bound", &bound.to_string())],
                    ),
                ),
            };
            progress.inc(1);
            o
        }
    });
    let crl_ctx = ctx.clone();
    let revocation = tokio::spawn(async move { crl::revocation_finding(&crl_ctx).await });
    let ca_ctx = ctx.clone();
    let local_findings = local.findings.clone();
    let ca_fetch =
        tokio::spawn(
            async move { aia::missing_intermediate_finding(&ca_ctx, &local_findings).await },
        );
    let outcomes = tcp::join_all(tasks).await;
    let revocation = revocation.await.ok().flatten();
    let ca_fetch = ca_fetch.await.ok().flatten();
    progress.finish_and_clear();

    let mut findings = Vec::new();
    findings.push(clock_finding(&outcomes));
    for o in outcomes {
        findings.extend(o.findings);
    }
    findings.extend(revocation);
    findings.extend(ca_fetch);
    Ok(findings)
}

/// A progress line on stderr while the endpoints run — on a terminal only (indicatif hides
/// itself otherwise), so pipes, files and JSON output stay clean.
fn progress_bar(n: usize) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(n as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} checking endpoints {pos}/{len} {elapsed}",
    ) {
        pb.set_style(style);
    }
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// `env.clock`: the local clock against the servers' `Date` headers.
pub fn clock_finding(outcomes: &[TargetOutcome]) -> Finding {
    let f = Finding::new(
        "env.clock",
        Phase::Environment,
        crate::guide::phrase("net.clock_title", &[]),
        "local clock",
    );
    let samples: Vec<(f64, &str)> = outcomes
        .iter()
        .filter_map(|o| o.clock_skew.map(|s| (s, o.host.as_str())))
        .collect();
    let Some(&(skew, host)) = samples
        .iter()
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
    else {
        return f.skip(crate::guide::phrase("net.clock_no_date", &[]));
    };
    let human = clock::human(skew);
    // How many servers were compared, and how far apart their readings are: one odd `Date`
    // header is not evidence (the diagnosis weighs it, src/diagnose/severity.rs).
    let mut hosts: Vec<&str> = samples.iter().map(|s| s.1).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let lo = samples.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let hi = samples
        .iter()
        .map(|s| s.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let data = serde_json::json!({
        "skew_seconds": (skew * 10.0).round() / 10.0,
        "compared_with": host,
        "samples": samples.len(),
        "hosts": hosts.len(),
        "spread_seconds": ((hi - lo) * 10.0).round() / 10.0,
    });
    let f = f.data(data);
    let abs = skew.abs();
    if abs <= clock::OK_SECONDS {
        return f.pass(crate::guide::phrase(
            "net.clock_agrees",
            &[("host", host), ("human", &human)],
        ));
    }
    let status = if abs > clock::FAIL_SECONDS {
        Status::Fail
    } else {
        Status::Warn
    };
    let detail = crate::guide::phrase("net.clock_differs", &[("host", host), ("human", &human)]);
    f.status(status, detail)
        .section("2-1")
        .fix(crate::guide::fix("net.clock_skew", &[("skew", &human)]))
}

#[cfg(test)]
mod code_table_tests {
    use super::*;

    /// Every code the tables produce is listed in the JSON schema's `error_code`.
    #[test]
    fn every_machine_code_is_in_the_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schema/report.schema.json")).unwrap();
        let listed: Vec<&str> = schema["$defs"]["error_code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut produced: Vec<String> = (0..=255u8)
            .map(|n| tls::alert_code(rustls::AlertDescription::from(n)).to_string())
            .collect();
        use rustls::CertificateError as C;
        for c in [
            C::BadEncoding,
            C::Expired,
            C::NotValidYet,
            C::Revoked,
            C::UnhandledCriticalExtension,
            C::UnknownIssuer,
            C::UnknownRevocationStatus,
            C::ExpiredRevocationList,
            C::BadSignature,
            C::NotValidForName,
            C::InvalidPurpose,
            C::InvalidOcspResponse,
            C::ApplicationVerificationFailure,
        ] {
            produced.push(tls::certificate_error_code(&c).to_string());
        }
        use rustls::Error as E;
        for e in [
            E::NoCertificatesPresented,
            E::UnsupportedNameType,
            E::DecryptError,
            E::EncryptError,
            E::General("x".into()),
            E::FailedToGetCurrentTime,
            E::FailedToGetRandomBytes,
            E::HandshakeNotComplete,
            E::PeerSentOversizedRecord,
            E::NoApplicationProtocol,
            E::BadMaxFragmentSize,
        ] {
            produced.push(tls::tls_error_code(&e).to_string());
        }
        for f in [
            tls::TlsFailure::Timeout,
            tls::TlsFailure::Io(crate::finding::Text::default()),
            tls::TlsFailure::BadName(String::new()),
        ] {
            produced.push(f.code());
        }
        use dns::DnsFailure as D;
        for d in [
            D::NxDomain,
            D::NoAddress,
            D::ServerError(String::new()),
            D::Timeout,
            D::Unavailable(String::new()),
        ] {
            produced.push(d.code().to_string());
        }
        use fetch::FetchError as F;
        for f in [
            F::BadUrl(String::new()),
            F::Timeout,
            F::Proxy(String::new()),
            F::Connect(String::new()),
            F::Tls(String::new()),
            F::Redirect(String::new()),
            F::Protocol(String::new()),
        ] {
            produced.push(f.code().to_string());
        }
        produced.extend(["too_large".to_string(), "http_status".to_string()]);
        for c in produced {
            assert!(
                listed.contains(&c.as_str()),
                "`{c}` is not in $defs/error_code"
            );
        }
    }
}

#[cfg(test)]
mod bound_tests {
    #[test]
    fn the_bound_fits_the_open_file_limit() {
        use super::*;
        assert_eq!(concurrency_bound(1024), (1024 - 64) / 8);
        assert!(concurrency_bound(1024) * SOCKETS_PER_ENDPOINT + RESERVED_FILES <= 1024);
        assert_eq!(concurrency_bound(10), 1);
        assert_eq!(concurrency_bound(usize::MAX), MAX_CONCURRENT_ENDPOINTS);
    }
}

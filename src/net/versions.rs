//! Which protocol versions a server accepts (guide 2-1 (4)).
//!
//! TLS 1.3 and TLS 1.2 are asked with rustls restricted to one version; TLS 1.1, TLS 1.0 and
//! SSL 3.0 with the minimal hello of [`super::legacy`]. Each probe has its own connection,
//! opened on the route and by the connector every other connection uses ([`Road`]), bounded by
//! the timeout; only the handshake is done and no data is sent.
//!
//! Beside an endpoint's own connection the probes are polite ([`probe_all_after`]): they connect
//! only once that connection is open, so a server that serves one connection at a time serves the
//! endpoint first; nothing is asked again that its handshake (offering TLS 1.3 and 1.2) already
//! answered; and one server is enumerated once per check ([`PerCheck`]).

use super::dns::{Dns, DnsFailure};
use super::legacy::{self, HelloError, Reply};
use super::proxy::Route;
use super::tcp::BoxStream;
use crate::finding::{Finding, Phase, Status, Text};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// How a probe reaches the server: the route decided for it ([`super::route`]) and the one
/// connector ([`super::connect::open`]) — directly (name lookup, Happy Eyeballs) or through the
/// proxy's CONNECT tunnel, as every other connection of the check.
#[derive(Clone)]
pub struct Road {
    dns: Result<Arc<Dns>, DnsFailure>,
    route: Route,
    host: String,
    port: u16,
}

impl Road {
    pub fn new(dns: Result<Arc<Dns>, DnsFailure>, route: Route, host: &str, port: u16) -> Road {
        Road {
            dns,
            route,
            host: host.to_string(),
            port,
        }
    }

    async fn open(&self, timeout: Duration) -> Result<BoxStream, String> {
        let deadline = Instant::now() + timeout;
        super::connect::open(
            &self.dns,
            &self.route,
            &self.host,
            self.port,
            timeout,
            deadline,
        )
        .await
        .map(|o| o.stream)
        .map_err(|e| format!("cannot connect: {}", e.code()))
    }

    /// Where the probes went, for the finding's data.
    fn describe(&self) -> String {
        let at = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        match &self.route {
            Route::Via(p) => format!("{at} via proxy {}", p.url),
            Route::Direct(_) => at,
        }
    }

    /// A literal IP address the name falls back to when it is not a server name (SNI).
    fn ip(&self) -> Option<std::net::IpAddr> {
        self.host.trim_matches(['[', ']']).parse().ok()
    }
}

/// A protocol version, newest first in [`Version::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    pub const ALL: [Version; 5] = [
        Version::Tls13,
        Version::Tls12,
        Version::Tls11,
        Version::Tls10,
        Version::Ssl3,
    ];

    /// The name people read: `TLS 1.2`.
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSL 3.0",
            Version::Tls10 => "TLS 1.0",
            Version::Tls11 => "TLS 1.1",
            Version::Tls12 => "TLS 1.2",
            Version::Tls13 => "TLS 1.3",
        }
    }

    /// The name in JSON data, as OpenSSL spells it: `TLSv1.2`.
    pub fn key(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl3 => legacy::SSL3,
            Version::Tls10 => legacy::TLS10,
            Version::Tls11 => legacy::TLS11,
            Version::Tls12 => legacy::TLS12,
            Version::Tls13 => 0x0304,
        }
    }

    pub fn from_wire(v: u16) -> Option<Version> {
        Version::ALL.into_iter().find(|x| x.wire() == v)
    }

    /// From [`Version::name`] (as the endpoint's own handshake reports it).
    pub fn from_name(s: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Versions this client itself would use for a log-in (rustls).
    pub fn offered_by_client(self) -> bool {
        matches!(self, Version::Tls12 | Version::Tls13)
    }
}

/// What one probe learnt about one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server chose this version. `note` says what else was seen (e.g. the handshake then
    /// failed because a client certificate is required, or only unusual cipher suites work).
    Accepted { note: Option<String> },
    /// The server refused it (alert, another version, or it closed the connection).
    Refused(String),
    /// No answer that says either way (timeout, connection failed, not TLS).
    Unknown(String),
}

impl Outcome {
    fn is_accepted(&self) -> bool {
        matches!(self, Outcome::Accepted { .. })
    }
}

/// What the endpoint's own handshake (which offers TLS 1.3 and 1.2) showed about versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainHandshake {
    /// It agreed on this version.
    Agreed(Version),
    /// The server refused both offered versions (a `protocol_version` alert).
    RefusedVersions,
    /// It ended before showing either (no connection, a timeout, another failure).
    Unknown,
}

/// How far the endpoint's own connection has got, for the version probes beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainProgress {
    /// Not connected yet.
    Starting,
    /// Its TCP connection (or tunnel) is open: a server that serves one connection at a time
    /// has it first in its queue.
    Connected,
    /// Its handshake has ended with this.
    Handshake(MainHandshake),
}

/// The endpoint's side of [`MainProgress`]; dropping it means "nothing more to learn".
pub type Progress = watch::Sender<MainProgress>;

/// A [`Progress`] and the receiver the version probes watch.
pub fn progress() -> (Progress, watch::Receiver<MainProgress>) {
    watch::channel(MainProgress::Starting)
}

/// Any server certificate is accepted: the version probe learns nothing from it and sends
/// nothing. Certificates are validated by the endpoint's own TLS step.
fn config_for(version: Version) -> Result<Arc<ClientConfig>, rustls::Error> {
    let v: &'static rustls::SupportedProtocolVersion = match version {
        Version::Tls13 => &rustls::version::TLS13,
        _ => &rustls::version::TLS12,
    };
    let spec = super::tls::ConfigSpec {
        verify: super::tls::Verify::AcceptAny,
        client: None,
        versions: Some(vec![v]),
        alpn: vec![],
    };
    Ok(Arc::new(super::tls::client_config(&spec)?.0))
}

/// The most a rustls version probe reads (a server chain can be large, but not this large).
const RUSTLS_READ_CAP: usize = 256 * 1024;

/// One rustls handshake offering only `version` (1.2 or 1.3), driven by hand and only as far as
/// the server's first flight: its ServerHello says which version it chose (a server that would
/// go on to refuse the handshake for want of a client certificate has still chosen it), and the
/// rest of a TLS 1.2 handshake would cost another round trip. The ClientHello goes out on
/// `opened`, a connection the caller opened on the probe's road.
async fn rustls_probe(
    road: &Road,
    opened: Result<BoxStream, String>,
    sni: &str,
    version: Version,
) -> Outcome {
    let config = match config_for(version) {
        Ok(c) => c,
        Err(e) => return Outcome::Unknown(format!("client configuration: {e}")),
    };
    let name = match ServerName::try_from(sni.to_string()) {
        Ok(n) => n,
        Err(_) => match road.ip() {
            Some(ip) => ServerName::IpAddress(ip.into()),
            None => return Outcome::Unknown(format!("`{sni}` is not a server name")),
        },
    };
    let mut conn = match ClientConnection::new(config, name) {
        Ok(c) => c,
        Err(e) => return Outcome::Unknown(format!("client configuration: {e}")),
    };
    let mut tcp = match opened {
        Ok(s) => s,
        Err(e) => return Outcome::Unknown(e),
    };
    let chosen = |conn: &ClientConnection| {
        conn.protocol_version()
            .and_then(|v| Version::from_wire(u16::from(v)))
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    loop {
        while conn.wants_write() {
            out.clear();
            if conn.write_tls(&mut out).is_err() || tcp.write_all(&out).await.is_err() {
                break;
            }
        }
        if !conn.is_handshaking() {
            return accepted_or_other(chosen(&conn), version, None);
        }
        let n = match tcp.read(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                return match chosen(&conn) {
                    Some(_) => accepted_or_other(chosen(&conn), version, Some(e.to_string())),
                    None => Outcome::Refused(format!("connection reset ({e})")),
                }
            }
        };
        if n == 0 {
            return match chosen(&conn) {
                Some(_) => accepted_or_other(
                    chosen(&conn),
                    version,
                    Some("the server then closed the connection".into()),
                ),
                None => Outcome::Refused("the server closed the connection".into()),
            };
        }
        total += n;
        if total > RUSTLS_READ_CAP {
            return Outcome::Unknown(format!(
                "more than {RUSTLS_READ_CAP} bytes in the handshake"
            ));
        }
        let mut rd = &buf[..n];
        while !rd.is_empty() {
            if let Err(e) = conn.read_tls(&mut rd) {
                return Outcome::Unknown(e.to_string());
            }
            if let Err(e) = conn.process_new_packets() {
                // Send our alert, as a polite client would; ignore failures.
                out.clear();
                if conn.write_tls(&mut out).is_ok() {
                    let _ = tcp.write_all(&out).await;
                }
                return match chosen(&conn) {
                    Some(_) => accepted_or_other(chosen(&conn), version, Some(describe_rustls(&e))),
                    None => classify_rustls_error(&e),
                };
            }
        }
        // The ServerHello settles the version: the rest of a TLS 1.2 handshake would cost
        // another round trip and say nothing more about it.
        if chosen(&conn).is_some() {
            return accepted_or_other(chosen(&conn), version, None);
        }
    }
}

fn accepted_or_other(chosen: Option<Version>, asked: Version, note: Option<String>) -> Outcome {
    match chosen {
        Some(v) if v == asked => Outcome::Accepted { note },
        Some(v) => Outcome::Refused(format!("the server chose {}", v.name())),
        None => Outcome::Unknown("handshake ended without a version".into()),
    }
}

/// One version's outcome in both languages: the result in words, the reason in words where it
/// is one certprobe names (another version chosen, an alert), else as a marked raw detail.
fn outcome_text(version: &str, o: &Outcome) -> Text {
    use crate::guide::phrase;
    let reason = |r: &str| -> Text {
        if r == OLDER_CHOSEN {
            phrase("versions.reason_older", &[])
        } else if let Some(v) = r.strip_prefix("the server chose ") {
            phrase("versions.reason_chose", &[("version", v)])
        } else if let Some(a) = r.strip_prefix("alert ") {
            phrase("versions.reason_alert", &[("alert", a)])
        } else if let Some(rest) =
            r.strip_prefix("only with cipher suites this client does not offer")
        {
            let raw = rest.trim().trim_start_matches('(').trim_end_matches(')');
            crate::net::words::with_detail(phrase("versions.reason_foreign_suites", &[]), raw)
        } else {
            crate::net::words::with_detail(phrase("versions.reason_other", &[]), r)
        }
    };
    let (key, why) = match o {
        Outcome::Accepted { note: None } => ("versions.one_accepted", None),
        Outcome::Accepted { note: Some(n) } => ("versions.one_accepted_with", Some(reason(n))),
        Outcome::Refused(r) => ("versions.one_refused", Some(reason(r))),
        Outcome::Unknown(r) => ("versions.one_unknown", Some(reason(r))),
    };
    let line = phrase(key, &[("version", version)]);
    match why {
        Some(why) => crate::net::words::fill(line, &[("why", &why)]),
        None => line,
    }
}

fn describe_rustls(e: &rustls::Error) -> String {
    match e {
        rustls::Error::AlertReceived(a) => format!("then the server sent alert {a:?}"),
        other => format!("then: {other}"),
    }
}

/// The reason given when the server answered a TLS 1.2/1.3 hello with TLS 1.1 or older.
const OLDER_CHOSEN: &str = "the server chose TLS 1.1 or older";
/// The reason given for a `protocol_version` alert.
const VERSION_ALERT: &str = "alert protocolversion";

/// Does this refusal say the server does not speak the version at all (an older ServerHello, or
/// a `protocol_version` alert), as opposed to, say, sharing no cipher suite with rustls?
fn refuses_the_version(o: &Outcome) -> bool {
    matches!(o, Outcome::Refused(r) if r == OLDER_CHOSEN || r == VERSION_ALERT)
}

fn classify_rustls_error(e: &rustls::Error) -> Outcome {
    match e {
        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) => {
            Outcome::Refused(VERSION_ALERT.into())
        }
        rustls::Error::AlertReceived(a) => {
            Outcome::Refused(format!("alert {}", format!("{a:?}").to_lowercase()))
        }
        rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
        ) => Outcome::Refused(OLDER_CHOSEN.into()),
        rustls::Error::PeerIncompatible(p) => Outcome::Refused(format!("{p:?}")),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => {
            Outcome::Unknown(format!("the server does not speak TLS ({e})"))
        }
        other => Outcome::Unknown(other.to_string()),
    }
}

/// One legacy hello offering `version`.
async fn legacy_probe(road: &Road, sni: &str, version: Version, timeout: Duration) -> Outcome {
    let work = async {
        let mut s = match road.open(timeout).await {
            Ok(s) => s,
            Err(e) => return Err(Outcome::Unknown(e)),
        };
        Ok(legacy::exchange(&mut s, version.wire(), Some(sni)).await)
    };
    let r = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(o)) => return o,
        Err(_) => Err(HelloError::Timeout(timeout)),
    };
    match r {
        Ok(Reply::ServerHello { version: v }) if v == version.wire() => {
            Outcome::Accepted { note: None }
        }
        Ok(Reply::ServerHello { version: v }) => Outcome::Refused(match Version::from_wire(v) {
            Some(x) => format!("the server chose {}", x.name()),
            None => format!("the server answered with version 0x{v:04x}"),
        }),
        Ok(Reply::Alert { description, .. }) => {
            Outcome::Refused(format!("alert {}", legacy::alert_name(description)))
        }
        Ok(Reply::NotTls(what)) => {
            Outcome::Unknown(format!("the server does not speak TLS ({what})"))
        }
        Err(HelloError::Closed) => Outcome::Refused("the server closed the connection".into()),
        Err(e) => Outcome::Unknown(e.to_string()),
    }
}

/// Ask one version, bounded by `timeout`.
pub async fn probe_version(road: &Road, sni: &str, version: Version, timeout: Duration) -> Outcome {
    match version {
        Version::Tls13 | Version::Tls12 => {
            let start = Instant::now();
            let opened = road.open(timeout).await;
            let left = timeout.saturating_sub(start.elapsed());
            rustls_probe_bounded(road, opened, sni, version, left).await
        }
        _ => legacy_probe(road, sni, version, timeout).await,
    }
}

/// [`rustls_probe`] on a connection already opened, bounded by `timeout`; for TLS 1.2, the
/// second look with the legacy hello that tells "version" from "cipher suites".
async fn rustls_probe_bounded(
    road: &Road,
    opened: Result<BoxStream, String>,
    sni: &str,
    version: Version,
    timeout: Duration,
) -> Outcome {
    let start = Instant::now();
    let out = match tokio::time::timeout(timeout, rustls_probe(road, opened, sni, version)).await {
        Ok(o) => o,
        Err(_) => Outcome::Unknown(format!("no answer within {timeout:?}")),
    };
    // A TLS 1.2 server that shares no cipher suite with rustls still speaks TLS 1.2: ask again
    // with the broad legacy hello to tell "version" from "ciphers". Not when the refusal was
    // about the version itself: that settles it, and the second connection would cost two more
    // round trips on the critical path.
    if version == Version::Tls12
        && !out.is_accepted()
        && !matches!(out, Outcome::Unknown(_))
        && !refuses_the_version(&out)
    {
        let left = timeout
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1));
        if let Outcome::Accepted { .. } = legacy_probe(road, sni, version, left).await {
            return Outcome::Accepted {
                note: Some(format!(
                    "only with cipher suites this client does not offer (rustls: {})",
                    match &out {
                        Outcome::Refused(r) => r.as_str(),
                        _ => "",
                    }
                )),
            };
        }
    }
    out
}

/// Every version of one server, concurrently (no endpoint connection beside them).
pub async fn probe_all(road: &Road, sni: &str, timeout: Duration) -> Vec<(Version, Outcome)> {
    let (a, b, c, d, e) = tokio::join!(
        probe_version(road, sni, Version::Tls13, timeout),
        probe_version(road, sni, Version::Tls12, timeout),
        probe_version(road, sni, Version::Tls11, timeout),
        probe_version(road, sni, Version::Tls10, timeout),
        probe_version(road, sni, Version::Ssl3, timeout),
    );
    vec![
        (Version::Tls13, a),
        (Version::Tls12, b),
        (Version::Tls11, c),
        (Version::Tls10, d),
        (Version::Ssl3, e),
    ]
}

/// The main handshake's result once it is known, waiting at most `within`.
async fn main_result(mut main: watch::Receiver<MainProgress>, within: Duration) -> MainHandshake {
    let seen = tokio::time::timeout(
        within,
        main.wait_for(|p| matches!(p, MainProgress::Handshake(_))),
    )
    .await;
    match seen {
        Ok(Ok(p)) => match *p {
            MainProgress::Handshake(h) => h,
            _ => MainHandshake::Unknown,
        },
        _ => MainHandshake::Unknown,
    }
}

/// The main handshake's result if it is already known.
fn main_result_now(main: &watch::Receiver<MainProgress>) -> Option<MainHandshake> {
    match *main.borrow() {
        MainProgress::Handshake(h) => Some(h),
        _ => None,
    }
}

/// What the endpoint's own handshake (offering TLS 1.3 and 1.2) says about TLS 1.3.
fn tls13_from_main(agreed: Version) -> Outcome {
    if agreed == Version::Tls13 {
        Outcome::Accepted { note: None }
    } else {
        Outcome::Refused(format!("the server chose {}", agreed.name()))
    }
}

/// What the endpoint's own handshake settles about TLS 1.2: a TLS 1.2 handshake proves it, a
/// `protocol_version` refusal of a hello offering 1.3 and 1.2 refuses it; a TLS 1.3 handshake
/// says nothing about it.
fn tls12_from_main(main: MainHandshake) -> Option<Outcome> {
    match main {
        MainHandshake::Agreed(Version::Tls12) => Some(Outcome::Accepted { note: None }),
        MainHandshake::RefusedVersions => Some(Outcome::Refused(VERSION_ALERT.into())),
        _ => None,
    }
}

/// What the answer to a TLS 1.1 hello settles about TLS 1.0. A server picks the highest version
/// it supports up to the one the client offers, and answers `protocol_version` when it supports
/// only higher ones (RFC 5246 appendix E.1): a TLS 1.0 ServerHello accepts TLS 1.0, an SSL 3.0
/// one or that alert refuses it. Anything else (it chose TLS 1.1, another alert, no answer)
/// settles nothing and TLS 1.0 is asked on its own.
fn tls10_from_tls11(tls11: &Outcome) -> Option<Outcome> {
    let chose = |v: Version| format!("the server chose {}", v.name());
    match tls11 {
        Outcome::Refused(r) if *r == chose(Version::Tls10) => {
            Some(Outcome::Accepted { note: None })
        }
        Outcome::Refused(r) if *r == chose(Version::Ssl3) => {
            Some(Outcome::Refused(format!("{r} when offered TLS 1.1")))
        }
        Outcome::Refused(r) if *r == format!("alert {}", legacy::alert_name(70)) => {
            Some(Outcome::Refused(format!("{r} to a TLS 1.1 hello")))
        }
        _ => None,
    }
}

/// [`probe_all`] beside an endpoint's own connection, whose progress `main` reports:
/// - no probe connects before that connection is open, so a server that serves one connection
///   at a time serves the endpoint first and the probes after it, not the other way round;
/// - TLS 1.3 is taken from the version its handshake agreed on (or its `protocol_version`
///   refusal) and asked on a connection of its own only when it showed neither;
/// - TLS 1.2 likewise: its connection is opened while the handshake runs (so the answer still
///   comes within the endpoint's three round trips), and the hello is sent only when that
///   handshake did not settle TLS 1.2 — otherwise the connection is closed unused;
/// - TLS 1.0 is read from the answer to the TLS 1.1 hello where that settles it
///   ([`tls10_from_tls11`]), and asked after it only where it does not.
///
/// Once the endpoint's connection is open (or the check's `deadline` has come), every wait and
/// probe is bounded by the same `step` time: waiting must not stretch the step.
pub async fn probe_all_after(
    road: &Road,
    sni: &str,
    step: Duration,
    deadline: Instant,
    main: watch::Receiver<MainProgress>,
) -> Vec<(Version, Outcome)> {
    {
        // Waiting for the endpoint's connection (its name lookup, a slow proxy) is bounded by
        // the check's deadline, not taken from the probes' own time. When that connection
        // could not be opened, the probes would only wait for the same failure again.
        let mut m = main.clone();
        let until = deadline.saturating_duration_since(Instant::now());
        let waited =
            tokio::time::timeout(until, m.wait_for(|p| !matches!(p, MainProgress::Starting))).await;
        if matches!(waited, Ok(Err(_))) {
            let why = "cannot connect: the endpoint's own connection could not be opened";
            return Version::ALL
                .into_iter()
                .map(|v| (v, Outcome::Unknown(why.into())))
                .collect();
        }
    }
    let start = Instant::now();
    let timeout = step.min(deadline.saturating_duration_since(start));
    let left = move || timeout.saturating_sub(start.elapsed());
    let no_time = || Outcome::Unknown("no time left after the endpoint's own handshake".into());
    let tls13 = async {
        match main_result(main.clone(), left()).await {
            MainHandshake::Agreed(v) => tls13_from_main(v),
            MainHandshake::RefusedVersions => Outcome::Refused(VERSION_ALERT.into()),
            MainHandshake::Unknown if left().is_zero() => no_time(),
            MainHandshake::Unknown => probe_version(road, sni, Version::Tls13, left()).await,
        }
    };
    let tls12 = async {
        if let Some(o) = main_result_now(&main).and_then(tls12_from_main) {
            return o;
        }
        let opened = road.open(left().max(Duration::from_millis(1))).await;
        let settled = main_result(main.clone(), left()).await;
        if let Some(o) = tls12_from_main(settled) {
            return o; // `opened` is closed without a hello
        }
        if left().is_zero() {
            return no_time();
        }
        rustls_probe_bounded(road, opened, sni, Version::Tls12, left()).await
    };
    let legacy = |v| async move {
        match left() {
            d if d.is_zero() => no_time(),
            d => legacy_probe(road, sni, v, d).await,
        }
    };
    // TLS 1.0 is asked only when the TLS 1.1 hello's answer did not settle it.
    let tls11_and_10 = async {
        let tls11 = legacy(Version::Tls11).await;
        let tls10 = match tls10_from_tls11(&tls11) {
            Some(o) => o,
            None => legacy(Version::Tls10).await,
        };
        (tls11, tls10)
    };
    let (a, b, (c, d), e) = tokio::join!(tls13, tls12, tls11_and_10, legacy(Version::Ssl3));
    vec![
        (Version::Tls13, a),
        (Version::Tls12, b),
        (Version::Tls11, c),
        (Version::Tls10, d),
        (Version::Ssl3, e),
    ]
}

/// The `net.<endpoint>.versions` finding for one endpoint, asked directly at `addr`.
pub async fn probe_versions(
    endpoint_id: &str,
    host: &str,
    port: u16,
    addr: SocketAddr,
    sni: &str,
    timeout: Duration,
) -> Finding {
    let start = Instant::now();
    let road = Road::new(
        Err(DnsFailure::Unavailable(
            "an address needs no resolver".into(),
        )),
        Route::Direct(super::proxy::Direct::NoProxy),
        &addr.ip().to_string(),
        addr.port(),
    );
    let results = probe_all(&road, sni, timeout).await;
    versions_finding(endpoint_id, host, port, &road.describe(), &results).elapsed(start.elapsed())
}

fn names(vs: &[Version]) -> String {
    if vs.is_empty() {
        "none".into()
    } else {
        vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
    }
}

/// What one enumeration found, and how old it is when it was remembered (`serve`).
type Enumerated = (Vec<(Version, Outcome)>, Option<Duration>);

/// One enumeration per server within a check: endpoints on the same server (the same route,
/// name and port) share it instead of each asking the server the same five questions.
#[derive(Default)]
pub struct PerCheck(Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Enumerated>>>>);

impl PerCheck {
    fn slot(&self, key: &str) -> Arc<tokio::sync::OnceCell<Enumerated>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }
}

/// `net.<endpoint>.versions` for an endpoint of a check: reached on the road its other steps
/// take (the same route and connector), run beside them. `None` for plain HTTP endpoints.
///
/// `main` reports the endpoint's own connection ([`probe_all_after`]). A server already
/// enumerated in this check (another endpoint on it) is not asked again.
pub async fn for_target(
    ctx: &super::NetContext,
    t: &super::Target,
    main: watch::Receiver<MainProgress>,
) -> Option<Finding> {
    if t.url.scheme != "https" {
        return None;
    }
    let start = Instant::now();
    let host = t.url.host.as_str();
    let road = Road::new(
        ctx.dns.clone(),
        ctx.route(&t.url.scheme, host),
        host,
        t.url.port,
    );
    let key = format!("{}|{host}", road.describe());
    let slot = ctx.versions.slot(&key);
    let (results, age) = slot
        .get_or_init(|| {
            remembered::probe_all(&road, &key, host, super::TLS_TIMEOUT, ctx.deadline, main)
        })
        .await
        .clone();
    let mut f = versions_finding(&t.id, host, t.url.port, &road.describe(), &results)
        .elapsed(start.elapsed());
    if let (Some(age), Some(o)) = (age, f.data.as_object_mut()) {
        o.insert("remembered_for_seconds".into(), age.as_secs().into());
    }
    Some(f)
}

/// `certprobe serve`: the versions a server accepts, remembered for a while instead of asked on
/// every scrape. Off unless [`remember_versions`] is called (a `check` always asks).
mod remembered {
    use super::{MainProgress, Outcome, Road, Version};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};
    use tokio::sync::watch;

    type Entry = (Instant, Vec<(Version, Outcome)>);
    static CACHE: OnceLock<(Duration, Mutex<HashMap<String, Entry>>)> = OnceLock::new();
    /// Servers remembered at most (the oldest answers are dropped first when full).
    const MAX: usize = 10_000;

    pub fn enable(ttl: Duration) {
        if !ttl.is_zero() {
            let _ = CACHE.set((ttl, Mutex::new(HashMap::new())));
        }
    }

    /// [`super::probe_all_after`], or what it said less than the configured time ago about the
    /// server `key`, with its age. Answers that settle nothing (`Unknown`: a timeout, a failed
    /// connection) are not kept.
    pub async fn probe_all(
        road: &Road,
        key: &str,
        sni: &str,
        step: Duration,
        deadline: Instant,
        main: watch::Receiver<MainProgress>,
    ) -> super::Enumerated {
        let Some((ttl, map)) = CACHE.get() else {
            return (
                super::probe_all_after(road, sni, step, deadline, main).await,
                None,
            );
        };
        let now = Instant::now();
        if let Some((at, r)) = map.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            if now.duration_since(*at) < *ttl {
                return (r.clone(), Some(now.duration_since(*at)));
            }
        }
        let r = super::probe_all_after(road, sni, step, deadline, main).await;
        if !r.iter().any(|(_, o)| matches!(o, Outcome::Unknown(_))) {
            let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
            m.retain(|_, (at, _)| now.duration_since(*at) < *ttl);
            if m.len() >= MAX {
                if let Some(oldest) = m
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                {
                    m.remove(&oldest);
                }
            }
            m.insert(key.to_string(), (Instant::now(), r.clone()));
        }
        (r, None)
    }
}

/// Remember the versions each server accepts for `ttl` (zero: never), for `certprobe serve`.
pub fn remember_versions(ttl: Duration) {
    remembered::enable(ttl);
}

/// Classify the results of [`probe_all`] (pure; unit-tested).
pub fn versions_finding(
    endpoint_id: &str,
    host: &str,
    port: u16,
    via: &str,
    results: &[(Version, Outcome)],
) -> Finding {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let f = Finding::new(
        format!("net.{endpoint_id}.versions"),
        Phase::Network,
        crate::guide::phrase("versions.title", &[]),
        target,
    );
    let accepted: Vec<Version> = results
        .iter()
        .filter(|(_, o)| o.is_accepted())
        .map(|(v, _)| *v)
        .collect();
    // Shared with this client: accepted by rustls itself, not only by the broad legacy hello.
    let shared: Vec<Version> = results
        .iter()
        .filter(|(v, o)| v.offered_by_client() && matches!(o, Outcome::Accepted { note } if !note.as_deref().is_some_and(|n| n.starts_with("only with cipher"))))
        .map(|(v, _)| *v)
        .collect();
    let offered: Vec<Version> = Version::ALL
        .into_iter()
        .filter(|v| v.offered_by_client())
        .collect();
    let per_version: Vec<Text> = results
        .iter()
        .map(|(v, o)| outcome_text(v.name(), o))
        .collect();
    let mut versions = serde_json::Map::new();
    for (v, o) in results {
        let (result, reason) = match o {
            Outcome::Accepted { note } => ("accepted", note.clone()),
            Outcome::Refused(r) => ("refused", Some(r.clone())),
            Outcome::Unknown(r) => ("unknown", Some(r.clone())),
        };
        versions.insert(
            v.key().into(),
            serde_json::json!({ "result": result, "reason": reason }),
        );
    }
    let data = serde_json::json!({
        "address": via,
        "accepted": accepted.iter().map(|v| v.key()).collect::<Vec<_>>(),
        "shared": shared.iter().map(|v| v.key()).collect::<Vec<_>>(),
        "client_offers": offered.iter().map(|v| v.key()).collect::<Vec<_>>(),
        "versions": versions,
    });
    let f = f.data(data);
    let offers = names(&offered);
    let acc = names(&accepted);
    let all = crate::net::words::join(&per_version, "; ");
    // `{all}` is filled per language: the per-version line is in the reader's words.
    let said = |key: &str, args: &[(&str, &str)]| {
        crate::net::words::fill(crate::guide::phrase(key, args), &[("all", &all)])
    };

    if accepted.is_empty() {
        let all_unknown = results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Unknown(_)));
        let connect_failed = results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Unknown(r) if r.starts_with("cannot connect")));
        if connect_failed {
            return f.skip(said("versions.unreachable", &[]));
        }
        let not_tls = results
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Unknown(r) if r.contains("does not speak TLS")));
        let detail = if not_tls {
            said("versions.not_tls", &[])
        } else if all_unknown {
            said("versions.unconfirmed", &[])
        } else {
            said("versions.none_accepted", &[("offers", &offers)])
        };
        return f
            .fail(detail)
            .section("2-1 (4)")
            .fix(crate::guide::fix("proxy.versions_none", &[]));
    }
    // A version this client speaks, accepted only with cipher suites it does not offer: the
    // versions are fine, the suites are not (no cipher suite in common).
    let foreign_suites: Vec<Version> = accepted
        .iter()
        .copied()
        .filter(|v| v.offered_by_client() && !shared.contains(v))
        .collect();
    if shared.is_empty() && !foreign_suites.is_empty() {
        let fs = names(&foreign_suites);
        return f
            .fail(said("versions.no_common_cipher", &[("versions", &fs)]))
            .section("2-1 (4)")
            .fix(crate::guide::fix(
                "proxy.versions_no_common_cipher",
                &[("versions", &fs)],
            ));
    }
    if shared.is_empty() {
        return f
            .fail(said(
                "versions.legacy_only",
                &[("acc", &acc), ("offers", &offers)],
            ))
            .section("2-1 (4)")
            .fix(crate::guide::fix(
                "proxy.versions_legacy_only",
                &[("accepted", &acc)],
            ));
    }
    let old: Vec<Version> = accepted
        .iter()
        .copied()
        .filter(|v| matches!(v, Version::Ssl3 | Version::Tls10))
        .collect();
    let sh = names(&shared);
    if !old.is_empty() {
        let old = names(&old);
        return f
            .warn(crate::guide::phrase(
                "versions.old_still_on",
                &[("sh", &sh), ("old", &old), ("offers", &offers)],
            ))
            .section("2-1 (4)")
            .fix(crate::guide::fix("proxy.versions_old_on", &[("old", &old)]));
    }
    f.status(
        Status::Pass,
        crate::guide::phrase(
            "versions.shared",
            &[("sh", &sh), ("acc", &acc), ("offers", &offers)],
        ),
    )
}

/// The Windows `SecureProtocols` bits (Internet Settings), for `env.tls_settings`.
pub mod secure_protocols {
    pub const SSL2: u32 = 0x0008;
    pub const SSL3: u32 = 0x0020;
    pub const TLS10: u32 = 0x0080;
    pub const TLS11: u32 = 0x0200;
    pub const TLS12: u32 = 0x0800;
    pub const TLS13: u32 = 0x2000;

    /// (SSL 2.0/3.0 switched on, TLS 1.2/1.3 switched off), named as the Internet Options
    /// dialogue names them.
    pub fn problems(value: u32) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut on = Vec::new();
        let mut off = Vec::new();
        if value & SSL2 != 0 {
            on.push("SSL 2.0");
        }
        if value & SSL3 != 0 {
            on.push("SSL 3.0");
        }
        if value & TLS12 == 0 {
            off.push("TLS 1.2");
        }
        if value & TLS13 == 0 {
            off.push("TLS 1.3");
        }
        (on, off)
    }
}

/// `env.tls_settings`: the user's Windows `SecureProtocols` value when known, else this tool's
/// own stack.
pub fn tls_settings_finding(secure_protocols: Option<u32>) -> Finding {
    let f = Finding::new(
        "env.tls_settings",
        Phase::Environment,
        crate::guide::phrase("versions.settings_title", &[]),
        "Internet Options",
    );
    let Some(value) = secure_protocols else {
        let mut f = f;
        f.target = "certprobe".into();
        return f.info(crate::guide::phrase("versions.settings_own", &[]));
    };
    let (on, off) = secure_protocols::problems(value);
    let data = serde_json::json!({ "secure_protocols": value, "enabled_obsolete": on, "disabled_needed": off });
    let hex = format!("{value:x}");
    if on.is_empty() && off.is_empty() {
        return f.data(data).pass(crate::guide::phrase(
            "versions.settings_ok",
            &[("value", &hex)],
        ));
    }
    let on_s = on.join(", ");
    let off_s = off.join(", ");
    let args = [
        ("on", on_s.as_str()),
        ("off", off_s.as_str()),
        ("value", &hex),
    ];
    let (status, key) = match (on.is_empty(), off.is_empty(), off.contains(&"TLS 1.2")) {
        (true, _, true) => (Status::Fail, "versions.settings_tls12_off"),
        (false, _, true) => (Status::Fail, "versions.settings_tls12_off_old_on"),
        (false, true, _) => (Status::Warn, "versions.settings_old_on"),
        (true, _, _) => (Status::Warn, "versions.settings_new_off"),
        (false, false, _) => (Status::Warn, "versions.settings_old_on_new_off"),
    };
    f.data(data)
        .status(status, crate::guide::phrase(key, &args))
        .section("2-1 (4)")
        .fix(crate::guide::fix(
            "proxy.tls_settings",
            &[("on", &on_s), ("off", &off_s)],
        ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tls11_answer_settles_tls10_where_the_rules_say_so() {
        let chose = |v: &str| Outcome::Refused(format!("the server chose {v}"));
        assert_eq!(
            tls10_from_tls11(&chose("TLS 1.0")),
            Some(Outcome::Accepted { note: None })
        );
        assert!(matches!(
            tls10_from_tls11(&chose("SSL 3.0")),
            Some(Outcome::Refused(_))
        ));
        assert_eq!(
            tls10_from_tls11(&Outcome::Refused("alert protocol_version".into())),
            Some(Outcome::Refused(
                "alert protocol_version to a TLS 1.1 hello".into()
            ))
        );
        for open in [
            Outcome::Accepted { note: None },
            Outcome::Refused("alert handshake_failure".into()),
            Outcome::Refused("the server closed the connection".into()),
            Outcome::Unknown("no answer".into()),
        ] {
            assert_eq!(tls10_from_tls11(&open), None, "{open:?}");
        }
    }

    #[test]
    fn the_main_handshake_settles_tls13() {
        assert_eq!(
            tls13_from_main(Version::Tls13),
            Outcome::Accepted { note: None }
        );
        assert_eq!(
            tls13_from_main(Version::Tls12),
            Outcome::Refused("the server chose TLS 1.2".into())
        );
        assert_eq!(Version::from_name("TLS 1.3"), Some(Version::Tls13));
        assert_eq!(Version::from_name("TLSv1.3"), None);
    }

    use super::*;

    /// A TLS 1.0-only server: answers every hello with a TLS 1.0 ServerHello, or with a
    /// `protocol_version` alert (as nginx with `ssl_protocols TLSv1` does); counts connections.
    async fn tls10_only_server(alert: bool) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = count.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    // ServerHello: version 3.1, random, no session id, TLS_RSA_WITH_AES_128_CBC_SHA.
                    let mut body = vec![3, 1];
                    body.extend_from_slice(&[7; 32]);
                    body.extend_from_slice(&[0, 0x00, 0x2f, 0]);
                    let mut hs = vec![2, 0, 0, body.len() as u8];
                    hs.extend_from_slice(&body);
                    let mut rec = vec![22, 3, 1, 0, hs.len() as u8];
                    rec.extend_from_slice(&hs);
                    if alert {
                        rec = vec![21, 3, 1, 0, 2, 2, 70];
                    }
                    let _ = s.write_all(&rec).await;
                    let _ = s.read(&mut buf).await;
                });
            }
        });
        (addr, count)
    }

    #[tokio::test]
    async fn a_version_refusal_settles_tls12_in_one_connection() {
        for (alert, reason) in [(false, OLDER_CHOSEN), (true, VERSION_ALERT)] {
            let (addr, count) = tls10_only_server(alert).await;
            let road = Road::new(
                Err(DnsFailure::Unavailable(
                    "an address needs no resolver".into(),
                )),
                Route::Direct(super::super::proxy::Direct::NoProxy),
                &addr.ip().to_string(),
                addr.port(),
            );
            let out =
                probe_version(&road, "localhost", Version::Tls12, Duration::from_secs(5)).await;
            assert_eq!(out, Outcome::Refused(reason.into()));
            assert_eq!(
                count.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "no second (legacy) hello after a version refusal ({reason})"
            );
        }
    }

    fn addr() -> SocketAddr {
        "127.0.0.1:443".parse().unwrap()
    }
    fn acc() -> Outcome {
        Outcome::Accepted { note: None }
    }
    fn refused() -> Outcome {
        Outcome::Refused("alert protocol_version".into())
    }
    fn run(r: [Outcome; 5]) -> Finding {
        let [a, b, c, d, e] = r;
        let results = vec![
            (Version::Tls13, a),
            (Version::Tls12, b),
            (Version::Tls11, c),
            (Version::Tls10, d),
            (Version::Ssl3, e),
        ];
        versions_finding("login", "login.test", 443, &addr().to_string(), &results)
    }

    #[test]
    fn modern_server_passes() {
        let f = run([acc(), acc(), refused(), refused(), refused()]);
        assert_eq!(f.id, "net.login.versions");
        assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
        assert!(
            f.detail.en.contains("share TLS 1.3, TLS 1.2"),
            "{}",
            f.detail.en
        );
        assert!(f.detail.en.contains("this client offers TLS 1.3, TLS 1.2"));
        assert_eq!(
            f.data["accepted"],
            serde_json::json!(["TLSv1.3", "TLSv1.2"])
        );
    }

    #[test]
    fn legacy_only_server_fails_with_the_guide_step() {
        let f = run([refused(), refused(), refused(), acc(), refused()]);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.section.as_deref(), Some("2-1 (4)"));
        assert!(
            f.detail.en.contains("speaks only TLS 1.0"),
            "{}",
            f.detail.en
        );
        assert!(f.fix.is_some());
    }

    #[test]
    fn tls12_only_with_foreign_ciphers_is_not_shared() {
        let f = run([
            refused(),
            Outcome::Accepted {
                note: Some("only with cipher suites this client does not offer (x)".into()),
            },
            acc(),
            refused(),
            refused(),
        ]);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.detail.en.contains("no cipher suite in common"),
            "{}",
            f.detail.en
        );
        assert!(!f.detail.en.contains("speaks only"), "{}", f.detail.en);
        assert!(f.fix.unwrap().en.contains("service operator"));
    }

    #[test]
    fn old_versions_still_on_warn() {
        let f = run([refused(), acc(), acc(), acc(), refused()]);
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.detail.en.contains("still accepts TLS 1.0"),
            "{}",
            f.detail.en
        );
        assert_eq!(f.section.as_deref(), Some("2-1 (4)"));
    }

    #[test]
    fn nothing_accepted_or_unreachable() {
        let closed = || Outcome::Refused("the server closed the connection".into());
        let f = run([closed(), closed(), closed(), closed(), closed()]);
        assert_eq!(f.status, Status::Fail);
        let gone = || Outcome::Unknown("cannot connect: refused".into());
        let f = run([gone(), gone(), gone(), gone(), gone()]);
        assert_eq!(f.status, Status::Skip);
        let junk = || Outcome::Unknown("the server does not speak TLS (x)".into());
        let f = run([junk(), junk(), junk(), junk(), junk()]);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.en.contains("does not answer in TLS"));
    }

    #[test]
    fn windows_secure_protocols() {
        use secure_protocols::*;
        assert_eq!(
            tls_settings_finding(Some(TLS12 | TLS13)).status,
            Status::Pass
        );
        assert_eq!(
            tls_settings_finding(Some(TLS10 | TLS11 | TLS12 | TLS13 | SSL3)).status,
            Status::Warn
        );
        let f = tls_settings_finding(Some(TLS10 | TLS11));
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.en.contains("TLS 1.2 is switched off"));
        assert_eq!(tls_settings_finding(None).status, Status::Info);
    }
}

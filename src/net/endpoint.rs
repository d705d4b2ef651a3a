//! One endpoint, step by step: dns → tcp → tls → http → page. The first failure ends the
//! chain; later steps are reported as `skip` with the reason.

use super::diagnose::{self, ClientSide};
use super::http::{self, Conn, HttpFailure};
use super::tcp::{self, BoxStream, ConnectFailure};
use super::tls::{self, ClientFacts, TlsFacts, TlsFailure, TlsParams};
use super::words::{fill, with_detail};
use super::{NetContext, TCP_TIMEOUT, TLS_TIMEOUT};
use crate::finding::{Finding, Phase, Status, Text};
use crate::guide::{fix, phrase};
use crate::profile::{expand_url, parse_url, Endpoint, EndpointUrl};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this many redirects are followed.
pub const MAX_REDIRECTS: usize = 5;

/// What one endpoint's probe is pointed at.
#[derive(Debug, Clone)]
pub struct Target {
    /// Finding ids are `net.<id>.<step>`.
    pub id: String,
    pub title: Text,
    /// The URL as a person may see it (placeholders not filled: no per-user secrets).
    pub display_url: String,
    pub url: EndpointUrl,
    /// The guide section for failures not about the certificate.
    pub section: String,
    /// Whether to read the page against the profile's patterns.
    pub read_page: bool,
}

/// The findings of one endpoint, and what the run as a whole needs from it.
#[derive(Debug, Clone, Default)]
pub struct TargetOutcome {
    pub findings: Vec<Finding>,
    pub host: String,
    /// Local clock minus the server's `Date`, in seconds.
    pub clock_skew: Option<f64>,
    pub tls: Option<TlsFacts>,
}

const STEPS: [&str; 5] = ["dns", "tcp", "tls", "http", "page"];

fn step_title(step: &str, ep: &Text) -> Text {
    let t = match step {
        "dns" => phrase("net.step_dns", &[]),
        "tcp" => phrase("net.step_tcp", &[]),
        "tls" => phrase("net.step_tls", &[]),
        "http" => phrase("net.step_http", &[]),
        _ => phrase("net.step_page", &[]),
    };
    fill(t, &[("endpoint", ep)])
}

/// Collects a target's findings in step order.
struct Steps<'a> {
    t: &'a Target,
    out: Vec<Finding>,
}

impl Steps<'_> {
    fn finding(&self, step: &str) -> Finding {
        let target = match step {
            "dns" => self.t.url.host.clone(),
            "tcp" | "tls" => self.t.url.authority(),
            _ => self.t.display_url.clone(),
        };
        Finding::new(
            format!("net.{}.{step}", self.t.id),
            Phase::Network,
            step_title(step, &self.t.title),
            target,
        )
    }

    fn push(&mut self, f: Finding) {
        tracing::info!(step = %f.id, status = %f.status, elapsed = ?f.elapsed, "step done");
        self.out.push(f);
    }

    /// Every step after `done` is skipped because of `reason`.
    fn skip_after(&mut self, done: &str, reason: Text) {
        let from = STEPS.iter().position(|s| *s == done).map_or(0, |i| i + 1);
        for s in &STEPS[from..] {
            let f = self.finding(s).skip(reason.clone());
            tracing::info!(step = %f.id, "step skipped");
            self.out.push(f);
        }
    }

    fn skip_after_failure(&mut self, done: &str) {
        let id = format!("net.{}.{done}", self.t.id);
        self.skip_after(done, phrase("net.not_run_after", &[("id", &id)]));
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10000.0).round() / 10.0
}

/// The findings of an endpoint that was not probed at all, each step skipped for `reason`.
pub fn not_started(ep: &Endpoint, reason: Text) -> TargetOutcome {
    let url = parse_url(&ep.url).unwrap_or(EndpointUrl {
        scheme: "https".into(),
        host: "?".into(),
        port: 443,
        path: "/".into(),
    });
    let t = Target {
        id: ep.id.clone(),
        title: ep.title.text(),
        display_url: ep.url.clone(),
        url,
        section: ep.section.clone(),
        read_page: true,
    };
    let mut s = Steps { t: &t, out: vec![] };
    s.skip_after("", reason);
    TargetOutcome {
        findings: s.out,
        host: t.url.host.clone(),
        ..Default::default()
    }
}

/// The endpoint of a profile, with its per-user parts filled in.
pub async fn probe_endpoint(
    ctx: Arc<NetContext>,
    ep: Endpoint,
    params: BTreeMap<String, String>,
) -> TargetOutcome {
    let (url, missing) = expand_url(&ep.url, &params);
    let parsed = parse_url(&url);
    let display_url = ep.url.clone();
    let fallback = parse_url(&ep.url).ok();
    let parsed_ok = parsed.clone().ok().or(fallback.clone());
    let Some(u) = parsed_ok else {
        // The profile was checked on load; an expanded URL that does not parse is the only way here.
        let t = Target {
            id: ep.id.clone(),
            title: ep.title.text(),
            display_url,
            url: EndpointUrl {
                scheme: "https".into(),
                host: "?".into(),
                port: 443,
                path: "/".into(),
            },
            section: ep.section.clone(),
            read_page: true,
        };
        let mut s = Steps { t: &t, out: vec![] };
        s.skip_after("", phrase("net.url_invalid_filled", &[]));
        return TargetOutcome {
            findings: s.out,
            ..Default::default()
        };
    };
    let target = Target {
        id: ep.id.clone(),
        title: ep.title.text(),
        display_url,
        url: u.clone(),
        section: ep.section.clone(),
        read_page: true,
    };
    let optional_missing = ep
        .optional_param
        .as_ref()
        .filter(|p| missing.contains(p))
        .cloned();
    if !missing.is_empty() || parsed.is_err() {
        let mut s = Steps {
            t: &target,
            out: vec![],
        };
        let name = optional_missing.unwrap_or_else(|| missing.join(", "));
        let flag = format!("--{}", name.replace('_', "-"));
        s.skip_after(
            "",
            phrase("net.url_needs_part", &[("name", &name), ("flag", &flag)]),
        );
        return TargetOutcome {
            findings: s.out,
            host: u.host,
            ..Default::default()
        };
    }
    let (mut outcome, versions) = probe_with_versions(&ctx, &target).await;
    if let Some(v) = versions {
        let tls_id = format!("net.{}.tls", target.id);
        let at = outcome
            .findings
            .iter()
            .position(|f| f.id == tls_id)
            .map_or(outcome.findings.len(), |i| i + 1);
        outcome.findings.insert(at, v);
    }
    let secrets: Vec<&str> = params.values().map(String::as_str).collect();
    scrub_secrets(&mut outcome.findings, &secrets);
    outcome
}

/// A target's own steps and, beside them, the versions it accepts (net::versions), which take
/// TLS 1.3 from the version the target's handshake agreed on.
pub async fn probe_with_versions(
    ctx: &NetContext,
    target: &Target,
) -> (TargetOutcome, Option<Finding>) {
    let (progress, watched) = super::versions::progress();
    let main = async move {
        // `progress` is dropped when the target's steps end: nothing more to learn.
        probe_target(ctx, target, Some(&progress)).await
    };
    tokio::join!(main, super::versions::for_target(ctx, target, watched))
}

/// What the endpoint's own handshake showed about protocol versions (for net::versions).
fn main_handshake(
    tls: Option<&TlsFacts>,
    findings: &[Finding],
    id: &str,
) -> super::versions::MainHandshake {
    use super::versions::{MainHandshake, Version};
    if let Some(v) = tls
        .and_then(|f| f.version.as_deref())
        .and_then(Version::from_name)
    {
        return MainHandshake::Agreed(v);
    }
    let tls_id = format!("net.{id}.tls");
    let refused = findings.iter().any(|f| {
        f.id == tls_id
            && f.data.get("error").and_then(|e| e.as_str()) == Some("alert_protocol_version")
    });
    if refused {
        MainHandshake::RefusedVersions
    } else {
        MainHandshake::Unknown
    }
}

/// Servers echo the per-user URL parts (a redirect that keeps the query, a page title that
/// repeats the code): take them out of every finding before it leaves the probe.
pub fn scrub_secrets(findings: &mut [Finding], secrets: &[&str]) {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 3).collect();
    if secrets.is_empty() {
        return;
    }
    let scrub = |s: &mut String| {
        for x in &secrets {
            if s.contains(x) {
                *s = s.replace(x, "***");
            }
        }
    };
    fn walk(v: &mut serde_json::Value, scrub: &dyn Fn(&mut String)) {
        match v {
            serde_json::Value::String(s) => scrub(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, scrub)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, scrub)),
            _ => {}
        }
    }
    for f in findings {
        scrub(&mut f.detail.en);
        scrub(&mut f.detail.ja);
        scrub(&mut f.target);
        if let Some(t) = &mut f.fix {
            scrub(&mut t.en);
            scrub(&mut t.ja);
        }
        walk(&mut f.data, &scrub);
    }
}

/// Where a target's run stopped: the steps after this one are reported as skipped.
struct Stop(&'static str);

/// The connection after step 3, and the TLS facts whose verdict waits for the first read.
struct Opened {
    conn: Result<Conn, HttpFailure>,
    tls: Option<TlsFacts>,
    direct: Option<super::proxy::DirectComparison>,
}

/// The first answer, its body as text, and when the request was sent.
struct FirstAnswer {
    resp: http::HttpResponse,
    text_body: String,
    encoding: &'static str,
    start: Instant,
}

/// The answer at the end of the redirects, and what became of them.
struct Answer {
    resp: http::HttpResponse,
    text_body: String,
    encoding: &'static str,
    hops: Vec<String>,
    current: EndpointUrl,
    problem: Option<Finding>,
    left_https: Option<String>,
    start: Instant,
}

/// Run the five steps against one target; `progress`, when given, hears when its connection is
/// open and how its handshake ended (for the version probes beside it).
pub async fn probe_target(
    ctx: &NetContext,
    t: &Target,
    progress: Option<&super::versions::Progress>,
) -> TargetOutcome {
    tracing::info!(endpoint = %t.id, url = %t.display_url, "endpoint: start");
    let mut s = Steps { t, out: vec![] };
    let mut outcome = TargetOutcome {
        host: t.url.host.clone(),
        ..Default::default()
    };
    if let Err(Stop(after)) = run_steps(ctx, t, &mut s, &mut outcome, progress).await {
        s.skip_after_failure(after);
    }
    outcome.findings = s.out;
    outcome
}

/// dns → tcp (or the proxy's tunnel) → tls → http (with redirects) → page; the first step that
/// fails stops the run.
async fn run_steps(
    ctx: &NetContext,
    t: &Target,
    s: &mut Steps<'_>,
    outcome: &mut TargetOutcome,
    progress: Option<&super::versions::Progress>,
) -> Result<(), Stop> {
    use super::versions::MainProgress;
    let (stream, direct) = step_connect(ctx, t, s).await?;
    if let Some(p) = progress {
        p.send_replace(MainProgress::Connected);
    }
    let opened = step_tls(ctx, t, s, outcome, stream, direct).await;
    if let Some(p) = progress {
        let facts = match &opened {
            Ok(o) => o.tls.as_ref(),
            Err(_) => outcome.tls.as_ref(),
        };
        let h = main_handshake(facts, &s.out, &t.id);
        p.send_replace(MainProgress::Handshake(h));
    }
    let mut opened = opened?;
    let first = first_answer(ctx, t, s, outcome, &mut opened).await?;
    let answer = follow_redirects(ctx, t, s, &mut opened.conn, first).await;
    let http_failed = step_http(t, s, &answer);
    step_page(ctx, t, s, answer, http_failed);
    Ok(())
}

/// What the handshake diagnosis needs to know about our side.
fn client_side<'a>(ctx: &NetContext, t: &'a Target, client: &'a ClientFacts) -> ClientSide<'a> {
    ClientSide {
        client,
        withheld: ctx.client.is_some() && !ctx.may_present(&t.url.host),
        section: &t.section,
        host: &t.url.host,
    }
}

/// Steps 1–2: DNS and TCP, or a CONNECT tunnel when the route says so. Through a proxy the
/// server is also looked at directly, beside the tunnel: a proxied certificate that is not the
/// one the server shows is the proxy's own.
async fn step_connect(
    ctx: &NetContext,
    t: &Target,
    s: &mut Steps<'_>,
) -> Result<(BoxStream, Option<super::proxy::DirectLook>), Stop> {
    let host = t.url.host.as_str();
    let route = ctx.route(&t.url.scheme, host);
    if let super::proxy::Route::Via(p) = &route {
        let direct = (t.url.scheme == "https").then(|| {
            let budget = super::proxy::DIRECT_BUDGET
                .min(ctx.deadline.saturating_duration_since(Instant::now()));
            super::proxy::DirectLook::start(ctx.dns.clone(), host, t.url.port, budget)
        });
        let opened = super::proxy::open_via(ctx, t, p).await;
        s.out.extend(opened.findings);
        let stream = opened.stream.ok_or(Stop("tcp"))?;
        return Ok((stream, direct));
    }
    let addrs = step_dns(ctx, s, host).await.ok_or(Stop("dns"))?;
    let (stream, _peer) = step_tcp(ctx, s, &addrs, t.url.port)
        .await
        .ok_or(Stop("tcp"))?;
    Ok((stream, None))
}

/// Step 3: the TLS handshake (https only), and the interception check through a proxy. Its
/// verdict waits for the first read: TLS 1.3 rejects a certificate only then.
async fn step_tls(
    ctx: &NetContext,
    t: &Target,
    s: &mut Steps<'_>,
    outcome: &mut TargetOutcome,
    stream: BoxStream,
    direct: Option<super::proxy::DirectLook>,
) -> Result<Opened, Stop> {
    if t.url.scheme != "https" {
        let f = s.finding("tls").skip(phrase("net.tls_plain_http", &[]));
        s.push(f);
        return Ok(Opened {
            conn: Conn::open(stream, ctx.deadline).await,
            tls: None,
            direct: None,
        });
    }
    let host = t.url.host.as_str();
    let client = ClientFacts::from_key(ctx.client.as_ref());
    let cs = client_side(ctx, t, &client);
    let params = TlsParams {
        client: if ctx.may_present(host) {
            ctx.client.clone()
        } else {
            None
        },
        roots: ctx.roots.clone(),
        versions: None,
        alpn: vec![b"http/1.1".to_vec()],
        accept_any: false,
    };
    let to = TLS_TIMEOUT.min(ctx.deadline.saturating_duration_since(Instant::now()));
    let (res, mut facts) = tls::handshake(stream, host, &params, to).await;
    if cs.withheld {
        facts.client_cert_withheld =
            Some(format!("{host} is not in the profile's certificate_hosts"));
    }
    let (found, comparison) = intercepted(direct, ctx, t, &facts).await;
    let stream = match (res, found) {
        (_, Some(f)) => {
            s.push(f);
            outcome.tls = Some(facts);
            return Err(Stop("tls"));
        }
        (Err(failure), None) => {
            let d = diagnose::diagnose(&failure, &facts, &cs, to);
            let mut f = tls_fail(s, d, &facts);
            if let Some(c) = &comparison {
                add_direct_comparison(&mut f, c);
            }
            s.push(f);
            outcome.tls = Some(facts);
            return Err(Stop("tls"));
        }
        (Ok(stream), None) => stream,
    };
    Ok(Opened {
        conn: Conn::open(stream, ctx.deadline).await,
        tls: Some(facts),
        direct: comparison,
    })
}

/// Step 4's first request, over the handshake's own connection, and with it the TLS step's
/// verdict: a TLS 1.3 server rejects a certificate at this first read, and nginx answers a
/// missing or rejected certificate with an HTTP 400 page.
async fn first_answer(
    ctx: &NetContext,
    t: &Target,
    s: &mut Steps<'_>,
    outcome: &mut TargetOutcome,
    opened: &mut Opened,
) -> Result<FirstAnswer, Stop> {
    let client = ClientFacts::from_key(ctx.client.as_ref());
    let cs = client_side(ctx, t, &client);
    let start = Instant::now();
    let first = match &mut opened.conn {
        Ok(c) => c.get(&t.url.authority(), &t.url.path, ctx.deadline).await,
        Err(e) => Err(e.clone()),
    };
    // A refusal seen through a proxy keeps what the direct look found (the diagnosis reads it).
    let direct = opened.direct.clone();
    let tls_failed = |s: &mut Steps<'_>, outcome: &mut TargetOutcome, mut f: Finding, facts| {
        if let Some(c) = &direct {
            add_direct_comparison(&mut f, c);
        }
        s.push(f);
        outcome.tls = Some(facts);
        Stop("tls")
    };
    let resp = match first {
        Err(HttpFailure::Tls(err)) if opened.tls.is_some() => {
            // The server's verdict on the certificate, sent at the first read (TLS 1.3).
            let facts = opened.tls.take().unwrap_or_default();
            let d = diagnose::diagnose(&TlsFailure::Tls(err), &facts, &cs, Duration::ZERO);
            let mut f = tls_fail(s, d, &facts);
            f.detail = fill(
                phrase("net.tls_at_first_read", &[]),
                &[("detail", &f.detail)],
            );
            return Err(tls_failed(s, outcome, f, facts));
        }
        Err(e @ HttpFailure::Closed(_))
            if opened.tls.as_ref().is_some_and(|f| {
                f.client_cert_requested && f.version.as_deref() == Some("TLS 1.3")
            }) =>
        {
            // Over TLS 1.3 the server judges the certificate after the handshake; one that
            // hangs up (or resets, losing its alert) before answering has rejected it.
            let facts = opened.tls.take().unwrap_or_default();
            let msg = match &e {
                HttpFailure::Closed(m) => m.clone(),
                _ => Text::default(),
            };
            let failure = TlsFailure::Io(fill(phrase("net.tls_hung_up", &[]), &[("why", &msg)]));
            let d = diagnose::diagnose(&failure, &facts, &cs, Duration::ZERO);
            let f = tls_fail(s, d, &facts);
            return Err(tls_failed(s, outcome, f, facts));
        }
        Err(e) => {
            if let Some(facts) = opened.tls.take() {
                // Bytes that are not HTTP still came over the finished session: the server
                // accepted the handshake (and the certificate); the fault is the answer's.
                let f = match e {
                    HttpFailure::Protocol(_) => tls_pass(s, &facts, &client, t, ctx),
                    _ => tls_unconfirmed(s, &facts),
                };
                s.push(f);
                outcome.tls = Some(facts);
            }
            s.push(http_failure(s, t, &e, start.elapsed()));
            return Err(Stop("http"));
        }
        Ok(r) => r,
    };
    outcome.clock_skew = resp
        .date
        .as_deref()
        .and_then(super::clock::parse_http_date)
        .map(|d| super::clock::skew_seconds(d, resp.received_at));
    let (text_body, encoding) = http::decode_body(resp.content_type.as_deref(), &resp.body);
    if let Some(facts) = opened.tls.take() {
        if let Some(v) = diagnose::server_verdict(resp.status, &text_body) {
            let d = diagnose::diagnose_verdict(v, &facts, &cs);
            let f = tls_fail(s, d, &facts);
            return Err(tls_failed(s, outcome, f, facts));
        }
        let mut f = tls_pass(s, &facts, &client, t, ctx);
        if let Some(c) = &opened.direct {
            let clause = c.clause();
            f.detail.en.push_str(&clause.en);
            f.detail.ja.push_str(&clause.ja);
            add_direct_comparison(&mut f, c);
        }
        s.push(f);
        outcome.tls = Some(facts);
    }
    Ok(FirstAnswer {
        resp,
        text_body,
        encoding,
        start,
    })
}

/// Step 4, continued: redirects within the profile's hosts, each hop on the one route (a
/// reused connection when it goes to the same place and is still open).
async fn follow_redirects(
    ctx: &NetContext,
    t: &Target,
    s: &mut Steps<'_>,
    conn: &mut Result<Conn, HttpFailure>,
    first: FirstAnswer,
) -> Answer {
    let FirstAnswer {
        mut resp,
        mut text_body,
        mut encoding,
        start,
    } = first;
    let mut hops: Vec<String> = Vec::new();
    let mut current = t.url.clone();
    let mut http_problem: Option<Finding> = None;
    let mut left_https: Option<String> = None;
    while (300..400).contains(&resp.status) {
        let Some(loc) = resp.location.clone() else {
            break;
        };
        let next = match next_hop(ctx, t, s, &current, resp.status, &loc, hops.len()) {
            Ok(u) => u,
            Err(problem) => {
                http_problem = Some(*problem);
                break;
            }
        };
        if current.scheme == "https" && next.scheme == "http" && left_https.is_none() {
            tracing::warn!(from = %current.authority(), to = %next.authority(), "redirect leaves https");
            left_https = Some(format!(
                "http://{}{}",
                next.authority(),
                redact_query(&next.path)
            ));
        }
        tracing::info!(status = resp.status, to = %format!("{}://{}{}", next.scheme, next.authority(), redact_query(&next.path)), "redirect followed");
        hops.push(format!(
            "{} {}{}",
            resp.status,
            next.authority(),
            redact_query(&next.path)
        ));
        let same =
            next.host == current.host && next.port == current.port && next.scheme == current.scheme;
        let reuse = same && conn.as_ref().map(Conn::is_ready).unwrap_or(false);
        if !reuse {
            *conn = open_hop(ctx, &next, true)
                .await
                .map_err(HttpFailure::Closed);
        }
        let r = match conn {
            Ok(c) => c.get(&next.authority(), &next.path, ctx.deadline).await,
            Err(e) => Err(e.clone()),
        };
        match r {
            Ok(r) => {
                let (tb, enc) = http::decode_body(r.content_type.as_deref(), &r.body);
                text_body = tb;
                encoding = enc;
                resp = r;
                current = next;
            }
            Err(e) => {
                let mut f = http_failure(s, t, &e, start.elapsed());
                f.detail = fill(
                    phrase("net.redirect_hop_failed", &[("to", &next.authority())]),
                    &[("detail", &f.detail)],
                );
                http_problem = Some(f);
                resp.body.clear();
                break;
            }
        }
    }
    Answer {
        resp,
        text_body,
        encoding,
        hops,
        current,
        problem: http_problem,
        left_https,
        start,
    }
}

/// Where a redirect leads, or why it is not followed: a location that cannot be used, a host
/// outside the profile, or one redirect too many.
fn next_hop(
    ctx: &NetContext,
    t: &Target,
    s: &Steps<'_>,
    current: &EndpointUrl,
    status: u16,
    loc: &str,
    hops: usize,
) -> Result<EndpointUrl, Box<Finding>> {
    let next = resolve_location(current, loc).map_err(|e| {
        Box::new(
            s.finding("http")
                .fail(fill(
                    phrase("net.redirect_unusable", &[("status", &status.to_string())]),
                    &[("why", &e)],
                ))
                .section(t.section.clone())
                .fix(fix("net.http_error", &[])),
        )
    })?;
    if !is_profile_host(ctx, &next.host) {
        let to = next.authority();
        return Err(Box::new(
            s.finding("http")
                .warn(phrase(
                    "net.redirect_not_followed",
                    &[("status", &status.to_string()), ("to", &to)],
                ))
                .section(t.section.clone())
                .fix(fix("net.redirect_elsewhere", &[("host", &next.host)])),
        ));
    }
    if hops >= MAX_REDIRECTS {
        return Err(Box::new(
            s.finding("http")
                .fail(phrase(
                    "net.redirect_too_many",
                    &[("max", &MAX_REDIRECTS.to_string())],
                ))
                .section(t.section.clone())
                .fix(fix("net.http_error", &[])),
        ));
    }
    Ok(next)
}

/// Step 4's finding, from the answer at the end of the redirects; whether it failed.
fn step_http(t: &Target, s: &mut Steps<'_>, a: &Answer) -> bool {
    let Answer {
        resp,
        encoding,
        hops,
        current,
        problem: http_problem,
        left_https,
        start,
        ..
    } = a;
    let elapsed = start.elapsed();
    let data = serde_json::json!({
        "status": resp.status,
        "redirects": hops,
        "final_url": format!("{}://{}{}", current.scheme, current.authority(), redact_query(&current.path)),
        "content_type": resp.content_type,
        "encoding": encoding,
        "body_bytes": resp.body.len(),
        "body_truncated": resp.truncated,
        "server": resp.server,
        "date": resp.date,
        "first_byte_ms": (resp.head_ms * 10.0).round() / 10.0,
        "left_https": left_https.is_some(),
    });
    let http_failed;
    match http_problem {
        Some(f) => {
            http_failed = f.status == Status::Fail;
            s.push(f.clone().elapsed(elapsed).data(data));
        }
        None => {
            let status = resp.status;
            let reason = resp.reason.clone();
            let size = resp.body.len();
            let via = if hops.is_empty() {
                Text::default()
            } else {
                phrase(
                    "net.http_via_redirects",
                    &[("count", &hops.len().to_string())],
                )
            };
            let head = [
                ("status", status.to_string()),
                ("reason", reason.clone()),
                ("size", size.to_string()),
                ("encoding", encoding.to_string()),
            ];
            let head: Vec<(&str, &str)> = head.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let f = s.finding("http").elapsed(elapsed).data(data);
            if let Some(to) = left_https.as_ref().filter(|_| status < 400) {
                http_failed = false;
                s.push(
                    f.warn(fill(
                        phrase("net.http_left_https", &head),
                        &[("via", &via), ("to", &Text::same(to.as_str()))],
                    ))
                    .section(t.section.clone())
                    .fix(fix("net.redirect_insecure", &[("url", to)])),
                );
            } else if status < 400 {
                http_failed = false;
                s.push(f.pass(fill(phrase("net.http_ok", &head), &[("via", &via)])));
            } else {
                http_failed = true;
                s.push(
                    f.fail(fill(
                        phrase("net.http_status_failed", &head),
                        &[("via", &via)],
                    ))
                    .section(t.section.clone())
                    .fix(fix("net.http_status", &[("status", &status.to_string())])),
                );
            }
        }
    }

    http_failed
}

/// Step 5: read whatever the server sent, even with an error status (pages with error codes
/// explain the status).
fn step_page(ctx: &NetContext, t: &Target, s: &mut Steps<'_>, a: Answer, http_failed: bool) {
    let Answer {
        resp, text_body, ..
    } = a;
    let page = s.finding("page");
    if !t.read_page {
        s.push(page.skip(phrase("net.page_not_requested", &[])));
    } else if resp.body.is_empty() {
        let f = if http_failed {
            page.skip(phrase(
                "net.not_run_after",
                &[("id", &format!("net.{}.http", t.id))],
            ))
        } else {
            page.info(phrase("net.page_empty", &[]))
        };
        s.push(f);
    } else {
        s.push(page_finding(
            ctx,
            page,
            &text_body,
            resp.truncated.then_some(resp.body.len()),
            &t.section,
        ));
    }
}

/// Through a proxy, a server chain that is not the server's own means TLS interception: a
/// known product or an untrusted issuer tells at once; otherwise the certificate the server
/// shows directly decides, when a direct connection is possible. `direct` is `None` when the
/// connection does not go through a proxy.
async fn intercepted(
    direct: Option<super::proxy::DirectLook>,
    ctx: &NetContext,
    t: &Target,
    facts: &TlsFacts,
) -> (Option<Finding>, Option<super::proxy::DirectComparison>) {
    let Some(direct) = direct else {
        return (None, None);
    };
    let mut verdict = super::proxy::interception_from_facts(facts);
    let mut comparison = None;
    if verdict == super::proxy::Interception::None {
        let seen = direct.result().await;
        let (v, c) = super::proxy::compare_with_direct(facts, &seen);
        verdict = v;
        comparison = Some(c);
    }
    let found = super::proxy::interception_finding(
        &t.id,
        &t.url.authority(),
        &t.url.host,
        &verdict,
        &ctx.profile,
    )
    .map(|mut f| {
        f.title = step_title("tls", &t.title);
        if let Some(c) = &comparison {
            add_direct_comparison(&mut f, c);
        }
        f
    });
    (found, comparison)
}

/// `data.direct_comparison` of a TLS step seen through a proxy.
fn add_direct_comparison(f: &mut Finding, c: &super::proxy::DirectComparison) {
    if let Some(o) = f.data.as_object_mut() {
        o.insert(
            "direct_comparison".into(),
            serde_json::to_value(c).unwrap_or_default(),
        );
    }
}

fn redact_query(path: &str) -> String {
    match path.split_once('?') {
        Some((p, _)) => format!("{p}?…"),
        None => path.to_string(),
    }
}

fn is_profile_host(ctx: &NetContext, host: &str) -> bool {
    ctx.profile.may_present_certificate(host)
        || ctx.profile.endpoints.iter().any(|e| {
            parse_url(&e.url)
                .map(|u| u.host.eq_ignore_ascii_case(host))
                .unwrap_or(false)
        })
}

/// An endpoint URL as a [`url::Url`].
pub fn to_url(u: &EndpointUrl) -> Result<url::Url, String> {
    url::Url::parse(&format!("{}://{}{}", u.scheme, u.authority(), u.path))
        .map_err(|e| e.to_string())
}

/// A [`url::Url`] (http or https, with a host) as an endpoint URL.
pub fn from_url(u: &url::Url) -> Result<EndpointUrl, Text> {
    let scheme = u.scheme().to_string();
    if scheme != "https" && scheme != "http" {
        return Err(phrase("net.url_scheme", &[("scheme", &scheme)]));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(phrase("net.url_credentials", &[]));
    }
    let host = match u.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(phrase("net.url_no_host", &[])),
    };
    let port = u
        .port_or_known_default()
        .ok_or_else(|| phrase("net.url_no_port", &[]))?;
    let mut path = u.path().to_string();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok(EndpointUrl {
        scheme,
        host,
        port,
        path,
    })
}

/// A URL for logs and findings: scheme, authority and path; a query is shown as `?…` (it may
/// hold per-user parts).
pub fn redacted(u: &url::Url) -> String {
    let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
    if let Some(p) = u.port() {
        s.push_str(&format!(":{p}"));
    }
    s.push_str(u.path());
    if u.query().is_some() {
        s.push_str("?…");
    }
    s
}

/// A `Location` header against the URL it came from (RFC 3986 reference resolution, dot
/// segments removed, by `url::Url::join`).
pub fn resolve_location(base: &EndpointUrl, loc: &str) -> Result<EndpointUrl, Text> {
    let invalid = |e: url::ParseError| with_detail(phrase("net.url_invalid", &[]), &e.to_string());
    let base = url::Url::parse(&format!(
        "{}://{}{}",
        base.scheme,
        base.authority(),
        base.path
    ))
    .map_err(invalid)?;
    let next = base.join(loc.trim()).map_err(invalid)?;
    from_url(&next)
}

/// DNS, TCP (or the proxy's tunnel: the one route decision, the one connector) and TLS to a
/// redirect target, without findings of their own.
async fn open_hop(ctx: &NetContext, u: &EndpointUrl, present: bool) -> Result<Conn, Text> {
    let route = ctx.route(&u.scheme, &u.host);
    let c = super::connect::open(&ctx.dns, &route, &u.host, u.port, TCP_TIMEOUT, ctx.deadline)
        .await
        .map_err(|e| e.text())?;
    if u.scheme != "https" {
        return Conn::open(c.stream, ctx.deadline)
            .await
            .map_err(|_| phrase("net.no_http_connection", &[]));
    }
    let params = TlsParams {
        client: if present && ctx.may_present(&u.host) {
            ctx.client.clone()
        } else {
            None
        },
        roots: ctx.roots.clone(),
        versions: None,
        alpn: vec![b"http/1.1".to_vec()],
        accept_any: false,
    };
    let to = TLS_TIMEOUT.min(ctx.deadline.saturating_duration_since(Instant::now()));
    let (r, _) = tls::handshake(c.stream, &u.host, &params, to).await;
    let s = r.map_err(|e| phrase("net.peek_failed", &[("code", &e.code())]))?;
    Conn::open(s, ctx.deadline)
        .await
        .map_err(|_| phrase("net.no_http_connection", &[]))
}

/// Why a resolver could not be set up: its code, with the resolver's own words as the detail.
fn dns_why(e: &super::dns::DnsFailure) -> Text {
    match e {
        super::dns::DnsFailure::Unavailable(m) | super::dns::DnsFailure::ServerError(m) => {
            with_detail(Text::same(e.code()), m)
        }
        other => Text::same(other.code()),
    }
}

async fn step_dns(ctx: &NetContext, s: &mut Steps<'_>, host: &str) -> Option<Vec<IpAddr>> {
    let f = s.finding("dns");
    let via = ctx.resolver.describe();
    let via_t = match &ctx.resolver {
        super::dns::ResolverChoice::System => phrase("net.system_resolver", &[]),
        super::dns::ResolverChoice::Server(sa) => Text::same(sa.to_string()),
    };
    let dns = match &ctx.dns {
        Ok(d) => d,
        Err(e) => {
            s.push(
                f.fail(fill(
                    phrase("net.dns_no_resolver", &[]),
                    &[("why", &dns_why(e))],
                ))
                .section(s.t.section.clone())
                .fix(fix("net.dns_unavailable", &[])),
            );
            return None;
        }
    };
    let start = Instant::now();
    let r = tokio::time::timeout_at(
        ctx.step_deadline(super::DNS_TIMEOUT).into(),
        dns.resolve(host),
    )
    .await
    .unwrap_or(Err(super::dns::DnsFailure::Timeout));
    let elapsed = start.elapsed();
    let f = f.elapsed(elapsed);
    match r {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
            let joined = list.join(", ");
            s.push(
                f.pass(fill(
                    phrase("net.dns_resolved", &[("host", host), ("joined", &joined)]),
                    &[("via", &via_t)],
                ))
                .data(serde_json::json!({"addresses": list, "resolver": via, "ms": ms(elapsed)})),
            );
            Some(addrs)
        }
        Err(e) => {
            use super::dns::DnsFailure as D;
            let (detail, key) = match &e {
                D::NxDomain => (
                    phrase("net.dns_nxdomain", &[("host", host)]),
                    "net.dns_nxdomain",
                ),
                D::NoAddress => (
                    phrase("net.dns_no_address", &[("host", host)]),
                    "net.dns_nxdomain",
                ),
                D::ServerError(code) => (
                    phrase("net.dns_server_error", &[("host", host), ("code", code)]),
                    "net.dns_servfail",
                ),
                D::Timeout => (
                    phrase("net.dns_timeout", &[("host", host)]),
                    "net.dns_timeout",
                ),
                D::Unavailable(m) => (
                    with_detail(phrase("net.dns_failed", &[("host", host)]), m),
                    "net.dns_unavailable",
                ),
            };
            s.push(
                f.fail(fill(detail, &[("via", &via_t)]))
                    .section(s.t.section.clone())
                    .fix(fill(fix(key, &[("host", host)]), &[("server", &via_t)]))
                    .data(serde_json::json!({"error": e.code(), "resolver": via})),
            );
            None
        }
    }
}

async fn step_tcp(
    ctx: &NetContext,
    s: &mut Steps<'_>,
    addrs: &[IpAddr],
    port: u16,
) -> Option<(BoxStream, std::net::SocketAddr)> {
    let f = s.finding("tcp");
    let to = TCP_TIMEOUT.min(ctx.deadline.saturating_duration_since(Instant::now()));
    let start = Instant::now();
    let r = tcp::connect_direct(addrs, port, to).await;
    let elapsed = start.elapsed();
    let attempts_json = |att: &[tcp::Attempt]| -> serde_json::Value {
        att.iter()
            .map(|a| match &a.result {
                Ok(d) => serde_json::json!({"address": a.addr.to_string(), "result": "connected", "ms": ms(*d)}),
                Err(e) => serde_json::json!({"address": a.addr.to_string(), "result": e.code()}),
            })
            .collect()
    };
    match r {
        Ok(c) => {
            let others: Vec<String> = c
                .attempts
                .iter()
                .filter_map(|a| {
                    a.result
                        .as_ref()
                        .err()
                        .filter(|e| {
                            !matches!(e, ConnectFailure::Abandoned | ConnectFailure::NotTried)
                        })
                        .map(|e| format!("{}: {}", a.addr, e.code()))
                })
                .collect();
            let note = if others.is_empty() {
                Text::default()
            } else {
                phrase("net.tcp_not_reachable", &[("list", &others.join(", "))])
            };
            let peer = c.peer;
            s.push(
                f.elapsed(elapsed)
                    .pass(fill(
                        phrase("net.tcp_connected", &[("peer", &peer.to_string())]),
                        &[("note", &note)],
                    ))
                    .data(serde_json::json!({"peer": peer.to_string(), "attempts": attempts_json(&c.attempts)})),
            );
            Some((c.stream, peer))
        }
        Err(att) => {
            let first = att.first().and_then(|a| a.result.clone().err());
            let list: Vec<Text> = att
                .iter()
                .map(|a| {
                    let why = match &a.result {
                        Err(ConnectFailure::Refused) => {
                            super::words::io_reason(std::io::ErrorKind::ConnectionRefused)
                        }
                        Err(ConnectFailure::TimedOut) => phrase(
                            "net.tcp_no_answer_in",
                            &[("timeout", &crate::text::human::duration(to))],
                        ),
                        Err(ConnectFailure::Unreachable(m)) => with_detail(
                            super::words::io_reason(std::io::ErrorKind::NetworkUnreachable),
                            m,
                        ),
                        Err(ConnectFailure::Other(m)) => {
                            with_detail(super::words::io_reason(std::io::ErrorKind::Other), m)
                        }
                        Err(e) => Text::same(e.code()),
                        Ok(_) => phrase("net.tcp_attempt_connected", &[]),
                    };
                    fill(
                        phrase("net.tcp_attempt", &[("addr", &a.addr.to_string())]),
                        &[("why", &why)],
                    )
                })
                .collect();
            let joined = super::words::join(&list, "; ");
            let addr = att.first().map(|a| a.addr.to_string()).unwrap_or_default();
            let (detail, key) = match first {
                Some(ConnectFailure::Refused) => {
                    (phrase("net.tcp_refused", &[]), "net.tcp_refused")
                }
                Some(ConnectFailure::TimedOut) => {
                    (phrase("net.tcp_timed_out", &[]), "net.tcp_timeout")
                }
                Some(ConnectFailure::Unreachable(_)) => {
                    (phrase("net.tcp_unreachable", &[]), "net.tcp_unreachable")
                }
                _ => (phrase("net.open_tcp_failed", &[]), "net.tcp_unreachable"),
            };
            s.push(
                f.elapsed(elapsed)
                    .fail(fill(detail, &[("list", &joined)]))
                    .section(s.t.section.clone())
                    .fix(fix(key, &[("addr", &addr)]))
                    .data(serde_json::json!({"attempts": attempts_json(&att)})),
            );
            None
        }
    }
}

fn tls_data(facts: &TlsFacts, code: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(facts).unwrap_or(serde_json::Value::Null);
    if let (Some(c), Some(obj)) = (code, v.as_object_mut()) {
        obj.insert("error".into(), serde_json::Value::String(c.to_string()));
    }
    v
}

fn tls_elapsed(facts: &TlsFacts) -> Duration {
    Duration::from_secs_f64(facts.handshake_ms.unwrap_or(0.0) / 1000.0)
}

fn tls_fail(s: &Steps<'_>, d: diagnose::Diagnosis, facts: &TlsFacts) -> Finding {
    s.finding("tls")
        .elapsed(tls_elapsed(facts))
        .fail(d.detail)
        .section(d.section)
        .fix(d.fix)
        .data(tls_data(facts, Some(&d.code)))
}

/// The handshake completed but the server never answered the request: over TLS 1.3 its
/// verdict on the certificate was never seen.
fn tls_unconfirmed(s: &Steps<'_>, facts: &TlsFacts) -> Finding {
    let f = s
        .finding("tls")
        .elapsed(tls_elapsed(facts))
        .data(tls_data(facts, None));
    let v = facts.version.clone().unwrap_or_default();
    if facts.client_cert_requested && facts.version.as_deref() == Some("TLS 1.3") {
        f.warn(phrase("net.tls_unconfirmed", &[("v", &v)]))
            .section(s.t.section.clone())
            .fix(fix("net.tls_unconfirmed", &[]))
    } else {
        f.pass(phrase("net.tls_completed", &[("v", &v)]))
    }
}

fn tls_pass(
    s: &Steps<'_>,
    facts: &TlsFacts,
    client: &ClientFacts,
    t: &Target,
    ctx: &NetContext,
) -> Finding {
    let v = facts.version.clone().unwrap_or_default();
    let suite = facts.cipher_suite.clone().unwrap_or_default();
    let server = facts
        .server_chain
        .first()
        .map(|c| {
            phrase(
                "net.tls_server_cert",
                &[
                    ("subject", c.subject_name()),
                    ("issuer", c.issuer_name()),
                    ("date", &c.not_after),
                ],
            )
        })
        .unwrap_or_default();
    let cert = if facts.client_cert_sent {
        let issuer = client
            .leaf
            .as_ref()
            .map(|l| l.issuer_name().to_string())
            .unwrap_or_default();
        phrase("net.tls_client_accepted", &[("issuer", &issuer)])
    } else if facts.client_cert_requested {
        phrase("net.tls_client_optional", &[])
    } else {
        let ep_wants = ctx
            .profile
            .endpoints
            .iter()
            .any(|e| e.id == t.id && e.client_cert);
        if ep_wants {
            phrase("net.tls_client_not_asked", &[])
        } else {
            Text::default()
        }
    };
    let mut f = s
        .finding("tls")
        .elapsed(tls_elapsed(facts))
        .pass(fill(
            phrase("net.tls_passed", &[("v", &v), ("suite", &suite)]),
            &[("server", &server), ("cert", &cert)],
        ))
        .data(tls_data(facts, None));
    // A fact for the diagnosis: the certificate is issued by a known intercepting product.
    if let super::proxy::Interception::Detected {
        product: Some(p), ..
    } = super::proxy::interception_from_facts(facts)
    {
        if let Some(o) = f.data.as_object_mut() {
            o.insert("interceptor".into(), p.into());
        }
    }
    f
}

fn http_failure(s: &Steps<'_>, t: &Target, e: &HttpFailure, elapsed: Duration) -> Finding {
    let f = s.finding("http").elapsed(elapsed);
    let (detail, key) = match e {
        HttpFailure::Timeout => (phrase("net.http_timeout", &[]), "net.http_timeout"),
        HttpFailure::Closed(m) => (
            fill(phrase("net.http_no_answer", &[]), &[("why", m)]),
            "net.http_error",
        ),
        HttpFailure::Protocol(m) => (
            with_detail(phrase("net.http_not_http", &[]), m),
            "net.http_error",
        ),
        HttpFailure::Tls(err) => (
            with_detail(
                phrase("net.http_tls_error", &[("code", tls::tls_error_code(err))]),
                &err.to_string(),
            ),
            "net.http_error",
        ),
    };
    f.fail(detail).section(t.section.clone()).fix(fix(key, &[]))
}

fn page_finding(
    ctx: &NetContext,
    f: Finding,
    text_body: &str,
    truncated: Option<usize>,
    section: &str,
) -> Finding {
    let title = super::page::title(text_body);
    let read = truncated;
    let truncated = read.is_some();
    let data = serde_json::json!({"title": title, "truncated": truncated});
    let f = f.data(data);
    match super::page::read_page(&ctx.profile, text_body) {
        Some(m) => {
            let cat = crate::guide::catalogue();
            let section = cat.find(&m.section);
            let stitle = section.map(|s| s.title.clone()).unwrap_or_default();
            let matched = m.matched.clone();
            let status = m.status.status();
            let fix_text = section.map(|s| s.fix.clone()).unwrap_or_default();
            let mut f = f.status(
                status,
                fill(
                    phrase("net.page_says", &[("matched", &matched)]),
                    &[("title", &stitle)],
                ),
            );
            f.section = Some(m.section.clone());
            if !fix_text.is_empty() {
                f.fix = Some(fix_text);
            }
            if let Some(obj) = f.data.as_object_mut() {
                obj.insert("matched".into(), serde_json::Value::String(matched));
                obj.insert("section".into(), serde_json::Value::String(m.section));
                if let Some(c) = m.captured {
                    obj.insert("code".into(), serde_json::Value::String(c));
                }
            }
            f
        }
        // A page that did not end (an endless or oversized body) was read only in part: its
        // lack of an error message proves nothing.
        None if truncated => {
            // The bytes really read: a page cut off by the deadline may be far below the cap.
            let read = crate::text::human::bytes(read.unwrap_or(0) as u64);
            f.warn(phrase("net.page_did_not_end", &[("read", &read)]))
                .section(section.to_string())
                .fix(fix("net.http_error", &[]))
        }
        None => {
            let id = f.id.split('.').nth(1).unwrap_or_default();
            let ep = ctx.profile.endpoints.iter().find(|e| e.id == id);
            super::page::unmatched_page(f, ep.and_then(|e| e.expect.as_ref()), text_body, section)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = parse_url("https://h.test:8443/a/b.do?x=1").unwrap();
        let u = resolve_location(&base, "c.do").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("h.test", 8443, "/a/c.do")
        );
        let u = resolve_location(&base, "/top").unwrap();
        assert_eq!(u.path, "/top");
        let u = resolve_location(&base, "https://other.test/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("other.test", 443));
        let u = resolve_location(&base, "//o.test/y").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("https", "o.test"));
    }

    fn at(b: &str, l: &str) -> String {
        let u = resolve_location(&parse_url(b).unwrap(), l).unwrap();
        format!("{}://{}{}", u.scheme, u.authority(), u.path)
    }

    #[test]
    fn locations_resolve_as_rfc_3986_says() {
        let b = "https://ds.example/a/b";
        assert_eq!(at(b, "?page=2"), "https://ds.example:443/a/b?page=2");
        assert_eq!(
            at("https://ds.example/a/b/c", "../d"),
            "https://ds.example:443/a/d"
        );
        assert_eq!(at(b, "./x/../y"), "https://ds.example:443/a/y");
        assert_eq!(
            at(b, "//other.example:8443/p"),
            "https://other.example:8443/p"
        );
        assert_eq!(at(b, "http://plain.example/p"), "http://plain.example:80/p");
        assert_eq!(at(b, "https://[::1]:8443/v6"), "https://[::1]:8443/v6");
        let base = parse_url(b).unwrap();
        assert!(resolve_location(&base, "ftp://x/").is_err());
        assert!(resolve_location(&base, "https://u:p@x/").is_err());
    }

    #[test]
    fn redacted_urls_hide_the_query() {
        let u = url::Url::parse("https://ds.example:8443/a?token=secret").unwrap();
        assert_eq!(redacted(&u), "https://ds.example:8443/a?…");
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let mut fs = vec![
            Finding::new("net.x.page", Phase::Network, Text::same("t"), "h")
                .pass(Text::same("title: Welcome cd=CODE123"))
                .data(serde_json::json!({"redirects": ["302 h/landing?cd=CODE123"]})),
        ];
        scrub_secrets(&mut fs, &["CODE123", ""]);
        assert_eq!(fs[0].detail.en, "title: Welcome cd=***");
        assert_eq!(fs[0].data["redirects"][0], "302 h/landing?cd=***");
    }

    #[test]
    fn queries_are_not_shown() {
        assert_eq!(redact_query("/e?secret"), "/e?…");
        assert_eq!(redact_query("/e"), "/e");
    }
}

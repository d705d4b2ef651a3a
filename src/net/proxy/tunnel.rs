//! The HTTP CONNECT tunnel: open it (Basic auth from the proxy URL), tell its failures apart,
//! and the endpoint's first steps through it.

use super::{exceptions_for, route_finding, Proxy, ProxyUrl, Route};
use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::net::words::{fill, io_reason, with_detail};
use crate::profile::Profile;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a tunnel could not be opened. Messages name the proxy without credentials.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("the proxy {proxy} cannot be reached: {reason}")]
    Unreachable {
        proxy: String,
        kind: std::io::ErrorKind,
        reason: String,
    },
    #[error("the proxy {proxy} asks for authentication ({scheme}){}", if *.sent_credentials { "; the credentials given were refused" } else { "" })]
    AuthRequired {
        proxy: String,
        scheme: String,
        sent_credentials: bool,
    },
    #[error("the proxy {proxy} refused the tunnel to {target}: HTTP {status} {reason}")]
    Refused {
        proxy: String,
        target: String,
        status: u16,
        reason: String,
    },
    #[error("the proxy {proxy} could not reach {target}: HTTP {status} {reason}")]
    TargetUnreachable {
        proxy: String,
        target: String,
        status: u16,
        reason: String,
    },
    #[error("the proxy {proxy} did not answer within {}", crate::text::human::duration(*.timeout))]
    Timeout { proxy: String, timeout: Duration },
    #[error("the proxy {proxy} answered CONNECT with something that is not HTTP ({what})")]
    BadResponse { proxy: String, what: BadAnswer },
}

/// What was wrong with a proxy's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadAnswer {
    ReadFailed(std::io::ErrorKind, String),
    Closed,
    EndedEarly,
    TooLong,
    Malformed,
}

impl std::fmt::Display for BadAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadAnswer::ReadFailed(_, e) => write!(f, "read failed: {e}"),
            BadAnswer::Closed => f.write_str("it closed the connection"),
            BadAnswer::EndedEarly => f.write_str("the answer ended early"),
            BadAnswer::TooLong => write!(f, "response head over {HEAD_CAP} bytes"),
            BadAnswer::Malformed => f.write_str("malformed HTTP response"),
        }
    }
}

impl ProxyError {
    /// One sentence for a finding, in the catalogue's words; an OS error's own text follows
    /// only as the marked detail.
    pub fn text(&self) -> Text {
        match self {
            ProxyError::Unreachable {
                proxy,
                kind,
                reason,
            } => with_detail(
                fill(
                    phrase("net.proxy_unreachable", &[("proxy", proxy)]),
                    &[("why", &io_reason(*kind))],
                ),
                reason,
            ),
            ProxyError::AuthRequired {
                proxy,
                scheme,
                sent_credentials,
            } => phrase(
                if *sent_credentials {
                    "net.proxy_auth_refused"
                } else {
                    "net.proxy_auth_required"
                },
                &[("proxy", proxy), ("scheme", scheme)],
            ),
            ProxyError::Refused {
                proxy,
                target,
                status,
                reason,
            } => phrase(
                "net.proxy_refused",
                &[
                    ("proxy", proxy),
                    ("target", target),
                    ("status", &status.to_string()),
                    ("reason", reason),
                ],
            ),
            ProxyError::TargetUnreachable {
                proxy,
                target,
                status,
                reason,
            } => phrase(
                "net.proxy_target_unreachable",
                &[
                    ("proxy", proxy),
                    ("target", target),
                    ("status", &status.to_string()),
                    ("reason", reason),
                ],
            ),
            ProxyError::Timeout { proxy, timeout } => phrase(
                "net.proxy_timeout",
                &[
                    ("proxy", proxy),
                    ("timeout", &crate::text::human::duration(*timeout)),
                ],
            ),
            ProxyError::BadResponse { proxy, what } => {
                let why = match what {
                    BadAnswer::ReadFailed(kind, raw) => with_detail(io_reason(*kind), raw),
                    BadAnswer::Closed => phrase("net.proxy_answer_closed", &[]),
                    BadAnswer::EndedEarly => phrase("net.proxy_answer_short", &[]),
                    BadAnswer::TooLong => {
                        phrase("net.proxy_answer_long", &[("max", &HEAD_CAP.to_string())])
                    }
                    BadAnswer::Malformed => phrase("net.proxy_answer_malformed", &[]),
                };
                fill(
                    phrase("net.proxy_bad_answer", &[("proxy", proxy)]),
                    &[("why", &why)],
                )
            }
        }
    }
}

/// Largest CONNECT response head read from a proxy.
const HEAD_CAP: usize = 16 * 1024;

/// Open a TCP connection to `host:port` through `proxy` with HTTP CONNECT (Basic auth from the
/// URL). The proxy resolves `host`, so this works when local DNS does not. Bounded by `timeout`.
pub async fn connect_tunnel(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, ProxyError> {
    let name = proxy.to_string();
    match tokio::time::timeout(timeout, tunnel(proxy, host, port)).await {
        Ok(r) => r,
        Err(_) => Err(ProxyError::Timeout {
            proxy: name,
            timeout,
        }),
    }
}

async fn tunnel(proxy: &ProxyUrl, host: &str, port: u16) -> Result<TcpStream, ProxyError> {
    let pname = proxy.to_string();
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut s = TcpStream::connect((proxy.host.as_str(), proxy.port))
        .await
        .map_err(|e| ProxyError::Unreachable {
            proxy: pname.clone(),
            kind: e.kind(),
            reason: e.to_string(),
        })?;
    let _ = s.set_nodelay(true);
    let mut req = format!(
        "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: certprobe/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(auth) = proxy.basic_auth() {
        req.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
    }
    req.push_str("\r\n");
    tracing::trace!(proxy = %pname, %target, credentials = proxy.has_credentials(), "wire: CONNECT sent");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| ProxyError::Unreachable {
            proxy: pname.clone(),
            kind: e.kind(),
            reason: e.to_string(),
        })?;
    // Read the response head byte by byte: nothing after it may be consumed, it belongs to TLS.
    let mut head = Vec::with_capacity(512);
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut b).await.map_err(|e| ProxyError::BadResponse {
            proxy: pname.clone(),
            what: BadAnswer::ReadFailed(e.kind(), e.to_string()),
        })?;
        if n == 0 {
            return Err(ProxyError::BadResponse {
                proxy: pname,
                what: if head.is_empty() {
                    BadAnswer::Closed
                } else {
                    BadAnswer::EndedEarly
                },
            });
        }
        head.push(b[0]);
        if head.len() > HEAD_CAP {
            return Err(ProxyError::BadResponse {
                proxy: pname,
                what: BadAnswer::TooLong,
            });
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(ProxyError::BadResponse {
                proxy: pname,
                what: BadAnswer::Malformed,
            })
        }
    }
    let status = resp.code.unwrap_or(0);
    let reason = printable(resp.reason.unwrap_or(""));
    tracing::trace!(proxy = %pname, status, head_bytes = head.len(), "wire: CONNECT answered");
    match status {
        200..=299 => Ok(s),
        // 407 is the standard answer; tinyproxy and some others answer 401 to bad credentials.
        401 | 407 => {
            let scheme = resp
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("proxy-authenticate"))
                .filter_map(|h| std::str::from_utf8(h.value).ok())
                .map(|v| printable(v.split_whitespace().next().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ");
            Err(ProxyError::AuthRequired {
                proxy: pname,
                scheme: if scheme.is_empty() {
                    "unknown".into()
                } else {
                    scheme
                },
                sent_credentials: proxy.has_credentials(),
            })
        }
        502..=504 => Err(ProxyError::TargetUnreachable {
            proxy: pname,
            target,
            status,
            reason,
        }),
        // tinyproxy and some others say 500 "Unable to connect" when the target is down.
        500 if reason.to_ascii_lowercase().contains("connect") => {
            Err(ProxyError::TargetUnreachable {
                proxy: pname,
                target,
                status,
                reason,
            })
        }
        _ => Err(ProxyError::Refused {
            proxy: pname,
            target,
            status,
            reason,
        }),
    }
}

/// Server text made safe for a terminal and short.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// `net.<endpoint>.proxy` fail for a tunnel that could not be opened.
pub fn tunnel_failure_finding(
    endpoint_id: &str,
    host: &str,
    port: u16,
    err: &ProxyError,
    profile: &Profile,
) -> Finding {
    let windows = exceptions_for(profile, &[host.to_string()]).join(";");
    let target = format!("{host}:{port}");
    let (key, args): (&str, Vec<(&str, String)>) = match err {
        ProxyError::Unreachable { proxy, .. }
        | ProxyError::Timeout { proxy, .. }
        | ProxyError::BadResponse { proxy, .. } => {
            ("proxy.unreachable", vec![("proxy", proxy.clone())])
        }
        // Credentials in a proxy URL only work for Basic; NTLM and Negotiate (Kerberos) are
        // the Windows sign-in and cannot be written there.
        ProxyError::AuthRequired { proxy, scheme, .. } => (
            if scheme.to_ascii_lowercase().contains("basic") {
                "proxy.auth"
            } else {
                "proxy.auth_integrated"
            },
            vec![("proxy", proxy.clone()), ("scheme", scheme.clone())],
        ),
        ProxyError::Refused { proxy, status, .. } => (
            "proxy.refused",
            vec![("proxy", proxy.clone()), ("status", status.to_string())],
        ),
        ProxyError::TargetUnreachable { proxy, status, .. } => (
            "proxy.target_unreachable",
            vec![("proxy", proxy.clone()), ("status", status.to_string())],
        ),
    };
    let mut args = args;
    args.push(("windows", windows));
    args.push(("target", target.clone()));
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let kind = match err {
        ProxyError::Unreachable { .. } => "proxy_unreachable",
        ProxyError::Timeout { .. } => "proxy_timeout",
        ProxyError::BadResponse { .. } => "proxy_bad_response",
        ProxyError::AuthRequired { .. } => "proxy_auth_required",
        ProxyError::Refused { .. } => "proxy_refused",
        ProxyError::TargetUnreachable { .. } => "target_unreachable",
    };
    let msg = err.text();
    Finding::new(
        format!("net.{endpoint_id}.proxy"),
        Phase::Network,
        phrase("net.proxy_route_title", &[]),
        target,
    )
    .data(serde_json::json!({"route": "proxy", "error": kind}))
    .fail(fill(phrase("net.proxy_failed", &[]), &[("why", &msg)]))
    .section("1-3 (5)-(8)")
    .fix(crate::guide::fix(key, &args))
}

/// Steps 1–2 of an endpoint that goes through a proxy: the findings (`dns`, `proxy`, `tcp`) and
/// the tunnel, if one was opened.
pub struct Opened {
    pub findings: Vec<Finding>,
    pub stream: Option<crate::net::tcp::BoxStream>,
}

/// Open the endpoint's connection through `proxy`. The local name lookup is only informative:
/// the proxy resolves the name itself, so a lookup that fails here does not stop the probe.
pub async fn open_via(
    ctx: &crate::net::NetContext,
    t: &crate::net::Target,
    proxy: &Proxy,
) -> Opened {
    let host = t.url.host.as_str();
    let port = t.url.port;
    let mut findings = Vec::new();
    let dns_f = Finding::new(
        format!("net.{}.dns", t.id),
        Phase::Network,
        fill(phrase("net.step_dns", &[]), &[("endpoint", &t.title)]),
        host,
    );
    let start = std::time::Instant::now();
    let local = match &ctx.dns {
        Ok(d) => tokio::time::timeout_at(
            ctx.step_deadline(crate::net::DNS_TIMEOUT).into(),
            d.resolve(host),
        )
        .await
        .map_err(|_| "timeout".to_string())
        .and_then(|r| r.map_err(|e| e.code().to_string())),
        Err(e) => Err(e.code().to_string()),
    };
    let dns_f = dns_f.elapsed(start.elapsed());
    findings.push(match local {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            let joined = list.join(", ");
            dns_f
                .data(serde_json::json!({"addresses": list, "via_proxy": true}))
                .pass(phrase(
                    "net.dns_also_by_proxy",
                    &[
                        ("host", host),
                        ("joined", &joined),
                        ("proxy", &proxy.url.to_string()),
                    ],
                ))
        }
        Err(code) => dns_f
            .data(serde_json::json!({"error": code, "via_proxy": true}))
            .info(phrase(
                "net.dns_only_by_proxy",
                &[
                    ("host", host),
                    ("code", &code),
                    ("proxy", &proxy.url.to_string()),
                ],
            )),
    });
    let route = Route::Via(proxy.clone());
    let route_f = route_finding(
        &t.id,
        host,
        port,
        ctx.may_present(host),
        &route,
        &ctx.profile,
    );
    let tcp_f = Finding::new(
        format!("net.{}.tcp", t.id),
        Phase::Network,
        fill(phrase("net.step_tcp", &[]), &[("endpoint", &t.title)]),
        t.url.authority(),
    );
    let to = crate::net::TCP_TIMEOUT
        .min(
            ctx.deadline
                .saturating_duration_since(std::time::Instant::now()),
        )
        .max(Duration::from_millis(1));
    let start = std::time::Instant::now();
    match connect_tunnel(&proxy.url, host, port, to).await {
        Ok(stream) => {
            let elapsed = start.elapsed();
            findings.push(route_f);
            findings.push(
                tcp_f
                    .elapsed(elapsed)
                    .data(serde_json::json!({"proxy": proxy.url.to_string(), "tunnel": true}))
                    .pass(phrase(
                        "net.tunnel_opened",
                        &[
                            ("host", host),
                            ("port", &port.to_string()),
                            ("proxy", &proxy.url.to_string()),
                        ],
                    )),
            );
            Opened {
                findings,
                stream: Some(Box::new(stream)),
            }
        }
        Err(e) => {
            let proxy_id = format!("net.{}.proxy", t.id);
            findings.push(
                tunnel_failure_finding(&t.id, host, port, &e, &ctx.profile)
                    .elapsed(start.elapsed()),
            );
            findings.push(
                tcp_f
                    .fail(fill(
                        phrase("net.no_connection", &[]),
                        &[("why", &e.text())],
                    ))
                    .section("1-3 (5)-(8)")
                    .consequence_of(proxy_id),
            );
            Opened {
                findings,
                stream: None,
            }
        }
    }
}

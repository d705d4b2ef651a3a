//! The one connector: the bytes of every outgoing connection start here, on the route that
//! [`super::route`] decided — a direct TCP connection (DNS, then Happy Eyeballs over the
//! addresses) or an HTTP CONNECT tunnel through the proxy (which resolves the name itself).
//! TLS on top comes from the one configuration builder in [`super::tls`].

use super::dns::{Dns, DnsFailure};
use super::proxy::{ProxyError, Route};
use super::tcp::{self, Attempt, BoxStream};
use super::words::fill;
use crate::finding::Text;
use crate::guide::phrase;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why no connection was opened. [`OpenError::code`] is a stable machine code.
#[derive(Debug)]
pub enum OpenError {
    /// No resolver could be set up.
    NoResolver(DnsFailure),
    Dns(DnsFailure),
    /// Every address failed (each attempt's outcome).
    Tcp(Vec<Attempt>),
    Proxy(ProxyError),
}

impl OpenError {
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::NoResolver(_) => "dns_unavailable",
            OpenError::Dns(DnsFailure::Timeout) => "dns_timeout",
            OpenError::Dns(DnsFailure::NxDomain | DnsFailure::NoAddress) => "dns_no_such_name",
            OpenError::Dns(_) => "dns_failed",
            OpenError::Tcp(a)
                if a.iter()
                    .any(|a| a.result == Err(tcp::ConnectFailure::Refused)) =>
            {
                "tcp_refused"
            }
            OpenError::Tcp(_) => "tcp_failed",
            OpenError::Proxy(ProxyError::Timeout { .. }) => "proxy_timeout",
            OpenError::Proxy(ProxyError::AuthRequired { .. }) => "proxy_auth_required",
            OpenError::Proxy(ProxyError::Unreachable { .. }) => "proxy_unreachable",
            OpenError::Proxy(_) => "proxy_refused",
        }
    }

    /// One sentence for a finding.
    pub fn text(&self) -> Text {
        match self {
            OpenError::NoResolver(e) | OpenError::Dns(e) => {
                phrase("net.open_dns_failed", &[("code", e.code())])
            }
            OpenError::Tcp(att) => {
                let list: Vec<String> = att
                    .iter()
                    .map(|a| match &a.result {
                        Ok(_) => format!("{}: connected", a.addr),
                        Err(e) => format!("{}: {}", a.addr, e.code()),
                    })
                    .collect();
                phrase("net.open_tcp_failed", &[("list", &list.join(", "))])
            }
            OpenError::Proxy(e) => fill(phrase("net.proxy_failed", &[]), &[("why", &e.text())]),
        }
    }
}

/// An open byte stream and how it was reached.
pub struct Opened {
    pub stream: BoxStream,
    /// The address connected to (direct connections only).
    pub peer: Option<SocketAddr>,
    /// What every address did (direct connections only).
    pub attempts: Vec<Attempt>,
    pub via_proxy: bool,
}

/// Open a connection to `host:port` on `route`, finished by `deadline`; name lookup and the
/// TCP connection are each bounded by `step` as well.
pub async fn open(
    dns: &Result<Arc<Dns>, DnsFailure>,
    route: &Route,
    host: &str,
    port: u16,
    step: Duration,
    deadline: Instant,
) -> Result<Opened, OpenError> {
    let bound = |cap: Duration| {
        cap.min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1))
    };
    match route {
        Route::Via(p) => {
            tracing::debug!(%host, port, proxy = %p.url, "connect: CONNECT tunnel");
            let s = super::proxy::connect_tunnel(&p.url, host, port, bound(step))
                .await
                .map_err(OpenError::Proxy)?;
            Ok(Opened {
                stream: Box::new(s),
                peer: None,
                attempts: vec![],
                via_proxy: true,
            })
        }
        Route::Direct(_) => {
            // An IP address needs no resolver.
            let addrs = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    let dns = dns.as_ref().map_err(|e| OpenError::NoResolver(e.clone()))?;
                    tokio::time::timeout(bound(step), dns.resolve(host))
                        .await
                        .unwrap_or(Err(DnsFailure::Timeout))
                        .map_err(OpenError::Dns)?
                }
            };
            tracing::debug!(%host, port, addresses = addrs.len(), "connect: direct");
            let c = tcp::connect_direct(&addrs, port, bound(step))
                .await
                .map_err(OpenError::Tcp)?;
            Ok(Opened {
                stream: c.stream,
                peer: Some(c.peer),
                attempts: c.attempts,
                via_proxy: false,
            })
        }
    }
}

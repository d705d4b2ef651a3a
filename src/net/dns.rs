//! Name resolution: the system's resolver configuration by default, or one DNS server
//! chosen with `--resolver` (field engineers compare DNS servers this way).

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioResolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Which DNS servers answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverChoice {
    System,
    Server(SocketAddr),
}

impl ResolverChoice {
    /// Parse `--resolver IP[:PORT]` (IPv6 as `[::1]:53` or a bare `::1`); the error is the
    /// value that is neither (the caller words the message).
    pub fn parse(arg: Option<&str>) -> Result<ResolverChoice, String> {
        let Some(s) = arg.map(str::trim) else {
            return Ok(ResolverChoice::System);
        };
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(ResolverChoice::Server(sa));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ResolverChoice::Server(SocketAddr::new(ip, 53)));
        }
        Err(s.to_string())
    }

    pub fn describe(&self) -> String {
        match self {
            ResolverChoice::System => "system resolver".to_string(),
            ResolverChoice::Server(sa) => sa.to_string(),
        }
    }
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsFailure {
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists but has no address records.
    NoAddress,
    /// The server failed (SERVFAIL) or refused (REFUSED) — the response code is named, in
    /// lower case (`servfail`, `refused`, `rcode_9`); `error` for another failure of DNS.
    ServerError(String),
    /// No answer in time.
    Timeout,
    /// The resolver could not be set up or reached (no configuration, connection refused).
    Unavailable(String),
}

impl DnsFailure {
    pub fn code(&self) -> &'static str {
        match self {
            DnsFailure::NxDomain => "nxdomain",
            DnsFailure::NoAddress => "no_address",
            DnsFailure::ServerError(_) => "server_error",
            DnsFailure::Timeout => "timeout",
            DnsFailure::Unavailable(_) => "unavailable",
        }
    }
}

/// A resolver ready to answer.
pub struct Dns {
    resolver: TokioResolver,
    pub choice: ResolverChoice,
}

impl Dns {
    /// Build the resolver; `timeout` bounds each query.
    pub fn new(choice: ResolverChoice, timeout: Duration) -> Result<Dns, DnsFailure> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match &choice {
            ResolverChoice::System => TokioResolver::builder(provider).map_err(|e| {
                DnsFailure::Unavailable(format!("no system DNS configuration: {e}"))
            })?,
            ResolverChoice::Server(sa) => {
                let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
                for c in &mut ns.connections {
                    c.port = sa.port();
                }
                let mut b = TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                );
                // A chosen server is asked directly: the hosts file must not answer for it.
                b.options_mut().use_hosts_file = ResolveHosts::Never;
                b
            }
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 64;
        let resolver = builder
            .build()
            .map_err(|e| DnsFailure::Unavailable(e.to_string()))?;
        Ok(Dns { resolver, choice })
    }

    /// Addresses of `host` (IPv4 first, then IPv6). IP literals are returned as they are.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        match self.resolver.lookup_ip(host).await {
            Ok(l) => {
                let mut v: Vec<IpAddr> = l.iter().collect();
                v.sort_by_key(|ip| ip.is_ipv6());
                v.dedup();
                if v.is_empty() {
                    Err(DnsFailure::NoAddress)
                } else {
                    Ok(v)
                }
            }
            Err(e) => Err(classify(&e)),
        }
    }
}

/// A DNS response code as a machine word (RFC 1035 §4.1.1, RFC 6895), never the resolver
/// library's English description.
fn rcode(c: ResponseCode) -> String {
    match c {
        ResponseCode::FormErr => "formerr".into(),
        ResponseCode::ServFail => "servfail".into(),
        ResponseCode::NXDomain => "nxdomain".into(),
        ResponseCode::NotImp => "notimp".into(),
        ResponseCode::Refused => "refused".into(),
        other => format!("rcode_{}", u16::from(other)),
    }
}

fn classify(e: &NetError) -> DnsFailure {
    match e {
        NetError::Timeout => DnsFailure::Timeout,
        NetError::Dns(DnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => DnsFailure::NxDomain,
            ResponseCode::NoError => DnsFailure::NoAddress,
            other => DnsFailure::ServerError(rcode(other)),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => DnsFailure::ServerError(rcode(*code)),
        NetError::Dns(other) => {
            tracing::debug!(error = %other, "dns: failure");
            DnsFailure::ServerError("error".into())
        }
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => DnsFailure::Timeout,
        other => {
            let s = other.to_string();
            if s.contains("timed out") {
                DnsFailure::Timeout
            } else {
                DnsFailure::Unavailable(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_argument_forms() {
        assert_eq!(ResolverChoice::parse(None), Ok(ResolverChoice::System));
        assert_eq!(
            ResolverChoice::parse(Some("127.0.0.1:5353")),
            Ok(ResolverChoice::Server("127.0.0.1:5353".parse().unwrap()))
        );
        assert_eq!(
            ResolverChoice::parse(Some("192.0.2.1")),
            Ok(ResolverChoice::Server("192.0.2.1:53".parse().unwrap()))
        );
        assert_eq!(
            ResolverChoice::parse(Some("::1")),
            Ok(ResolverChoice::Server("[::1]:53".parse().unwrap()))
        );
        assert!(ResolverChoice::parse(Some("dns.example")).is_err());
    }

    #[tokio::test]
    async fn ip_literals_need_no_lookup() {
        let dns = Dns::new(
            ResolverChoice::Server("127.0.0.1:9".parse().unwrap()),
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(
            dns.resolve("::1").await.unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
    }
}

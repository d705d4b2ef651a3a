//! TLS interception: is the server chain seen through a proxy the server's own?

use super::exceptions_for;
use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::net::words::{fill, with_detail};
use crate::profile::Profile;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::time::Duration;

/// Names of the issuers of well-known intercepting proxies and security products.
const INTERCEPTORS: &[(&str, &str)] = &[
    ("mitmproxy", "mitmproxy"),
    ("fortinet", "Fortinet FortiGate"),
    ("fortigate", "Fortinet FortiGate"),
    ("zscaler", "Zscaler"),
    ("palo alto", "Palo Alto Networks"),
    ("netskope", "Netskope"),
    ("blue coat", "Blue Coat / Symantec"),
    ("bluecoat", "Blue Coat / Symantec"),
    ("sophos", "Sophos"),
    ("cisco umbrella", "Cisco Umbrella"),
    ("forcepoint", "Forcepoint"),
    ("websense", "Forcepoint"),
    ("checkpoint", "Check Point"),
    ("check point", "Check Point"),
    ("kaspersky", "Kaspersky"),
    ("eset ssl filter", "ESET"),
    ("avast", "Avast"),
    ("avg web", "AVG"),
    ("bitdefender", "Bitdefender"),
    ("trend micro", "Trend Micro"),
    ("charles proxy", "Charles Proxy"),
    ("fiddler", "Fiddler"),
    ("burp", "Burp Suite"),
];

/// What the chain seen through a proxy says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interception {
    /// The chain is the server's own (validates to the trust store and matches the direct one
    /// where that is known).
    None,
    Detected {
        /// The issuer of the leaf seen through the proxy (`CN=mitmproxy,O=mitmproxy`).
        issuer: String,
        /// The product, when its name is recognised.
        product: Option<&'static str>,
        /// Why: untrusted issuer, known product, or differs from the direct chain.
        reason: Text,
    },
}

fn issuer_of(der: &[u8]) -> Option<String> {
    use der::Decode;
    let c = x509_cert::Certificate::from_der(der).ok()?;
    Some(c.tbs_certificate().issuer().to_string())
}

/// Decide whether `chain` (leaf first) seen through a proxy for `host` is the server's own.
/// `roots` are the public roots plus any the user trusts; `direct` the chain seen without the
/// proxy, when it could be fetched.
pub fn detect_interception(
    chain: &[CertificateDer<'_>],
    host: &str,
    roots: &rustls::RootCertStore,
    direct: Option<&[CertificateDer<'_>]>,
) -> Interception {
    let Some(leaf) = chain.first() else {
        return Interception::None;
    };
    let issuer = issuer_of(leaf).unwrap_or_else(|| "?".into());
    let lower = issuer.to_ascii_lowercase();
    let product = INTERCEPTORS
        .iter()
        .find(|(k, _)| lower.contains(k))
        .map(|(_, p)| *p);
    if let Some(d) = direct.and_then(|d| d.first()) {
        if d.as_ref() != leaf.as_ref() {
            let direct_issuer = issuer_of(d).unwrap_or_default();
            if direct_issuer != issuer || product.is_some() {
                return Interception::Detected {
                    issuer,
                    product,
                    reason: phrase(
                        "net.intercept_differs",
                        &[("direct_issuer", &direct_issuer)],
                    ),
                };
            }
        }
    }
    if let Some(p) = product {
        return Interception::Detected {
            issuer,
            product: Some(p),
            reason: phrase("net.intercept_product", &[("product", p)]),
        };
    }
    let untrusted = match webpki::EndEntityCert::try_from(leaf) {
        Ok(ee) => {
            let anchors = &roots.roots;
            let r = ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                anchors,
                &chain[1..],
                UnixTime::now(),
                webpki::KeyUsage::server_auth(),
                None,
                None,
            );
            matches!(
                r,
                Err(webpki::Error::UnknownIssuer)
                    | Err(webpki::Error::InvalidSignatureForPublicKey)
                    | Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_))
            )
        }
        Err(_) => false,
    };
    // `host` is not checked against the leaf here: a wrong name is the TLS step's finding, and
    // proxies that intercept do mint certificates for the right name.
    let _ = host;
    if untrusted {
        return Interception::Detected {
            issuer,
            product: None,
            reason: phrase("net.intercept_untrusted", &[]),
        };
    }
    Interception::None
}

/// `net.<endpoint>.tls` fail when the connection is intercepted; `None` otherwise.
pub fn interception_finding(
    endpoint_id: &str,
    target: &str,
    host: &str,
    verdict: &Interception,
    profile: &Profile,
) -> Option<Finding> {
    let Interception::Detected {
        issuer,
        product,
        reason,
    } = verdict
    else {
        return None;
    };
    let windows = exceptions_for(profile, &[host.to_string()]).join(";");
    let who = product
        .map(str::to_string)
        .unwrap_or_else(|| issuer.clone());
    Some(
        Finding::new(
            format!("net.{endpoint_id}.tls"),
            Phase::Network,
            phrase("net.tls_title", &[]),
            target,
        )
        .data(serde_json::json!({"interception": true, "issuer": issuer, "product": product, "reason": reason.en}))
        .fail(fill(
            phrase("net.intercepted", &[("issuer", issuer)]),
            &[("reason", reason)],
        ))
        .section("1-3 (5)-(8)")
        .fix(crate::guide::fix(
            "proxy.interception",
            &[("issuer", &who), ("windows", &windows)],
        )),
    )
}

/// The interception verdict from what the endpoint's own TLS step saw (issuer names and
/// rustls's verification error), without another connection.
pub fn interception_from_facts(facts: &crate::net::tls::TlsFacts) -> Interception {
    let Some(leaf) = facts.server_chain.first() else {
        return Interception::None;
    };
    let issuer = leaf.issuer.clone();
    let lower = issuer.to_ascii_lowercase();
    let product = INTERCEPTORS
        .iter()
        .find(|(k, _)| lower.contains(k))
        .map(|(_, p)| *p);
    if let Some(p) = product {
        return Interception::Detected {
            issuer,
            product: Some(p),
            reason: phrase("net.intercept_product", &[("product", p)]),
        };
    }
    let err = facts
        .server_verify_error
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace([' ', '_'], "");
    if err.contains("unknownissuer") || err.contains("badsignature") {
        return Interception::Detected {
            issuer,
            product: None,
            reason: phrase("net.intercept_untrusted", &[]),
        };
    }
    Interception::None
}

/// The server chain (leaf first) over an open stream: a handshake without client certificate,
/// no data sent. Used to compare the chain through a proxy with the expected one.
pub async fn peek_chain<S>(
    stream: S,
    sni: &str,
    timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>, Text>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let spec = crate::net::tls::ConfigSpec {
        verify: crate::net::tls::Verify::AcceptAny,
        client: None,
        versions: None,
        alpn: vec![],
    };
    let (cfg, _) = crate::net::tls::client_config(&spec)
        .map_err(|e| with_detail(phrase("net.peek_no_config", &[]), &e.to_string()))?;
    let name = ServerName::try_from(sni.to_string())
        .map_err(|e| with_detail(phrase("net.peek_bad_name", &[]), &e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let tls = tokio::time::timeout(timeout, connector.connect(name, stream))
        .await
        .map_err(|_| {
            phrase(
                "net.peek_timeout",
                &[("timeout", &crate::text::human::duration(timeout))],
            )
        })?
        .map_err(|e| {
            let f = crate::net::tls::TlsFailure::from_io(&e);
            with_detail(
                phrase("net.peek_failed", &[("code", &f.code())]),
                &e.to_string(),
            )
        })?;
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|x| x.clone().into_owned()).collect())
        .unwrap_or_default();
    Ok(chain)
}

/// How long the direct look at a server may take. Behind a firewall that drops direct
/// traffic this is what the comparison costs, so it is short; it runs beside the proxied
/// connection, so where the direct path works it costs nothing.
pub const DIRECT_BUDGET: Duration = Duration::from_secs(3);

/// The server's certificate seen through the proxy against the one seen directly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DirectComparison {
    /// The same leaf certificate on both paths: the proxy only relays.
    Same,
    /// Another certificate from the same issuer (servers behind a balancer may hold several).
    SameIssuer { direct_sha256: String },
    /// A certificate from another issuer: the proxy presents its own.
    Different { direct_issuer: String },
    /// No direct connection could be made (the usual case behind a firewall).
    Unavailable {
        #[serde(serialize_with = "english")]
        reason: Text,
    },
}

impl DirectComparison {
    /// A clause for the TLS step's sentence.
    pub fn clause(&self) -> Text {
        match self {
            DirectComparison::Same => phrase("net.direct_same", &[]),
            DirectComparison::SameIssuer { .. } => phrase("net.direct_same_issuer", &[]),
            DirectComparison::Different { direct_issuer } => phrase(
                "net.direct_other_issuer",
                &[("direct_issuer", direct_issuer)],
            ),
            DirectComparison::Unavailable { reason } => fill(
                phrase("net.direct_not_compared", &[]),
                &[("reason", reason)],
            ),
        }
    }
}

/// A text in JSON data: its English form (data is for programs, as the codes are).
fn english<S: serde::Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.en)
}

/// The verdict once the direct view is known: a leaf from another issuer than the one the
/// server shows directly is the proxy's own certificate, even when it chains to a root the
/// machine trusts (a corporate inspection CA installed in the trust store).
pub fn compare_with_direct(
    facts: &crate::net::tls::TlsFacts,
    direct: &Result<crate::net::tls::CertInfo, Text>,
) -> (Interception, DirectComparison) {
    let d = match direct {
        Ok(d) => d,
        Err(reason) => {
            return (
                Interception::None,
                DirectComparison::Unavailable {
                    reason: reason.clone(),
                },
            )
        }
    };
    let Some(p) = facts.server_chain.first() else {
        return (
            Interception::None,
            DirectComparison::Unavailable {
                reason: phrase("net.direct_none_through_proxy", &[]),
            },
        );
    };
    if p.sha256 == d.sha256 {
        return (Interception::None, DirectComparison::Same);
    }
    if p.issuer == d.issuer {
        return (
            Interception::None,
            DirectComparison::SameIssuer {
                direct_sha256: d.sha256.clone(),
            },
        );
    }
    (
        Interception::Detected {
            issuer: p.issuer.clone(),
            product: None,
            reason: phrase("net.intercept_differs", &[("direct_issuer", &d.issuer)]),
        },
        DirectComparison::Different {
            direct_issuer: d.issuer.clone(),
        },
    )
}

/// A look at the server's leaf certificate without the proxy (no client certificate, no
/// data), started beside the proxied connection and aborted when it is no longer needed.
pub struct DirectLook(tokio::task::JoinHandle<Result<crate::net::tls::CertInfo, Text>>);

impl DirectLook {
    pub fn start(
        dns: Result<std::sync::Arc<crate::net::dns::Dns>, crate::net::dns::DnsFailure>,
        host: &str,
        port: u16,
        budget: Duration,
    ) -> DirectLook {
        let host = host.to_string();
        DirectLook(tokio::spawn(async move {
            let look = async {
                // Direct on purpose: this look is the comparison with the proxied view.
                let route = crate::net::proxy::Route::Direct(crate::net::proxy::Direct::NoProxy);
                let deadline = std::time::Instant::now() + budget;
                let c = crate::net::connect::open(&dns, &route, &host, port, budget, deadline)
                    .await
                    .map_err(|e| match e {
                        crate::net::connect::OpenError::NoResolver(e) => {
                            phrase("net.direct_no_resolver", &[("code", e.code())])
                        }
                        crate::net::connect::OpenError::Dns(e) => {
                            phrase("net.direct_no_name", &[("code", e.code())])
                        }
                        _ => phrase("net.direct_no_connection", &[]),
                    })?;
                let chain = peek_chain(c.stream, &host, budget).await?;
                let leaf = chain
                    .first()
                    .ok_or_else(|| phrase("net.direct_no_certificate", &[]))?;
                crate::net::tls::CertInfo::parse(leaf)
                    .ok_or_else(|| phrase("net.direct_unparsable", &[]))
            };
            tokio::time::timeout(budget, look)
                .await
                .unwrap_or_else(|_| {
                    Err(phrase(
                        "net.direct_timeout",
                        &[("timeout", &crate::text::human::duration(budget))],
                    ))
                })
        }))
    }

    pub async fn result(mut self) -> Result<crate::net::tls::CertInfo, Text> {
        (&mut self.0)
            .await
            .unwrap_or_else(|_| Err(phrase("net.direct_unfinished", &[])))
    }
}

impl Drop for DirectLook {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::{CertInfo, TlsFacts};

    fn info(name: &str) -> CertInfo {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name);
        let der = crate::cert::source::read_certs(&path)
            .expect("fixture")
            .remove(0);
        CertInfo::parse(&der).expect("parses")
    }

    fn seen(name: &str) -> TlsFacts {
        TlsFacts {
            server_chain: vec![info(name)],
            ..Default::default()
        }
    }

    #[test]
    fn the_same_leaf_directly_is_no_interception() {
        let (v, c) = compare_with_direct(&seen("server.pem"), &Ok(info("server.pem")));
        assert_eq!(v, Interception::None);
        assert_eq!(c, DirectComparison::Same);
        assert!(c.clause().en.contains("same certificate"));
    }

    #[test]
    fn another_issuer_through_the_proxy_is_interception() {
        // The proxied leaf is for the right name and may chain to a root the machine
        // trusts; only the direct view shows it is not the server's.
        let (v, c) = compare_with_direct(&seen("server-unknown.pem"), &Ok(info("server.pem")));
        match v {
            Interception::Detected {
                issuer,
                product,
                reason,
            } => {
                assert!(issuer.contains("Unknown Test CA"), "{issuer}");
                assert_eq!(product, None);
                assert!(
                    reason.en.contains("certprobe Test Public Root"),
                    "{}",
                    reason.en
                );
            }
            other => panic!("not detected: {other:?}"),
        }
        assert!(matches!(c, DirectComparison::Different { .. }));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["result"], "different");
    }

    #[test]
    fn another_leaf_from_the_same_issuer_is_not_interception() {
        let (v, c) = compare_with_direct(&seen("client-noeku.pem"), &Ok(info("client.pem")));
        assert_eq!(v, Interception::None);
        assert!(matches!(c, DirectComparison::SameIssuer { .. }), "{c:?}");
    }

    #[test]
    fn no_direct_view_leaves_the_verdict_to_the_proxied_chain() {
        let (v, c) = compare_with_direct(
            &seen("server.pem"),
            &Err(phrase("net.direct_no_connection", &[])),
        );
        assert_eq!(v, Interception::None);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"result": "unavailable", "reason": "no direct connection to the server"})
        );
        assert!(c.clause().en.contains("not compared"));
        let (v, _) = compare_with_direct(&TlsFacts::default(), &Ok(info("server.pem")));
        assert_eq!(v, Interception::None);
    }

    #[tokio::test]
    async fn the_direct_look_reports_a_closed_port() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dns = crate::net::dns::Dns::new(
            crate::net::dns::ResolverChoice::System,
            Duration::from_millis(200),
        )
        .map(std::sync::Arc::new);
        let look = DirectLook::start(dns, "127.0.0.1", closed, Duration::from_secs(2));
        assert_eq!(
            look.result().await.unwrap_err(),
            phrase("net.direct_no_connection", &[])
        );
    }
}

//! From what a failed handshake showed to a cause, a guide section and a fix.

use super::tls::{ClientFacts, TlsFacts, TlsFailure};
use super::words::{fill, with_detail};
use crate::finding::Text;
use crate::guide::{fix, phrase};
use rustls::{AlertDescription as A, CertificateError as CE, Error as E};

/// One diagnosis: what happened, where the guide explains it, what to do.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub code: String,
    pub detail: Text,
    pub section: String,
    pub fix: Text,
}

/// What the client side did in this handshake.
pub struct ClientSide<'a> {
    pub client: &'a ClientFacts,
    /// A certificate exists but the profile does not allow presenting it to this host.
    pub withheld: bool,
    /// The endpoint's guide section (for failures not about the certificate).
    pub section: &'a str,
    pub host: &'a str,
}

/// How the server said it rejected the client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVerdict {
    /// nginx: HTTP 400 "No required SSL certificate was sent".
    NoCertificate,
    /// nginx: HTTP 400 "The SSL certificate error".
    CertificateError,
}

/// A product that decrypts HTTPS, recognised by the CA name on the server's certificate
/// (security software on this computer such as "ESET SSL Filter CA", or a proxy's): with or
/// without a proxy set, the certificate is not the server's own.
fn intercepting_product(facts: &TlsFacts) -> Option<(&'static str, String)> {
    match super::proxy::interception_from_facts(facts) {
        super::proxy::Interception::Detected {
            product: Some(p),
            issuer,
            ..
        } => Some((p, issuer)),
        _ => None,
    }
}

fn intercepted(code: &str, product: &str, issuer: &str) -> Diagnosis {
    Diagnosis {
        code: code.into(),
        detail: crate::guide::phrase(
            "tls.intercepted",
            &[("issuer", issuer), ("product", product)],
        ),
        section: "1-3 (5)-(8)".into(),
        fix: fix("net.tls_intercepted", &[("product", product)]),
    }
}

/// Why the server might have refused a certificate that was sent, worked out from our side.
fn rejected_certificate(
    code: &str,
    facts: &TlsFacts,
    cs: &ClientSide<'_>,
    server_said: Text,
) -> Diagnosis {
    if let Some((product, issuer)) = intercepting_product(facts) {
        return intercepted(code, product, &issuer);
    }
    let leaf = cs.client.leaf.as_ref();
    if let Some(l) = leaf.filter(|l| l.expired) {
        return Diagnosis {
            code: code.into(),
            detail: fill(
                phrase("net.said_client_expired", &[("date", &l.not_after)]),
                &[("said", &server_said)],
            ),
            section: "2-1 (6)".into(),
            fix: fix("net.tls_client_expired", &[]),
        };
    }
    if let Some(d) = wrong_issuer(code, facts, cs, &server_said) {
        return d;
    }
    if leaf.is_some() && cs.client.intermediates.is_empty() {
        return Diagnosis {
            code: code.into(),
            detail: fill(
                phrase("net.said_chain_incomplete", &[]),
                &[("said", &server_said)],
            ),
            section: "2-1 (7)".into(),
            fix: fix("net.tls_chain_incomplete", &[]),
        };
    }
    Diagnosis {
        code: code.into(),
        detail: fill(
            phrase("net.said_cert_rejected", &[]),
            &[("said", &server_said)],
        ),
        section: "2-1 (6)".into(),
        fix: fix("net.tls_cert_rejected", &[]),
    }
}

/// "The server accepts certificates issued by X; yours is issued by Y."
fn wrong_issuer(
    code: &str,
    facts: &TlsFacts,
    cs: &ClientSide<'_>,
    server_said: &Text,
) -> Option<Diagnosis> {
    let leaf = cs.client.leaf.as_ref()?;
    if facts.acceptable_client_cas.is_empty()
        || cs.client.matches_hints(
            &facts.acceptable_client_cas_der,
            &facts.acceptable_client_cas,
        )
    {
        return None;
    }
    let accepted = facts.acceptable_client_cas.join("; ");
    let yours = leaf.issuer.clone();
    Some(Diagnosis {
        code: code.into(),
        detail: fill(
            phrase(
                "net.said_wrong_issuer",
                &[("accepted", &accepted), ("yours", &yours)],
            ),
            &[("said", server_said)],
        ),
        section: "2-1 (6)".into(),
        fix: fix(
            "net.tls_wrong_issuer",
            &[("accepted", &accepted), ("yours", &yours)],
        ),
    })
}

fn no_certificate(
    code: &str,
    facts: &TlsFacts,
    cs: &ClientSide<'_>,
    server_said: Text,
) -> Diagnosis {
    if let Some((product, issuer)) = intercepting_product(facts) {
        return intercepted(code, product, &issuer);
    }
    if cs.client.leaf.is_some() && !cs.withheld && !facts.client_cert_requested {
        // A certificate was given and would have been sent, but whoever answered never asked
        // for one: not the service's own TLS server.
        return Diagnosis {
            code: code.into(),
            detail: fill(
                phrase("net.said_then", &[]),
                &[
                    ("said", &server_said),
                    ("then", &phrase("tls.cert_not_requested", &[])),
                ],
            ),
            section: "1-3 (5)-(8)".into(),
            fix: fix("net.tls_cert_not_requested", &[]),
        };
    }
    let why = if cs.withheld {
        phrase("net.cert_withheld", &[("host", cs.host)])
    } else {
        phrase("net.cert_not_given", &[])
    };
    Diagnosis {
        code: code.into(),
        detail: fill(
            phrase("net.said_no_cert_sent", &[]),
            &[("said", &server_said), ("why", &why)],
        ),
        section: "2-1 (6)".into(),
        fix: fix("net.tls_no_client_cert", &[]),
    }
}

/// The server's answer at HTTP level that really is a TLS verdict (nginx's 400 pages).
pub fn server_verdict(status: u16, body_text: &str) -> Option<ServerVerdict> {
    if status != 400 {
        return None;
    }
    if body_text.contains("No required SSL certificate was sent") {
        Some(ServerVerdict::NoCertificate)
    } else if body_text.contains("The SSL certificate error") {
        Some(ServerVerdict::CertificateError)
    } else {
        None
    }
}

pub fn diagnose_verdict(v: ServerVerdict, facts: &TlsFacts, cs: &ClientSide<'_>) -> Diagnosis {
    match v {
        ServerVerdict::NoCertificate => no_certificate(
            "http_400_no_certificate",
            facts,
            cs,
            phrase(
                "net.said_http_400",
                &[("message", "No required SSL certificate was sent")],
            ),
        ),
        ServerVerdict::CertificateError => {
            if !facts.client_cert_sent {
                return no_certificate(
                    "http_400_certificate_error",
                    facts,
                    cs,
                    phrase(
                        "net.said_http_400",
                        &[("message", "The SSL certificate error")],
                    ),
                );
            }
            rejected_certificate(
                "http_400_certificate_error",
                facts,
                cs,
                phrase(
                    "net.said_http_400",
                    &[("message", "The SSL certificate error")],
                ),
            )
        }
    }
}

/// A failed handshake (or a TLS alert at the first read) explained.
pub fn diagnose(
    failure: &TlsFailure,
    facts: &TlsFacts,
    cs: &ClientSide<'_>,
    timeout: std::time::Duration,
) -> Diagnosis {
    let code = failure.code();
    let generic = |detail: Text, fix_key: &str| Diagnosis {
        code: code.clone(),
        detail,
        section: cs.section.to_string(),
        fix: fix(fix_key, &[]),
    };
    match failure {
        TlsFailure::Timeout => generic(
            phrase(
                "net.tls_timeout",
                &[("timeout", &crate::text::human::duration(timeout))],
            ),
            "net.tls_timeout",
        ),
        TlsFailure::BadName(e) => generic(
            with_detail(phrase("net.tls_bad_name", &[("host", cs.host)]), e),
            "net.tls_other",
        ),
        TlsFailure::Io(why) => {
            let said = why.clone();
            if facts.client_cert_requested && !facts.client_cert_sent {
                return no_certificate(&code, facts, cs, said);
            }
            if facts.client_cert_requested && facts.version.as_deref() == Some("TLS 1.3") {
                return rejected_certificate(&code, facts, cs, said);
            }
            generic(
                fill(phrase("net.tls_broke_off", &[]), &[("why", why)]),
                "net.tls_other",
            )
        }
        TlsFailure::Tls(err) => diagnose_tls(&code, err, facts, cs),
    }
}

fn diagnose_tls(code: &str, err: &E, facts: &TlsFacts, cs: &ClientSide<'_>) -> Diagnosis {
    let alert = |name: &str| phrase("net.tls_alert", &[("name", name)]);
    let alert_then = |name: &str, then: Text| {
        fill(
            phrase("net.said_then", &[]),
            &[("said", &alert(name)), ("then", &then)],
        )
    };
    let generic = |detail: Text, fix_key: &str| Diagnosis {
        code: code.into(),
        detail,
        section: cs.section.to_string(),
        fix: fix(fix_key, &[]),
    };
    match err {
        E::InvalidCertificate(ce) => diagnose_server_cert(code, ce, facts, cs),
        E::AlertReceived(a) => {
            let name = super::tls::snake(&format!("{a:?}"));
            match a {
                A::CertificateRequired => no_certificate(code, facts, cs, alert(&name)),
                A::HandshakeFailure if facts.client_cert_requested && !facts.client_cert_sent => {
                    no_certificate(code, facts, cs, alert(&name))
                }
                A::HandshakeFailure => generic(
                    alert_then(&name, phrase("net.tls_nothing_in_common", &[])),
                    "net.tls_handshake_failure",
                ),
                A::ProtocolVersion => Diagnosis {
                    code: code.into(),
                    detail: alert_then(&name, phrase("net.tls_no_modern_version", &[])),
                    section: "2-1 (4)".into(),
                    fix: fix("net.tls_protocol_version", &[]),
                },
                A::CertificateExpired => Diagnosis {
                    code: code.into(),
                    detail: alert_then(&name, phrase("net.tls_server_says_expired", &[])),
                    section: "2-1 (6)".into(),
                    fix: fix("net.tls_client_expired", &[]),
                },
                A::CertificateRevoked => Diagnosis {
                    code: code.into(),
                    detail: alert_then(&name, phrase("net.tls_server_says_revoked", &[])),
                    section: "2-1 (6)".into(),
                    fix: fix("net.tls_client_revoked", &[]),
                },
                A::UnknownCA
                | A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateUnknown
                | A::AccessDenied
                | A::DecryptError => {
                    if !facts.client_cert_sent {
                        return no_certificate(code, facts, cs, alert(&name));
                    }
                    rejected_certificate(code, facts, cs, alert(&name))
                }
                _ => generic(
                    fill(
                        phrase("net.tls_alert_in_handshake", &[]),
                        &[("alert", &alert(&name))],
                    ),
                    "net.tls_other",
                ),
            }
        }
        E::PeerIncompatible(p) => {
            let s = format!("{p:?}");
            if s.contains("Tls12") || s.contains("Version") {
                Diagnosis {
                    code: code.into(),
                    detail: with_detail(phrase("net.tls_server_no_modern", &[]), &s),
                    section: "2-1 (4)".into(),
                    fix: fix("net.tls_protocol_version", &[]),
                }
            } else {
                generic(
                    with_detail(phrase("net.tls_no_shared_parameters", &[]), &s),
                    "net.tls_handshake_failure",
                )
            }
        }
        other => generic(
            with_detail(
                phrase(
                    "net.peek_failed",
                    &[("code", super::tls::tls_error_code(other))],
                ),
                &other.to_string(),
            ),
            "net.tls_other",
        ),
    }
}

fn diagnose_server_cert(code: &str, ce: &CE, facts: &TlsFacts, cs: &ClientSide<'_>) -> Diagnosis {
    if let Some((product, issuer)) = intercepting_product(facts) {
        return intercepted(code, product, &issuer);
    }
    let leaf = facts.server_chain.first();
    let subject = leaf
        .map(|c| c.subject_name().to_string())
        .unwrap_or_else(|| "?".into());
    let top_issuer = facts
        .server_chain
        .last()
        .map(|c| c.issuer.clone())
        .unwrap_or_else(|| "?".into());
    match ce {
        CE::Expired | CE::ExpiredContext { .. } => Diagnosis {
            code: code.into(),
            detail: phrase(
                "net.server_cert_expired",
                &[
                    ("subject", &subject),
                    ("date", leaf.map(|l| l.not_after.as_str()).unwrap_or("?")),
                ],
            ),
            section: cs.section.into(),
            fix: fix("net.tls_server_expired", &[]),
        },
        CE::NotValidYet | CE::NotValidYetContext { .. } => Diagnosis {
            code: code.into(),
            detail: phrase("net.server_cert_not_yet_valid", &[("subject", &subject)]),
            section: "2-1".into(),
            fix: fix("net.clock_skew", &[("skew", "?")]),
        },
        CE::NotValidForName | CE::NotValidForNameContext { .. } => {
            // The chain validated (names are checked after it): a genuine certificate of
            // another site, so the name led to another server — not an interception.
            let names = subject.clone();
            let issuer = leaf
                .map(|l| l.issuer_name().to_string())
                .unwrap_or_else(|| "?".into());
            Diagnosis {
                code: code.into(),
                detail: crate::guide::phrase(
                    "tls.server_other_name",
                    &[("names", &names), ("issuer", &issuer), ("host", cs.host)],
                ),
                section: "2-1".into(),
                fix: fix(
                    "net.tls_server_other_name",
                    &[("host", cs.host), ("names", &names)],
                ),
            }
        }
        CE::UnknownIssuer if server_chain_incomplete(facts) => {
            let issuer = leaf
                .map(|l| l.issuer_name().to_string())
                .unwrap_or_else(|| "?".into());
            Diagnosis {
                code: code.into(),
                detail: crate::guide::phrase(
                    "tls.server_chain_incomplete",
                    &[("subject", &subject), ("issuer", &issuer)],
                ),
                section: "2-4".into(),
                fix: fix("net.tls_server_chain_incomplete", &[("issuer", &issuer)]),
            }
        }
        CE::UnknownIssuer
        | CE::BadSignature
        | CE::InvalidPurpose
        | CE::InvalidPurposeContext { .. }
        | CE::ApplicationVerificationFailure => Diagnosis {
            code: code.into(),
            detail: phrase(
                "net.server_cert_untrusted",
                &[("subject", &subject), ("issuer", &top_issuer)],
            ),
            section: "1-3 (5)-(8)".into(),
            fix: fix("net.tls_server_untrusted", &[("issuer", &top_issuer)]),
        },
        other => Diagnosis {
            code: code.into(),
            detail: phrase(
                "net.server_cert_rejected",
                &[
                    ("subject", &subject),
                    ("code", super::tls::certificate_error_code(other)),
                ],
            ),
            section: cs.section.into(),
            fix: fix("net.tls_other", &[]),
        },
    }
}

/// The server sent one certificate, not self-issued, that says where its issuer is published
/// (AIA caIssuers, as public CAs write it): its intermediate is missing — a server set-up
/// fault. Interception certificates are made on the fly and carry no such address.
fn server_chain_incomplete(facts: &TlsFacts) -> bool {
    matches!(facts.server_chain.as_slice(),
        [leaf] if leaf.issuer_der != leaf.subject_der && !leaf.ca_issuers.is_empty())
}

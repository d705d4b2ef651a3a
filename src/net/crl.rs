//! Revocation of the client certificate: its CRL, fetched from the certificate's CRL
//! distribution point (size- and time-capped) and checked with rustls-webpki.

use super::fetch;
use super::words::{fill, with_detail};
use super::NetContext;
use crate::finding::{Finding, Phase, Text};
use crate::guide::{fix, phrase};
use der::Decode;
use rustls::pki_types::{CertificateDer, UnixTime};
use std::time::Instant;

/// A CRL larger than this is not read.
pub const CRL_CAP: usize = 8 * 1024 * 1024;

/// The URLs of the CRL distribution points of a certificate (http and https only).
pub fn crl_urls(der: &[u8]) -> Vec<String> {
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return vec![];
    };
    let Ok(Some((_, dps))) = cert
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::CrlDistributionPoints>()
    else {
        return vec![];
    };
    let mut out = Vec::new();
    for dp in dps.0 {
        if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
            for n in names {
                if let GeneralName::UniformResourceIdentifier(u) = n {
                    let s = u.to_string();
                    let lower = s.to_ascii_lowercase();
                    if lower.starts_with("http://") || lower.starts_with("https://") {
                        out.push(s);
                    }
                }
            }
        }
    }
    out
}

/// What the CRL says about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlVerdict {
    Good,
    Revoked,
    /// Listed, but the CRL's signature could not be checked (its issuer does not chain to a
    /// trusted root here).
    RevokedUnverified,
    /// Not listed, but the CRL's signature could not be checked.
    GoodUnverified(String),
    /// Not a CRL, or nothing to check it against: why, in the catalogue's words.
    Unreadable(Text),
}

/// Check `chain` (leaf first) against a CRL (DER or PEM).
pub fn check(
    chain: &[CertificateDer<'_>],
    roots: &rustls::RootCertStore,
    crl: &[u8],
) -> CrlVerdict {
    use rustls::pki_types::pem::PemObject;
    let der: Vec<u8> = if crl.starts_with(b"-----") {
        match rustls::pki_types::CertificateRevocationListDer::from_pem_slice(crl) {
            Ok(d) => d.as_ref().to_vec(),
            Err(e) => {
                return CrlVerdict::Unreadable(with_detail(
                    phrase("net.crl_not_a_crl", &[]),
                    &e.to_string(),
                ))
            }
        }
    } else {
        crl.to_vec()
    };
    let borrowed = match webpki::BorrowedCertRevocationList::from_der(&der) {
        Ok(c) => c,
        Err(e) => {
            return CrlVerdict::Unreadable(with_detail(
                phrase("net.crl_not_a_crl", &[]),
                &e.to_string(),
            ))
        }
    };
    let Some(leaf) = chain.first() else {
        return CrlVerdict::Unreadable(phrase("net.crl_no_certificate", &[]));
    };
    let serial = x509_cert::Certificate::from_der(leaf)
        .map(|c| c.tbs_certificate().serial_number().as_bytes().to_vec())
        .unwrap_or_default();
    let crl = webpki::CertRevocationList::from(borrowed);
    let listed = matches!(crl.find_serial(&serial), Ok(Some(_)));
    let crls = [&crl];
    let Ok(builder) = webpki::RevocationOptionsBuilder::new(&crls) else {
        return CrlVerdict::Unreadable(phrase("net.crl_none", &[]));
    };
    let opts = builder
        .with_depth(webpki::RevocationCheckDepth::EndEntity)
        .with_status_policy(webpki::UnknownStatusPolicy::Deny)
        .with_expiration_policy(webpki::ExpirationPolicy::Ignore)
        .build();
    let Ok(ee) = webpki::EndEntityCert::try_from(leaf) else {
        return CrlVerdict::Unreadable(phrase("net.crl_cert_unparsable", &[]));
    };
    let anchors = &roots.roots;
    let r = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        anchors,
        &chain[1..],
        UnixTime::now(),
        webpki::KeyUsage::client_auth(),
        Some(opts),
        None,
    );
    match r {
        Ok(_) => CrlVerdict::Good,
        Err(webpki::Error::CertRevoked) => CrlVerdict::Revoked,
        Err(e) if listed => {
            let _ = e;
            CrlVerdict::RevokedUnverified
        }
        Err(e) => CrlVerdict::GoodUnverified(format!("{e:?}")),
    }
}

/// `net.revocation`: is the client certificate revoked? `None` without a client certificate.
pub async fn revocation_finding(ctx: &NetContext) -> Option<Finding> {
    let key = ctx.client.as_ref()?;
    let leaf = key.cert.first()?;
    let urls = crl_urls(leaf);
    let target = urls
        .first()
        .cloned()
        .unwrap_or_else(|| "client certificate".into());
    let f = Finding::new(
        "net.revocation",
        Phase::Network,
        phrase("net.crl_title", &[]),
        target.clone(),
    );
    let Some(url) = urls.first() else {
        return Some(f.info(phrase("net.crl_no_point", &[])));
    };
    let start = Instant::now();
    let resp = fetch::get(ctx, url, CRL_CAP).await;
    let f = f.elapsed(start.elapsed());
    let base = f.clone();
    let unreachable = |code: &str, why: Text| {
        base.clone()
            .warn(fill(phrase("net.crl_unfetched", &[]), &[("why", &why)]))
            .section("2-1 (6)")
            .fix(fix("net.crl_unreachable", &[("url", url)]))
            .data(serde_json::json!({"url": url, "result": "fetch_failed", "error": code}))
    };
    let resp = match resp {
        Ok(r) if r.status == 200 && !r.truncated => r,
        Ok(r) if r.truncated => {
            return Some(unreachable("too_large", phrase("net.crl_too_large", &[])))
        }
        Ok(r) => {
            return Some(unreachable(
                "http_status",
                Text::same(format!("HTTP {}", r.status)),
            ))
        }
        Err(e) => return Some(unreachable(e.code(), e.text())),
    };
    let chain: Vec<CertificateDer<'_>> = key.cert.to_vec();
    let verdict = check(&chain, &ctx.roots, &resp.body);
    let result = match &verdict {
        CrlVerdict::Unreadable(_) => "unparsable",
        _ => "checked",
    };
    let data = serde_json::json!({"url": url, "crl_bytes": resp.body.len(), "result": result});
    let f = f.data(data);
    Some(match verdict {
        CrlVerdict::Good => f.pass(phrase("net.crl_good", &[])),
        CrlVerdict::GoodUnverified(why) => {
            f.pass(with_detail(phrase("net.crl_good_unverified", &[]), &why))
        }
        CrlVerdict::Revoked | CrlVerdict::RevokedUnverified => f
            .fail(phrase("net.crl_revoked", &[]))
            .section("2-1 (6)")
            .fix(fix("net.tls_client_revoked", &[])),
        // Fetched, but not a CRL: a different problem from a download that failed.
        CrlVerdict::Unreadable(why) => f
            .warn(fill(
                phrase(
                    "net.crl_unreadable",
                    &[("bytes", &resp.body.len().to_string())],
                ),
                &[("why", &why)],
            ))
            .section("2-1 (6)")
            .fix(fix("net.crl_unparsable", &[("url", url)])),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
        ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
        RevokedCertParams, SerialNumber,
    };

    /// A CA, a client certificate under it that names `crl_url`, and a CRL signed by the CA
    /// (revoking the client certificate when `revoke`). Returns (ca DER, leaf DER, CRL DER).
    pub(crate) fn pki(crl_url: &str, revoke: bool) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "CRL Test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "S47000099");
        leaf.serial_number = Some(SerialNumber::from(0x1234u64));
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        leaf.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![crl_url.to_string()],
        }];
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let crl = CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(7),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: if revoke {
                vec![RevokedCertParams {
                    serial_number: SerialNumber::from(0x1234u64),
                    revocation_time: now - time::Duration::minutes(30),
                    reason_code: None,
                    invalidity_date: None,
                }]
            } else {
                vec![]
            },
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap();
        (
            ca_cert.der().to_vec(),
            leaf_cert.der().to_vec(),
            crl.der().to_vec(),
        )
    }

    #[test]
    fn revoked_and_good_certificates_are_told_apart() {
        for revoke in [true, false] {
            let (ca, leaf, crl) = pki("http://127.0.0.1:9/ca.crl", revoke);
            assert_eq!(
                crl_urls(&leaf),
                vec!["http://127.0.0.1:9/ca.crl".to_string()]
            );
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from(ca.clone())).unwrap();
            let chain = vec![CertificateDer::from(leaf.clone())];
            let v = check(&chain, &roots, &crl);
            assert_eq!(
                v,
                if revoke {
                    CrlVerdict::Revoked
                } else {
                    CrlVerdict::Good
                }
            );
            // Without the CA as an anchor, a listed serial still counts, unverified.
            let empty = rustls::RootCertStore::empty();
            let v = check(&chain, &empty, &crl);
            if revoke {
                assert_eq!(v, CrlVerdict::RevokedUnverified);
            } else {
                assert!(matches!(v, CrlVerdict::GoodUnverified(_)), "{v:?}");
            }
        }
        assert!(matches!(
            check(
                &[CertificateDer::from(vec![1u8])],
                &rustls::RootCertStore::empty(),
                b"junk"
            ),
            CrlVerdict::Unreadable(_)
        ));
    }
}

//! Missing CA certificates: download them from the profile's URLs, check them against the
//! pinned SHA-256 fingerprints, and say exactly which file to import into which store.

use super::fetch;
use super::words::fill;
use super::NetContext;
use crate::finding::{Finding, Phase, Text};
use crate::guide::{fix, phrase};
use crate::profile::{CaRole, CaSpec};
use der::Decode;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A CA certificate larger than this is not read.
pub const CA_CAP: usize = 256 * 1024;

/// SHA-256 of DER bytes, lower-case hex without separators (the profile's format).
pub fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// DER from a downloaded body (DER as is, or the first PEM certificate).
pub fn to_der(body: &[u8]) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    if body.starts_with(b"-----") || body.windows(11).any(|w| w == b"-----BEGIN ") {
        return rustls::pki_types::CertificateDer::from_pem_slice(body)
            .ok()
            .map(|c| c.as_ref().to_vec());
    }
    x509_cert::Certificate::from_der(body)
        .ok()
        .map(|_| body.to_vec())
}

/// A file name for a CA: its name with anything but letters, digits, `-` and `_` replaced.
pub fn file_name(ca: &CaSpec) -> String {
    let base: String = ca
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}.cer")
}

/// The store a person imports this CA into, in both languages.
fn store_name(role: CaRole) -> Text {
    match role {
        CaRole::Root => phrase("net.ca_store_root", &[]),
        CaRole::Intermediate => phrase("net.ca_store_intermediate", &[]),
    }
}

/// Download one CA of the profile into `out`; a finding says what happened. The file is written
/// by [`crate::outfile`]: new, never through a link; an existing one is replaced only with
/// `replace`.
pub async fn fetch_one(
    ctx: &NetContext,
    ca: &CaSpec,
    index: usize,
    out: &Path,
    replace: bool,
) -> Finding {
    let role = match ca.role {
        CaRole::Root => "root",
        CaRole::Intermediate => "intermediate",
    };
    let f = Finding::new(
        format!("fetch_ca.{index}"),
        Phase::Network,
        if role == "root" {
            phrase("net.ca_title_root", &[("name", &ca.name)])
        } else {
            phrase("net.ca_title_intermediate", &[("name", &ca.name)])
        },
        ca.url.clone().unwrap_or_default(),
    );
    let Some(url) = &ca.url else {
        return f.skip(phrase("net.ca_no_url", &[]));
    };
    let start = Instant::now();
    let resp = fetch::get(ctx, url, CA_CAP).await;
    let f = f.elapsed(start.elapsed());
    let failed = |f: Finding, code: &str, why: Text| {
        f.fail(fill(
            phrase("net.ca_cannot_download", &[("url", url)]),
            &[("why", &why)],
        ))
        .section("2-1 (7)")
        .fix(fix("net.ca_download", &[("url", url)]))
        .data(serde_json::json!({"url": url, "result": "fetch_failed", "error": code}))
    };
    let body = match resp {
        Ok(r) if r.status == 200 && !r.truncated => r.body,
        Ok(r) if r.truncated => return failed(f, "too_large", phrase("net.crl_too_large", &[])),
        Ok(r) => return failed(f, "http_status", Text::same(format!("HTTP {}", r.status))),
        Err(e) => return failed(f, e.code(), e.text()),
    };
    let Some(der) = to_der(&body) else {
        return f
            .fail(phrase(
                "net.ca_not_a_certificate",
                &[("url", url), ("bytes", &body.len().to_string())],
            ))
            .section("2-1 (7)")
            .fix(fix("net.ca_download", &[("url", url)]))
            .data(serde_json::json!({"url": url, "result": "unparsable", "bytes": body.len()}));
    };
    let got = sha256_hex(&der);
    let data =
        serde_json::json!({"url": url, "result": "fetched", "sha256": got, "pinned": ca.sha256});
    let f = f.data(data);
    match &ca.sha256 {
        Some(pin) if !pin.eq_ignore_ascii_case(&got) => {
            return f
                .fail(phrase("net.ca_pin_differs", &[("got", &got), ("pin", pin)]))
                .section("2-1 (7)")
                .fix(fix("net.ca_pin_mismatch", &[("url", url)]));
        }
        _ => {}
    }
    let path: PathBuf = out.join(file_name(ca));
    if let Err(e) = crate::outfile::write_new(&path, &der, replace) {
        let (key, args) = e.key_and_args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return f
            .fail(crate::guide::fix(key, &args))
            .section("2-1 (7)")
            .fix(fix("net.ca_download", &[("url", url)]));
    }
    let store = store_name(ca.role);
    let shown = path.display().to_string();
    let detail = if ca.sha256.is_some() {
        fill(
            phrase("net.ca_saved_pinned", &[("shown", &shown)]),
            &[("store", &store)],
        )
    } else {
        fill(
            phrase("net.ca_saved_unpinned", &[("shown", &shown), ("got", &got)]),
            &[("store", &store)],
        )
    };
    let f = if ca.sha256.is_some() {
        f.pass(detail)
    } else {
        f.warn(detail).section("2-1 (7)")
    };
    f.fix(fix("net.ca_import", &[("file", &shown)]))
}

/// The `caIssuers` URLs (http/https) of a certificate's Authority Information Access.
pub fn ca_issuers_urls(der: &[u8]) -> Vec<String> {
    use x509_cert::ext::pkix::name::GeneralName;
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return vec![];
    };
    let Ok(Some((_, aia))) = cert
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::AuthorityInfoAccessSyntax>()
    else {
        return vec![];
    };
    let ca_issuers = const_oid_ca_issuers();
    aia.0
        .into_iter()
        .filter(|d| d.access_method == ca_issuers)
        .filter_map(|d| match d.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .filter(|u| {
            let l = u.to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("https://")
        })
        .collect()
}

fn const_oid_ca_issuers() -> der::oid::ObjectIdentifier {
    // id-ad-caIssuers, RFC 5280 4.2.2.1
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2")
}

/// `net.ca_fetch`: when the local probes found the intermediate missing, download it (from
/// the certificate's AIA `caIssuers`, else the profile's URL) and check that it is the right
/// one — its subject is the certificate's issuer, and its SHA-256 matches the profile's pin.
/// Nothing is saved here; `certprobe fetch-ca --out DIR` saves.
pub async fn missing_intermediate_finding(
    ctx: &NetContext,
    local_findings: &[Finding],
) -> Option<Finding> {
    let missing = local_findings
        .iter()
        .any(|f| f.id == "trust.intermediate" && f.status == crate::finding::Status::Fail);
    if !missing {
        return None;
    }
    let key = ctx.client.as_ref()?;
    let leaf = super::tls::CertInfo::parse(key.cert.first()?)?;
    let profile_ca = ctx
        .profile
        .cas
        .iter()
        .find(|c| {
            c.role == CaRole::Intermediate && leaf.issuer_cn.as_deref() == Some(c.name.as_str())
        })
        .or_else(|| {
            ctx.profile
                .cas
                .iter()
                .find(|c| c.role == CaRole::Intermediate)
        });
    let url = ca_issuers_urls(key.cert.first()?)
        .into_iter()
        .next()
        .or_else(|| profile_ca.and_then(|c| c.url.clone()))?;
    let f = Finding::new(
        "net.ca_fetch",
        Phase::Network,
        phrase("net.ca_fetch_title", &[]),
        url.clone(),
    );
    let start = Instant::now();
    let resp = fetch::get(ctx, &url, CA_CAP).await;
    let f = f.elapsed(start.elapsed());
    let body = match resp {
        Ok(r) if r.status == 200 && !r.truncated => r.body,
        Ok(r) => {
            let code = if r.truncated {
                "too_large"
            } else {
                "http_status"
            };
            return Some(
                f.warn(fill(
                    phrase("net.ca_fetch_failed", &[]),
                    &[("why", &Text::same(format!("HTTP {}", r.status)))],
                ))
                .section("2-1 (7)")
                .fix(fix("net.ca_download", &[("url", &url)]))
                .data(serde_json::json!({"url": url, "result": "fetch_failed", "error": code})),
            );
        }
        Err(e) => {
            let why = e.text();
            return Some(
                f.warn(fill(phrase("net.ca_fetch_failed", &[]), &[("why", &why)]))
                .section("2-1 (7)")
                .fix(fix("net.ca_download", &[("url", &url)]))
                .data(serde_json::json!({"url": url, "result": "fetch_failed", "error": e.code()})),
            );
        }
    };
    let Some(der) = to_der(&body) else {
        return Some(
            f.warn(phrase(
                "net.ca_fetch_not_a_certificate",
                &[("bytes", &body.len().to_string())],
            ))
            .data(serde_json::json!({"url": url, "result": "unparsable", "bytes": body.len()}))
            .section("2-1 (7)")
            .fix(fix("net.ca_download", &[("url", &url)])),
        );
    };
    let got = super::tls::CertInfo::parse(&der)?;
    let sha = sha256_hex(&der);
    let f = f.data(serde_json::json!({"url": url, "subject": got.subject, "sha256": sha}));
    if got.subject_der != leaf.issuer_der {
        return Some(
            f.fail(phrase(
                "net.ca_fetch_wrong_issuer",
                &[
                    ("url", &url),
                    ("subject", &got.subject),
                    ("issuer", &leaf.issuer),
                ],
            ))
            .section("2-1 (7)")
            .fix(fix("net.ca_download", &[("url", &url)])),
        );
    }
    if let Some(pin) = profile_ca.and_then(|c| c.sha256.as_ref()) {
        if !pin.eq_ignore_ascii_case(&sha) {
            return Some(
                f.fail(phrase(
                    "net.ca_fetch_pin_differs",
                    &[("url", &url), ("sha", &sha), ("pin", pin)],
                ))
                .section("2-1 (7)")
                .fix(fix("net.ca_pin_mismatch", &[("url", &url)])),
            );
        }
    }
    let name = got.subject_name().to_string();
    Some(
        f.warn(phrase(
            "net.ca_fetch_available",
            &[("name", &name), ("url", &url)],
        ))
        .section("2-1 (7)")
        .fix(fix("net.ca_import", &[("file", &format!("{name}.cer"))])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_fingerprints() {
        let ca = CaSpec {
            role: CaRole::Intermediate,
            name: "SECOM Passport for Member PUB CA1".into(),
            url: None,
            sha256: None,
        };
        assert_eq!(file_name(&ca), "SECOM_Passport_for_Member_PUB_CA1.cer");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(to_der(b"junk").is_none());
    }
}

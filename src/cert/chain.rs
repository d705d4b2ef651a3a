//! Path validation: leaf → intermediate(s) → trust anchor, with webpki for the verdict and the
//! certificates themselves for the reason.
//!
//! webpki says `CertExpired` or `UnknownIssuer` without saying which certificate; when it fails,
//! the walk (`walk.rs`) goes up from the leaf by issuer name and signature and names the broken
//! link. webpki also ignores an anchor's own dates, so a path ending in an expired root is
//! refused here; and every path webpki builds goes through the second pass of
//! [`crate::cert::strict`] (OpenSSL's rules webpki does not apply).

use crate::cert::info::{show_date, CertInfo};
use crate::cert::strict::{self, Breach, PathCert, Role};
use crate::cert::walk::{diagnose, weak_key};
use crate::cert::AnchorCert;
use crate::cert::Purpose;
use crate::finding::Text;
use crate::trust::{Anchor, TrustStore};
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use serde::Serialize;
use std::cell::RefCell;
use time::OffsetDateTime;

/// Where an intermediate certificate came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The certificate file itself (PEM bundle or PKCS#12 bag).
    Identity,
    /// A `--ca` file.
    CaFile(String),
    /// A trust anchor.
    Trust(String),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Identity => crate::guide::message("cert.origin_identity", &[]),
            Origin::CaFile(p) => format!("--ca {p}"),
            Origin::Trust(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub der: CertificateDer<'static>,
    pub info: CertInfo,
    pub origin: Origin,
}

/// One certificate of a validated path.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub name: String,
    pub subject: String,
    pub role: &'static str,
    pub origin: String,
    /// The issuer's distinguished name and the validity start (the HTML report draws them).
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
}

/// Why a path could not be built, naming the certificate at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    LeafExpired {
        name: String,
        date: String,
    },
    LeafNotYetValid {
        name: String,
        date: String,
    },
    WrongUsage {
        name: String,
        purpose: &'static str,
    },
    NoDigitalSignature {
        name: String,
    },
    IntermediateMissing {
        name: String,
        of: String,
    },
    IntermediateExpired {
        name: String,
        date: String,
    },
    IntermediateNotYetValid {
        name: String,
        date: String,
    },
    RootNotTrusted {
        name: String,
    },
    RootExpired {
        name: String,
        date: String,
    },
    RootNotYetValid {
        name: String,
        date: String,
    },
    WeakSignature {
        name: String,
        algorithm: String,
    },
    BadSignature {
        name: String,
        issuer: String,
    },
    CaAsLeaf {
        name: String,
    },
    Unreadable {
        detail: String,
    },
    /// A rule broken by one certificate of the path, named with its place in the path.
    Cert(Breach),
    Other {
        reason: String,
    },
}

/// The catalogue text of `key` with `args` filled in, and `{role}` / `{at}` in each language.
fn say(key: &str, args: &[(&str, &str)]) -> (String, String) {
    let words: Vec<Text> = args.iter().map(|(_, v)| localise(v)).collect();
    let en: Vec<(&str, &str)> = args
        .iter()
        .zip(&words)
        .map(|((k, _), w)| (*k, w.en.as_str()))
        .collect();
    let ja: Vec<(&str, &str)> = args
        .iter()
        .zip(&words)
        .map(|((k, _), w)| (*k, w.ja.as_str()))
        .collect();
    (
        crate::guide::phrase(key, &en).en,
        crate::guide::phrase(key, &ja).ja,
    )
}

/// The catalogue keys of webpki's errors in words.
const WEBPKI_WORDS: [&str; 12] = [
    "cert.webpki.bad_der",
    "cert.webpki.bad_der_time",
    "cert.webpki.trailing_data",
    "cert.webpki.extension_invalid",
    "cert.webpki.not_v3",
    "cert.webpki.bad_serial",
    "cert.webpki.bad_validity",
    "cert.webpki.path_too_long",
    "cert.webpki.too_many_signatures",
    "cert.webpki.too_many_names",
    "cert.webpki.bad_dns_name",
    "cert.webpki.bad_name_constraint",
];

/// A value placed in a message: webpki's errors are kept in English words (as the JSON data
/// shows them) and said in each language from the catalogue; anything else stays as it is.
fn localise(value: &str) -> Text {
    WEBPKI_WORDS
        .iter()
        .map(|k| crate::guide::phrase(k, &[]))
        .find(|t| t.en == value)
        .unwrap_or_else(|| Text::same(value))
}

fn say_breach(b: &Breach) -> (String, String) {
    let role = crate::guide::phrase(b.role.key(), &[]);
    let pos = b.pos.to_string();
    let at_en = crate::guide::phrase("chain.at", &[("pos", &pos), ("role", &role.en)]).en;
    let at_ja = crate::guide::phrase("chain.at", &[("pos", &pos), ("role", &role.ja)]).ja;
    let mut en: Vec<(&str, &str)> = vec![("name", &b.name), ("at", &at_en)];
    let mut ja: Vec<(&str, &str)> = vec![("name", &b.name), ("at", &at_ja)];
    let words: Vec<Text> = b.args.iter().map(|(_, v)| localise(v)).collect();
    for ((k, _), w) in b.args.iter().zip(&words) {
        en.push((k, &w.en));
        ja.push((k, &w.ja));
    }
    (
        crate::guide::phrase(b.rule, &en).en,
        crate::guide::phrase(b.rule, &ja).ja,
    )
}

impl Problem {
    /// One line in English and Japanese, from the catalogue.
    pub fn describe(&self) -> (String, String) {
        match self {
            Problem::LeafExpired { name, date } => {
                say("chain.leaf_expired", &[("name", name), ("date", date)])
            }
            Problem::LeafNotYetValid { name, date } => say(
                "chain.leaf_not_yet_valid",
                &[("name", name), ("date", date)],
            ),
            Problem::WrongUsage { name, purpose } => {
                let p = crate::guide::phrase(purpose, &[]);
                let en = say("chain.wrong_usage", &[("name", name), ("purpose", &p.en)]).0;
                let ja = say("chain.wrong_usage", &[("name", name), ("purpose", &p.ja)]).1;
                (en, ja)
            }
            Problem::NoDigitalSignature { name } => {
                say("chain.no_digital_signature", &[("name", name)])
            }
            Problem::IntermediateMissing { name, of } => {
                say("chain.intermediate_missing", &[("name", name), ("of", of)])
            }
            Problem::IntermediateExpired { name, date } => say(
                "chain.intermediate_expired",
                &[("name", name), ("date", date)],
            ),
            Problem::IntermediateNotYetValid { name, date } => say(
                "chain.intermediate_not_yet_valid",
                &[("name", name), ("date", date)],
            ),
            Problem::RootNotTrusted { name } => say("chain.root_not_trusted", &[("name", name)]),
            Problem::RootExpired { name, date } => {
                say("chain.root_expired", &[("name", name), ("date", date)])
            }
            Problem::RootNotYetValid { name, date } => say(
                "chain.root_not_yet_valid",
                &[("name", name), ("date", date)],
            ),
            Problem::WeakSignature { name, algorithm } => say(
                "chain.weak_signature",
                &[("name", name), ("algorithm", algorithm)],
            ),
            Problem::BadSignature { name, issuer } => {
                say("chain.bad_signature", &[("name", name), ("issuer", issuer)])
            }
            Problem::CaAsLeaf { name } => say("chain.ca_as_leaf", &[("name", name)]),
            Problem::Unreadable { detail } => say("chain.unreadable", &[("detail", detail)]),
            Problem::Cert(b) => say_breach(b),
            Problem::Other { reason } => say("chain.other", &[("detail", reason)]),
        }
    }

    /// The fix key in `src/guide/fixes/*.toml` and the guide section.
    pub fn fix_key(&self) -> (&'static str, &'static str) {
        match self {
            Problem::LeafExpired { .. } => ("cert.expired", "2-1 (6)"),
            Problem::LeafNotYetValid { .. } => ("cert.not_yet_valid", "2-1 (6)"),
            Problem::WrongUsage { .. } | Problem::NoDigitalSignature { .. } => {
                ("cert.wrong_usage", "2-1 (6)")
            }
            Problem::IntermediateMissing { .. } => ("cert.intermediate_missing", "2-1 (7)"),
            Problem::IntermediateExpired { .. } | Problem::IntermediateNotYetValid { .. } => {
                ("cert.intermediate_expired", "2-1 (7)")
            }
            Problem::RootNotTrusted { .. } => ("cert.root_missing", "2-1 (7)"),
            Problem::RootExpired { .. } | Problem::RootNotYetValid { .. } => {
                ("cert.root_expired", "2-1 (7)")
            }
            Problem::WeakSignature { .. } => ("cert.weak_signature", "2-1 (6)"),
            Problem::BadSignature { .. } => ("cert.bad_signature", "2-1 (7)"),
            Problem::CaAsLeaf { .. } => ("cert.ca_as_leaf", "2-1 (6)"),
            Problem::Unreadable { .. } => ("cert.malformed", "2-1 (6)"),
            Problem::Cert(b) => (breach_fix(b.rule), "2-1 (7)"),
            Problem::Other { .. } => ("cert.chain_other", "2-1 (7)"),
        }
    }

    /// The certificate name the problem is about.
    pub fn name(&self) -> &str {
        match self {
            Problem::LeafExpired { name, .. }
            | Problem::LeafNotYetValid { name, .. }
            | Problem::WrongUsage { name, .. }
            | Problem::NoDigitalSignature { name }
            | Problem::IntermediateMissing { name, .. }
            | Problem::IntermediateExpired { name, .. }
            | Problem::IntermediateNotYetValid { name, .. }
            | Problem::RootNotTrusted { name }
            | Problem::RootExpired { name, .. }
            | Problem::RootNotYetValid { name, .. }
            | Problem::CaAsLeaf { name }
            | Problem::WeakSignature { name, .. } => name,
            Problem::BadSignature { issuer, .. } => issuer,
            Problem::Cert(b) => &b.name,
            Problem::Unreadable { detail } => detail,
            Problem::Other { reason } => reason,
        }
    }
}

/// The catalogue key naming a purpose.
pub fn purpose_key(p: Purpose) -> &'static str {
    match p {
        Purpose::Client => "chain.purpose.client",
        Purpose::Server => "chain.purpose.server",
    }
}

/// The fix for a broken rule: what the person can do about that certificate.
fn breach_fix(rule: &str) -> &'static str {
    match rule {
        "chain.ca_no_key_cert_sign" | "chain.not_ca" => "cert.ca_not_for_signing",
        "chain.anchor_not_ca" => "cert.anchor_not_ca",
        "chain.path_len" => "cert.path_len",
        "chain.name_constraint"
        | "chain.name_form_unsupported"
        | "chain.name_constraint_budget" => "cert.name_constraint",
        "chain.aki_critical" | "chain.ski_critical" => "cert.reissue",
        "chain.leaf_weak_key" => "cert.weak_key",
        "chain.no_root_within" | "chain.too_complex" => "cert.chain_loop",
        "chain.critical_extension" => "cert.critical_extension",
        "chain.malformed" | "chain.extension_invalid" => "cert.malformed",
        "chain.unsupported_key" => "cert.unsupported_key",
        "chain.signature_mismatch" => "cert.signature_mismatch",
        _ => "cert.strict_lint",
    }
}

/// The outcome of path validation.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub valid: bool,
    /// Leaf first, anchor last when valid; when not, as far as the certificates themselves
    /// lead (by issuer name and signature), so the certificate at fault can be seen in it.
    pub path: Vec<Link>,
    /// The first problem is the one to fix first; the rest follow from the walk.
    pub problems: Vec<Problem>,
    /// What a strict verifier (openssl -x509_strict) refuses in a valid path: warnings.
    pub warnings: Vec<Problem>,
    /// What webpki said, for the curious.
    pub webpki: Option<String>,
    /// The certificates a TLS client should send: the leaf and the intermediates of the path
    /// (or, when no path was found, every intermediate we have that could belong to it).
    #[serde(skip)]
    pub send: Vec<CertificateDer<'static>>,
}

/// Everything path validation looks at.
pub struct ChainInput<'a> {
    pub leaf: &'a CertificateDer<'static>,
    pub intermediates: &'a [Candidate],
    pub store: &'a TrustStore,
    pub at: OffsetDateTime,
    pub purpose: Purpose,
}

fn unix(at: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        at.unix_timestamp().max(0) as u64
    ))
}

/// The path's certificates for the second pass: leaf, intermediates, and the anchor's own
/// certificate when it has one.
fn path_certs(
    leaf: &[u8],
    leaf_name: &str,
    inters: &[(Vec<u8>, String)],
    anchor: Option<&Anchor>,
) -> Vec<PathCert> {
    let mut out = Vec::new();
    out.extend(PathCert::parse(leaf, leaf_name, Role::Leaf, 1));
    for (i, (der, name)) in inters.iter().enumerate() {
        out.extend(PathCert::parse(der, name, Role::Intermediate, i + 2));
    }
    if let Some(a) = anchor {
        out.extend(PathCert::parse(
            &a.der,
            &a.info().subject_name,
            Role::Root,
            inters.len() + 2,
        ));
    }
    out
}

fn name_of(der: &[u8], input: &ChainInput<'_>) -> String {
    input
        .intermediates
        .iter()
        .find(|c| c.der.as_ref() == der)
        .map(|c| c.info.subject_name.clone())
        .or_else(|| {
            CertInfo::parse(&CertificateDer::from(der.to_vec()))
                .ok()
                .map(|i| i.subject_name)
        })
        .unwrap_or_default()
}

/// Validate the path and, when it fails, say which link is broken.
pub fn validate(input: &ChainInput<'_>) -> ChainReport {
    let leaf_info = match CertInfo::parse(input.leaf) {
        Ok(i) => i,
        Err(e) => {
            return ChainReport {
                valid: false,
                path: vec![],
                problems: vec![Problem::Unreadable {
                    detail: e.to_string(),
                }],
                warnings: vec![],
                webpki: None,
                send: vec![input.leaf.clone()],
            }
        }
    };
    // Only the anchors a path can end in: those named as the issuer of a certificate we have.
    let usable = input.store.usable_for(
        std::iter::once(leaf_info.issuer_der.as_slice()).chain(
            input
                .intermediates
                .iter()
                .map(|c| c.info.issuer_der.as_slice()),
        ),
    );
    let anchors: Vec<TrustAnchor<'_>> = usable.iter().filter_map(|a| a.webpki()).collect();
    let inter_ders: Vec<CertificateDer<'static>> =
        input.intermediates.iter().map(|c| c.der.clone()).collect();
    let usage = match input.purpose {
        Purpose::Client => webpki::KeyUsage::client_auth(),
        Purpose::Server => webpki::KeyUsage::server_auth(),
    };
    let time = unix(input.at);
    let at = input.at;
    let anchor_of = |a: &TrustAnchor<'_>| -> Option<&Anchor> {
        usable
            .iter()
            .copied()
            .filter(|x| x.webpki().as_ref() == Some(a))
            .find(|x| x.info().valid_at(at))
    };
    // The first second-pass failure of a path webpki built (webpki then tries the others).
    let refused: RefCell<Option<(Vec<Problem>, Vec<Link>)>> = RefCell::new(None);
    let second = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
        // Refuse paths that end in an anchor outside its validity, so webpki tries the others.
        let Some(anchor) = anchor_of(path.anchor()) else {
            return Err(webpki::Error::UnknownIssuer);
        };
        let inters: Vec<(Vec<u8>, String)> = path
            .intermediate_certificates()
            .map(|c| (c.der().to_vec(), name_of(c.der().as_ref(), input)))
            .collect();
        let certs = path_certs(input.leaf, &leaf_info.subject_name, &inters, Some(anchor));
        let (fail, _) = strict::second_pass(&certs);
        if fail.is_empty() {
            return Ok(());
        }
        let mut r = refused.borrow_mut();
        if r.is_none() {
            let mut links = vec![link(&leaf_info, "leaf", "--cert".into())];
            for (der, _) in &inters {
                if let Ok(info) = CertInfo::parse(&CertificateDer::from(der.clone())) {
                    links.push(link(&info, "intermediate", String::new()));
                }
            }
            links.push(link(&anchor.info(), "root", anchor.origin.describe()));
            *r = Some((fail.into_iter().map(Problem::Cert).collect(), links));
        }
        Err(webpki::Error::CaUsedAsEndEntity)
    };
    let ee = webpki::EndEntityCert::try_from(input.leaf);
    let result = ee.as_ref().map_err(|e| e.clone()).and_then(|ee| {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &inter_ders,
            time,
            usage,
            None,
            Some(&second),
        )
        .map(|path| {
            let inters: Vec<CertificateDer<'static>> = path
                .intermediate_certificates()
                .map(|c| CertificateDer::from(c.der().to_vec()))
                .collect();
            let anchor = path.anchor().clone();
            (inters, anchor)
        })
    });

    let mut problems = Vec::new();
    if let Some(key) = weak_key(&leaf_info) {
        problems.push(Problem::Cert(Breach {
            rule: "chain.leaf_weak_key",
            name: leaf_info.subject_name.clone(),
            role: Role::Leaf,
            pos: 1,
            args: vec![("key".into(), key)],
        }));
    }
    if !usage_key_ok(&leaf_info, input.purpose) {
        problems.push(Problem::NoDigitalSignature {
            name: leaf_info.subject_name.clone(),
        });
    }

    match result {
        Ok((inters, anchor)) => {
            let mut path = vec![link(&leaf_info, "leaf", "--cert".into())];
            let mut named = Vec::new();
            for der in &inters {
                let known = input.intermediates.iter().find(|c| c.der == *der);
                let origin = known.map(|c| c.origin.describe()).unwrap_or_default();
                let info = match known {
                    Some(c) => Some(c.info.clone()),
                    None => CertInfo::parse(der).ok(),
                };
                if let Some(info) = info {
                    path.push(link(&info, "intermediate", origin));
                    named.push((der.to_vec(), info.subject_name));
                }
            }
            let anchor = anchor_of(&anchor);
            if let Some(a) = anchor {
                path.push(link(&a.info(), "root", a.origin.describe()));
            }
            let certs = path_certs(input.leaf, &leaf_info.subject_name, &named, anchor);
            let (_, lints) = strict::second_pass(&certs);
            let mut send = vec![input.leaf.clone()];
            send.extend(inters);
            ChainReport {
                valid: problems.is_empty(),
                path,
                problems,
                warnings: lints.into_iter().map(Problem::Cert).collect(),
                webpki: None,
                send,
            }
        }
        Err(e) => {
            let walked = diagnose(&leaf_info, input, &e);
            let certs = path_certs(
                input.leaf,
                &leaf_info.subject_name,
                &walked.inters,
                walked.anchor,
            );
            // webpki's own limits: RFC 5280 decides over the path the certificates lead to.
            if walked.problems.is_empty() && walked.anchor.is_some() && strict::webpki_limit(&e) {
                let mut fail = strict::rfc5280_failures(&certs);
                let (strict_fail, lints) = strict::second_pass(&certs);
                fail.extend(strict_fail);
                if fail.is_empty() && leaf_usage_ok(&leaf_info, input.purpose) {
                    return ChainReport {
                        valid: problems.is_empty(),
                        path: walked.links,
                        problems,
                        warnings: lints.into_iter().map(Problem::Cert).collect(),
                        webpki: Some(format!("{e:?}")),
                        send: walked.send,
                    };
                }
            }
            let mut links = walked.links;
            problems.splice(0..0, walked.problems);
            if problems.is_empty() {
                if let Some((refusal, refused_links)) = refused.into_inner() {
                    problems.extend(refusal);
                    links = refused_links;
                }
            }
            if problems.is_empty() {
                problems.extend(explain(&e, &certs, &leaf_info));
            }
            if problems.is_empty() {
                problems.push(Problem::Other {
                    reason: webpki_words(&e),
                });
            }
            ChainReport {
                valid: false,
                path: links,
                problems,
                warnings: vec![],
                webpki: Some(format!("{e:?}")),
                send: walked.send,
            }
        }
    }
}

/// Name the certificate at fault for a webpki error the walk did not explain.
fn explain(e: &webpki::Error, certs: &[PathCert], leaf: &CertInfo) -> Vec<Problem> {
    use webpki::Error as E;
    if matches!(e, E::CaUsedAsEndEntity) {
        return vec![Problem::CaAsLeaf {
            name: leaf.subject_name.clone(),
        }];
    }
    let leaf_breach = |rule: &'static str, detail: String| {
        certs
            .first()
            .map(|c| Problem::Cert(Breach::of(rule, c).with("detail", detail)))
    };
    match e {
        E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumNameConstraintComparisonsExceeded => {
            return leaf_breach("chain.too_complex", webpki_words(e))
                .into_iter()
                .collect()
        }
        E::MalformedDnsIdentifier => {
            return leaf_breach("chain.malformed", webpki_words(e))
                .into_iter()
                .collect()
        }
        _ => {}
    }
    // A certificate that is not well-formed, as webpki reads it.
    for c in certs {
        if let Ok(der) = der::Encode::to_der(&c.cert) {
            let der = CertificateDer::from(der);
            if let Err(err) = webpki::EndEntityCert::try_from(&der) {
                let rule = if matches!(err, E::ExtensionValueInvalid | E::MalformedExtensions) {
                    "chain.extension_invalid"
                } else {
                    "chain.malformed"
                };
                return vec![Problem::Cert(Breach::of(rule, c).with(
                    if rule == "chain.malformed" {
                        "detail"
                    } else {
                        "ext"
                    },
                    webpki_words(&err),
                ))];
            }
        }
        let t = c.cert.tbs_certificate();
        if t.signature() != c.cert.signature_algorithm() {
            return vec![Problem::Cert(
                Breach::of("chain.signature_mismatch", c)
                    .with("outer", oid_word(&c.cert.signature_algorithm().oid))
                    .with("inner", oid_word(&t.signature().oid)),
            )];
        }
    }
    let mut fail = strict::rfc5280_failures(certs);
    fail.extend(strict::second_pass(certs).0);
    fail.into_iter().take(1).map(Problem::Cert).collect()
}

fn oid_word(oid: &der::oid::ObjectIdentifier) -> String {
    der::oid::db::DB
        .by_oid(oid)
        .map(str::to_string)
        .unwrap_or_else(|| oid.to_string())
}

/// webpki's error in words (its variant names are not for people), in English as the JSON
/// data keeps it; [`localise`] says it in each language.
fn webpki_words(e: &webpki::Error) -> String {
    use webpki::Error as E;
    let key = match e {
        E::BadDer => "cert.webpki.bad_der",
        E::BadDerTime => "cert.webpki.bad_der_time",
        E::TrailingData(_) => "cert.webpki.trailing_data",
        E::ExtensionValueInvalid | E::MalformedExtensions => "cert.webpki.extension_invalid",
        E::UnsupportedCertVersion => "cert.webpki.not_v3",
        E::InvalidSerialNumber => "cert.webpki.bad_serial",
        E::InvalidCertValidity => "cert.webpki.bad_validity",
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded => {
            "cert.webpki.path_too_long"
        }
        E::MaximumSignatureChecksExceeded => "cert.webpki.too_many_signatures",
        E::MaximumNameConstraintComparisonsExceeded => "cert.webpki.too_many_names",
        E::MalformedDnsIdentifier => "cert.webpki.bad_dns_name",
        E::MalformedNameConstraint | E::InvalidNetworkMaskConstraint => {
            "cert.webpki.bad_name_constraint"
        }
        other => return format!("{other:?}"),
    };
    crate::guide::phrase(key, &[]).en
}

pub(super) fn leaf_usage_ok(leaf: &CertInfo, purpose: Purpose) -> bool {
    match purpose {
        Purpose::Client => leaf.client_auth,
        Purpose::Server => leaf.server_auth,
    }
}

fn usage_key_ok(info: &CertInfo, purpose: Purpose) -> bool {
    match (&info.key_usage, purpose) {
        (None, _) => true,
        (Some(_), Purpose::Client) => info.digital_signature,
        (Some(ku), Purpose::Server) => ku.iter().any(|u| {
            matches!(
                u.as_str(),
                "digitalSignature" | "keyEncipherment" | "keyAgreement"
            )
        }),
    }
}

pub(super) fn link(info: &CertInfo, role: &'static str, origin: String) -> Link {
    Link {
        name: info.subject_name.clone(),
        subject: info.subject.clone(),
        role,
        origin,
        issuer: info.issuer.clone(),
        not_before: show_date(info.not_before),
        not_after: show_date(info.not_after),
        sha256: info.sha256.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::source::read_certs;
    use crate::trust::{AnchorOrigin, TrustStore};
    use std::path::PathBuf;

    fn pki(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name)
    }

    fn cert(name: &str) -> CertificateDer<'static> {
        read_certs(&pki(name)).unwrap().remove(0)
    }

    fn candidates(names: &[&str]) -> Vec<Candidate> {
        names
            .iter()
            .map(|n| {
                let der = cert(n);
                Candidate {
                    info: CertInfo::parse(&der).unwrap(),
                    der,
                    origin: Origin::CaFile(n.to_string()),
                }
            })
            .collect()
    }

    fn store(names: &[&str]) -> TrustStore {
        let paths: Vec<PathBuf> = names.iter().map(|n| pki(n)).collect();
        TrustStore::load(false, &paths).unwrap()
    }

    fn run(leaf: &str, inters: &[&str], anchors: &[&str], at: Option<&str>) -> ChainReport {
        let leaf = cert(leaf);
        let cands = candidates(inters);
        let store = store(anchors);
        let at = at
            .map(|s| crate::cert::parse_time(s).unwrap())
            .unwrap_or_else(OffsetDateTime::now_utc);
        validate(&ChainInput {
            leaf: &leaf,
            intermediates: &cands,
            store: &store,
            at,
            purpose: Purpose::Client,
        })
    }

    #[test]
    fn webpki_words_are_said_in_each_language() {
        let en = webpki_words(&webpki::Error::BadDer);
        assert_eq!(en, "the DER encoding is broken");
        let t = localise(&en);
        assert_eq!(t.en, en);
        assert!(t.ja.contains("DER 符号化"), "{}", t.ja);
        for key in WEBPKI_WORDS {
            let t = crate::guide::phrase(key, &[]);
            assert_ne!(t.en, key, "{key} is in the catalogue");
            assert_eq!(localise(&t.en).ja, t.ja, "{key}");
        }
        assert_eq!(localise("S47000001").ja, "S47000001");
    }
    #[test]
    fn a_sound_chain_gives_the_whole_path_and_what_to_send() {
        let r = run("client.pem", &["inter.pem"], &["root.pem"], None);
        assert!(r.valid, "{r:?}");
        let roles: Vec<&str> = r.path.iter().map(|l| l.role).collect();
        assert_eq!(roles, ["leaf", "intermediate", "root"]);
        assert_eq!(r.send.len(), 2);
        assert_eq!(
            r.path[2].origin,
            AnchorOrigin::File(pki("root.pem")).describe()
        );
    }

    #[test]
    fn each_broken_link_is_named() {
        let first = |r: ChainReport| r.problems.into_iter().next().unwrap();
        assert!(matches!(
            first(run("client.pem", &[], &["root.pem"], None)),
            Problem::IntermediateMissing { ref name, .. } if name == "SECOM Passport for Member PUB CA1"
        ));
        assert_eq!(
            first(run(
                "client.pem",
                &["inter-expired.pem"],
                &["root.pem"],
                None
            )),
            Problem::IntermediateExpired {
                name: "SECOM Passport for Member PUB CA1".into(),
                date: "2024-01-01".into()
            }
        );
        assert_eq!(
            first(run(
                "client.pem",
                &["inter.pem"],
                &["root-expired.pem"],
                None
            )),
            Problem::RootExpired {
                name: "Security Communication RootCA1".into(),
                date: "2023-09-30".into()
            }
        );
        assert_eq!(
            first(run(
                "client.pem",
                &["inter.pem"],
                &["server-root.pem"],
                None
            )),
            Problem::RootNotTrusted {
                name: "Security Communication RootCA1".into()
            }
        );
        assert!(matches!(
            first(run(
                "client.pem",
                &["inter.pem"],
                &["real/Security_Communication_Root_CA.pem"],
                None
            )),
            Problem::BadSignature { .. }
        ));
        assert!(matches!(
            first(run(
                "client-expired.pem",
                &["inter.pem"],
                &["root.pem"],
                None
            )),
            Problem::LeafExpired { .. }
        ));
        assert!(matches!(
            first(run(
                "client-servereku.pem",
                &["inter.pem"],
                &["root.pem"],
                None
            )),
            Problem::WrongUsage { .. }
        ));
        assert!(matches!(
            first(run("client-sha1.pem", &["inter.pem"], &["root.pem"], None)),
            Problem::WeakSignature { .. }
        ));
        assert!(matches!(
            first(run(
                "client-nodigsig.pem",
                &["inter.pem"],
                &["root.pem"],
                None
            )),
            Problem::NoDigitalSignature { .. }
        ));
    }

    #[test]
    fn an_expired_anchor_is_skipped_when_a_valid_one_exists() {
        let r = run(
            "client.pem",
            &["inter.pem"],
            &["root-expired.pem", "root.pem"],
            None,
        );
        assert!(r.valid, "{r:?}");
        // And at a time when the old root was still valid, the leaf was not yet.
        let r = run(
            "client.pem",
            &["inter.pem"],
            &["root.pem"],
            Some("2024-06-01"),
        );
        assert!(matches!(r.problems[0], Problem::LeafNotYetValid { .. }));
    }

    #[test]
    fn every_problem_has_a_fix_and_a_guide_section() {
        let s = String::new;
        let all = [
            Problem::LeafExpired {
                name: s(),
                date: s(),
            },
            Problem::LeafNotYetValid {
                name: s(),
                date: s(),
            },
            Problem::WrongUsage {
                name: s(),
                purpose: "chain.purpose.client",
            },
            Problem::NoDigitalSignature { name: s() },
            Problem::IntermediateMissing { name: s(), of: s() },
            Problem::IntermediateExpired {
                name: s(),
                date: s(),
            },
            Problem::IntermediateNotYetValid {
                name: s(),
                date: s(),
            },
            Problem::RootNotTrusted { name: s() },
            Problem::RootExpired {
                name: s(),
                date: s(),
            },
            Problem::WeakSignature {
                name: s(),
                algorithm: s(),
            },
            Problem::BadSignature {
                name: s(),
                issuer: s(),
            },
            Problem::Other { reason: s() },
            Problem::RootNotYetValid {
                name: s(),
                date: s(),
            },
            Problem::CaAsLeaf { name: s() },
            Problem::Unreadable { detail: s() },
        ];
        let rules = [
            "chain.ca_no_key_cert_sign",
            "chain.not_ca",
            "chain.path_len",
            "chain.name_constraint",
            "chain.name_form_unsupported",
            "chain.critical_extension",
            "chain.malformed",
            "chain.extension_invalid",
            "chain.unsupported_key",
            "chain.signature_mismatch",
            "chain.anchor_not_ca",
            "chain.lint.aki_missing",
            "chain.aki_critical",
            "chain.name_constraint_budget",
            "chain.leaf_weak_key",
            "chain.no_root_within",
            "chain.too_complex",
            "chain.lint.nc_in_leaf",
            "chain.lint.nc_not_critical",
            "chain.lint.ski_missing",
            "chain.ski_critical",
            "chain.lint.empty_ca_subject",
            "chain.lint.leaf_key_cert_sign",
            "chain.lint.bc_not_critical",
            "chain.lint.ca_no_key_usage",
            "chain.lint.anchor_no_bc",
        ];
        let breaches = rules.iter().map(|rule| {
            Problem::Cert(Breach {
                rule,
                name: "N".into(),
                role: Role::Intermediate,
                pos: 2,
                args: vec![],
            })
        });
        let cat = crate::guide::catalogue();
        for p in all.into_iter().chain(breaches) {
            if let Problem::Cert(b) = &p {
                let t = cat
                    .label_text(b.rule)
                    .unwrap_or_else(|| panic!("no text {}", b.rule));
                assert!(
                    t.en.contains("{name}") && t.ja.contains("{name}"),
                    "{}",
                    b.rule
                );
                assert!(t.en.contains("{at}") && t.ja.contains("{at}"), "{}", b.rule);
                let (en, ja) = p.describe();
                assert!(
                    en.contains("certificate 2 of the path") && ja.contains("パスの 2 番目"),
                    "{en} / {ja}"
                );
            }
            let (key, section) = p.fix_key();
            let fix = cat.fix_text(key).unwrap_or_else(|| panic!("no fix {key}"));
            assert!(!fix.en.is_empty() && !fix.ja.is_empty(), "{key}");
            assert!(cat.find(section).is_some(), "no section {section}");
            let (en, ja) = p.describe();
            assert!(!en.is_empty() && !ja.is_empty());
        }
    }
}

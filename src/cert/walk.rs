//! The walk from the leaf up to an anchor by issuer name and signature, used when webpki finds
//! no path: it names every broken link (a missing intermediate, an expired CA, a signature that
//! does not verify, a key no verifier accepts) and gives the path the certificates lead to,
//! which the RFC 5280 pass of [`super::strict`] then judges where webpki met a limit of its own.

use super::chain::{leaf_usage_ok, link, purpose_key, Candidate, ChainInput, Link, Problem};
use super::info::{show_date, CertInfo};
use super::strict::{Breach, Role};
use super::{AnchorCert, AnchorIssuers};
use crate::trust::Anchor;
use rustls::pki_types::{CertificateDer, SignatureVerificationAlgorithm};
use time::OffsetDateTime;

pub(super) struct Walk<'s> {
    pub problems: Vec<Problem>,
    pub send: Vec<CertificateDer<'static>>,
    /// The intermediates the walk went through, with their names.
    pub inters: Vec<(Vec<u8>, String)>,
    /// The anchor it reached, when it reached one.
    pub anchor: Option<&'s Anchor>,
    pub links: Vec<Link>,
}

/// Does `issuer`'s key verify `child`'s signature?
#[derive(Debug, PartialEq, Eq)]
enum Sig {
    Good,
    Bad,
    /// No algorithm here for this signature (SHA-1, MD5, …).
    Unsupported,
    /// The issuer's key is of a kind no algorithm here accepts (P-192, RSA under 2048 bits,
    /// explicit curve parameters, DSA).
    UnsupportedKey,
}

fn check_signature(child: &[u8], issuer: &[u8], issuer_info: &CertInfo) -> Sig {
    use der::{Decode, Encode};
    let (Ok(c), Ok(i)) = (
        x509_cert::Certificate::from_der(child),
        x509_cert::Certificate::from_der(issuer),
    ) else {
        return Sig::Bad;
    };
    let contents = |any: Vec<u8>| -> Option<Vec<u8>> {
        der::asn1::AnyRef::from_der(&any)
            .ok()
            .map(|a| a.value().to_vec())
    };
    let (Some(sig_alg), Some(pk_alg), Ok(tbs)) = (
        c.signature_algorithm().to_der().ok().and_then(contents),
        i.tbs_certificate()
            .subject_public_key_info()
            .algorithm
            .to_der()
            .ok()
            .and_then(contents),
        c.tbs_certificate().to_der(),
    ) else {
        return Sig::Bad;
    };
    let public_key = i
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    let signature = c.signature().raw_bytes();
    let mut supported = false;
    let mut key_supported = false;
    for alg in webpki::ALL_VERIFICATION_ALGS {
        let alg: &dyn SignatureVerificationAlgorithm = *alg;
        if alg.signature_alg_id().as_ref() != sig_alg.as_slice() {
            continue;
        }
        supported = true;
        if alg.public_key_alg_id().as_ref() != pk_alg.as_slice() {
            continue;
        }
        key_supported = true;
        if alg.verify_signature(public_key, &tbs, signature).is_ok() {
            return Sig::Good;
        }
    }
    let weak_rsa = issuer_info.key_type == "RSA" && issuer_info.key_bits < 2048;
    let key_usable = webpki::ALL_VERIFICATION_ALGS
        .iter()
        .any(|a| a.public_key_alg_id().as_ref() == pk_alg.as_slice());
    if !key_usable || (key_supported && weak_rsa) {
        Sig::UnsupportedKey
    } else if supported {
        Sig::Bad
    } else {
        Sig::Unsupported
    }
}

fn date_problem(
    info: &CertInfo,
    at: OffsetDateTime,
    expired: impl Fn(String, String) -> Problem,
    not_yet: impl Fn(String, String) -> Problem,
) -> Option<Problem> {
    if at > info.not_after {
        Some(expired(
            info.subject_name.clone(),
            show_date(info.not_after),
        ))
    } else if at < info.not_before {
        Some(not_yet(
            info.subject_name.clone(),
            show_date(info.not_before),
        ))
    } else {
        None
    }
}

/// A key servers refuse (RSA under 2048 bits, P-192, DSA, explicit curve parameters), in words.
pub(super) fn weak_key(info: &CertInfo) -> Option<String> {
    let weak = (info.key_type == "RSA" && info.key_bits < 2048)
        || info.key_type == "DSA"
        || info.key_type == "ECDSA P-192"
        || info.key_type.starts_with("ECDSA (explicit");
    weak.then(|| key_words(info))
}

fn key_words(info: &CertInfo) -> String {
    if info.key_bits > 0 && info.key_type == "RSA" {
        format!("RSA-{}", info.key_bits)
    } else {
        info.key_type.clone()
    }
}

fn unsupported_key(issuer: &CertInfo, role: Role, pos: usize, child: &CertInfo) -> Problem {
    let key = key_words(issuer);
    Problem::Cert(Breach {
        rule: "chain.unsupported_key",
        name: issuer.subject_name.clone(),
        role,
        pos,
        args: vec![
            ("key".into(), key),
            ("child".into(), child.subject_name.clone()),
        ],
    })
}

/// How many issuers the walk follows before it gives up.
const MAX_WALK: usize = 8;

/// Walk up from the leaf by issuer name and signature; name every broken link.
pub(super) fn diagnose<'s>(
    leaf: &CertInfo,
    input: &ChainInput<'s>,
    err: &webpki::Error,
) -> Walk<'s> {
    let at = input.at;
    let mut problems = Vec::new();
    let mut send = vec![input.leaf.clone()];
    let mut inters = Vec::new();
    let mut links = vec![link(leaf, "leaf", "--cert".into())];
    let mut reached = None;
    if let Some(p) = date_problem(
        leaf,
        at,
        |name, date| Problem::LeafExpired { name, date },
        |name, date| Problem::LeafNotYetValid { name, date },
    ) {
        problems.push(p);
    }
    if matches!(err, webpki::Error::RequiredEkuNotFoundContext(_))
        || !leaf_usage_ok(leaf, input.purpose)
    {
        problems.push(Problem::WrongUsage {
            name: leaf.subject_name.clone(),
            purpose: purpose_key(input.purpose),
        });
    }

    if matches!(err, webpki::Error::CaUsedAsEndEntity) && leaf.is_ca {
        problems.push(Problem::CaAsLeaf {
            name: leaf.subject_name.clone(),
        });
    }

    let mut current_der: CertificateDer<'static> = input.leaf.clone();
    let mut current: CertInfo = leaf.clone();
    let mut ended = false;
    for depth in 0..MAX_WALK {
        let issuer_name = current.issuer_name.clone();
        let pos = depth + 2;
        // A trust anchor that issued it?
        let anchors: Vec<&Anchor> = input.store.issuers_of(&current).collect();
        let mut signing_anchors = Vec::new();
        let mut anchor_sig = None;
        for a in &anchors {
            let s = check_signature(&current_der, &a.der, &a.info());
            if s != Sig::Bad {
                anchor_sig = Some(s);
                signing_anchors.push(*a);
            }
        }
        if !signing_anchors.is_empty() {
            let a = signing_anchors
                .iter()
                .copied()
                .find(|a| a.info().valid_at(at))
                .unwrap_or(signing_anchors[0]);
            links.push(link(&a.info(), "root", a.origin.describe()));
            reached = Some(a);
            match anchor_sig {
                Some(Sig::Unsupported) => problems.push(weak(&current)),
                Some(Sig::UnsupportedKey) => {
                    problems.push(unsupported_key(&a.info(), Role::Root, pos, &current))
                }
                _ => {}
            }
            if !a.info().valid_at(at) {
                if let Some(p) = date_problem(
                    &a.info(),
                    at,
                    |name, date| Problem::RootExpired { name, date },
                    |name, date| Problem::RootNotYetValid { name, date },
                ) {
                    problems.push(p);
                }
            }
            break;
        }
        // An intermediate that issued it?
        let by_name: Vec<&Candidate> = input
            .intermediates
            .iter()
            .filter(|c| same_name(&c.info, &current) && c.der != current_der)
            .collect();
        let mut next: Option<(&Candidate, Sig)> = None;
        for c in &by_name {
            let s = check_signature(&current_der, &c.der, &c.info);
            if s == Sig::Good && c.info.valid_at(at) {
                next = Some((c, s));
                break;
            }
            if s != Sig::Bad && next.is_none() {
                next = Some((c, s));
            }
        }
        match next {
            Some((c, s)) => {
                match s {
                    Sig::Unsupported => problems.push(weak(&current)),
                    Sig::UnsupportedKey => {
                        problems.push(unsupported_key(&c.info, Role::Intermediate, pos, &current))
                    }
                    _ => {}
                }
                if let Some(p) = date_problem(
                    &c.info,
                    at,
                    |name, date| Problem::IntermediateExpired { name, date },
                    |name, date| Problem::IntermediateNotYetValid { name, date },
                ) {
                    problems.push(p);
                }
                send.push(c.der.clone());
                inters.push((c.der.to_vec(), c.info.subject_name.clone()));
                links.push(link(&c.info, "intermediate", c.origin.describe()));
                current_der = c.der.clone();
                current = c.info.clone();
            }
            None if !by_name.is_empty() || !anchors.is_empty() => {
                problems.push(Problem::BadSignature {
                    name: current.subject_name.clone(),
                    issuer: issuer_name,
                });
                break;
            }
            None if current.self_issued => {
                problems.push(Problem::RootNotTrusted {
                    name: current.subject_name.clone(),
                });
                break;
            }
            None if depth == 0 => {
                problems.push(Problem::IntermediateMissing {
                    name: issuer_name,
                    of: current.subject_name.clone(),
                });
                break;
            }
            None => {
                problems.push(Problem::RootNotTrusted { name: issuer_name });
                break;
            }
        }
        ended = depth + 1 == MAX_WALK;
    }
    if ended {
        problems.push(Problem::Cert(Breach {
            rule: "chain.no_root_within",
            name: current.subject_name.clone(),
            role: Role::Intermediate,
            pos: MAX_WALK + 1,
            args: vec![("limit".into(), MAX_WALK.to_string())],
        }));
    }
    Walk {
        problems,
        send,
        inters,
        anchor: reached,
        links,
    }
}

/// Is `issuer` named as `child`'s issuer? Byte-equal names, or equal once read as text
/// (the same name written with other string types).
fn same_name(issuer: &CertInfo, child: &CertInfo) -> bool {
    issuer.subject_der == child.issuer_der || issuer.subject == child.issuer
}

fn weak(info: &CertInfo) -> Problem {
    Problem::WeakSignature {
        name: info.subject_name.clone(),
        algorithm: info.signature_algorithm.clone(),
    }
}

//! Path validation: leaf → intermediate(s) → trust anchor, with webpki for the verdict and the
//! certificates themselves for the reason.
//!
//! webpki says `CertExpired` or `UnknownIssuer` without saying which certificate; when it fails,
//! [`diagnose`] walks up from the leaf by issuer name and signature and names the broken link.
//! webpki also ignores an anchor's own dates, so a path ending in an expired root is refused here.

use crate::cert::info::{show_date, CertInfo};
use crate::cli::Purpose;
use crate::trust::{Anchor, TrustStore};
use rustls::pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use serde::Serialize;
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
            Origin::Identity => "the certificate file".into(),
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
    LeafExpired { name: String, date: String },
    LeafNotYetValid { name: String, date: String },
    WrongUsage { name: String, purpose: String },
    NoDigitalSignature { name: String },
    IntermediateMissing { name: String, of: String },
    IntermediateExpired { name: String, date: String },
    IntermediateNotYetValid { name: String, date: String },
    RootNotTrusted { name: String },
    RootExpired { name: String, date: String },
    WeakSignature { name: String, algorithm: String },
    BadSignature { name: String, issuer: String },
    Other { reason: String },
}

impl Problem {
    /// One line in English and Japanese.
    pub fn describe(&self) -> (String, String) {
        match self {
            Problem::LeafExpired { name, date } => (
                format!("the certificate `{name}` expired on {date}"),
                format!("証明書「{name}」は {date} に有効期限が切れています"),
            ),
            Problem::LeafNotYetValid { name, date } => (
                format!("the certificate `{name}` is not valid until {date} (or the clock is wrong)"),
                format!("証明書「{name}」は {date} まで有効になりません (または PC の時計がずれています)"),
            ),
            Problem::WrongUsage { name, purpose } => (
                format!("the certificate `{name}` is not allowed for {purpose} (extended key usage)"),
                format!("証明書「{name}」は {purpose} に使えません (拡張キー使用法)"),
            ),
            Problem::NoDigitalSignature { name } => (
                format!("the certificate `{name}` does not allow digitalSignature (key usage)"),
                format!("証明書「{name}」のキー使用法に digitalSignature がありません"),
            ),
            Problem::IntermediateMissing { name, of } => (
                format!("intermediate `{name}` (issuer of `{of}`) not found"),
                format!("中間証明書「{name}」(「{of}」の発行者) が見つかりません"),
            ),
            Problem::IntermediateExpired { name, date } => (
                format!("intermediate `{name}` expired on {date}"),
                format!("中間証明書「{name}」は {date} に有効期限が切れています"),
            ),
            Problem::IntermediateNotYetValid { name, date } => (
                format!("intermediate `{name}` is not valid until {date}"),
                format!("中間証明書「{name}」は {date} まで有効になりません"),
            ),
            Problem::RootNotTrusted { name } => (
                format!("root `{name}` not trusted (not in the trust store)"),
                format!("ルート証明書「{name}」が信頼されていません (ストアにありません)"),
            ),
            Problem::RootExpired { name, date } => (
                format!("root `{name}` expired on {date}; nothing can be validated through it any more"),
                format!("ルート証明書「{name}」は {date} に有効期限が切れており、これを経由する検証はできません"),
            ),
            Problem::WeakSignature { name, algorithm } => (
                format!("`{name}` is signed with {algorithm}, which current TLS software refuses"),
                format!("「{name}」の署名は {algorithm} で、現在の TLS ソフトウェアは受け付けません"),
            ),
            Problem::BadSignature { name, issuer } => (
                format!("the signature on `{name}` does not verify with the key of `{issuer}` (a different CA with the same name?)"),
                format!("「{name}」の署名が「{issuer}」の鍵で検証できません (同名の別の CA?)"),
            ),
            Problem::Other { reason } => (
                format!("path validation failed: {reason}"),
                format!("証明書パスの検証に失敗しました: {reason}"),
            ),
        }
    }

    /// The fix key in `src/guide/fixes/cert.toml` and the guide section.
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
            Problem::RootExpired { .. } => ("cert.root_expired", "2-1 (7)"),
            Problem::WeakSignature { .. } => ("cert.weak_signature", "2-1 (6)"),
            Problem::BadSignature { .. } => ("cert.bad_signature", "2-1 (7)"),
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
            | Problem::WeakSignature { name, .. } => name,
            Problem::BadSignature { issuer, .. } => issuer,
            Problem::Other { reason } => reason,
        }
    }
}

/// The outcome of path validation.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub valid: bool,
    /// Leaf first, anchor last (only when valid).
    pub path: Vec<Link>,
    /// The first problem is the one to fix first; the rest follow from the walk.
    pub problems: Vec<Problem>,
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

/// Validate the path and, when it fails, say which link is broken.
pub fn validate(input: &ChainInput<'_>) -> ChainReport {
    let leaf_info = match CertInfo::parse(input.leaf) {
        Ok(i) => i,
        Err(e) => {
            return ChainReport {
                valid: false,
                path: vec![],
                problems: vec![Problem::Other {
                    reason: format!("the certificate cannot be read: {e}"),
                }],
                webpki: None,
                send: vec![input.leaf.clone()],
            }
        }
    };
    let anchors = input.store.webpki_anchors();
    let inter_ders: Vec<CertificateDer<'static>> =
        input.intermediates.iter().map(|c| c.der.clone()).collect();
    let usage = match input.purpose {
        Purpose::Client => webpki::KeyUsage::client_auth(),
        Purpose::Server => webpki::KeyUsage::server_auth(),
    };
    let time = unix(input.at);
    let at = input.at;
    // Refuse paths that end in an anchor outside its validity, so webpki tries the others.
    let anchor_valid = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
        let a = path.anchor();
        let ok = input
            .store
            .anchors
            .iter()
            .filter(|x| x.webpki.as_ref() == Some(a))
            .any(|x| x.info.valid_at(at));
        if ok {
            Ok(())
        } else {
            Err(webpki::Error::UnknownIssuer)
        }
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
            Some(&anchor_valid),
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
    if !usage_key_ok(&leaf_info, input.purpose) {
        problems.push(Problem::NoDigitalSignature {
            name: leaf_info.subject_name.clone(),
        });
    }

    match result {
        Ok((inters, anchor)) => {
            let mut path = vec![link(&leaf_info, "leaf", "--cert".into())];
            for der in &inters {
                let known = input.intermediates.iter().find(|c| c.der == *der);
                let origin = known.map(|c| c.origin.describe()).unwrap_or_default();
                match known {
                    Some(c) => path.push(link(&c.info, "intermediate", origin)),
                    None => {
                        if let Ok(info) = CertInfo::parse(der) {
                            path.push(link(&info, "intermediate", origin));
                        }
                    }
                }
            }
            if let Some(a) = input
                .store
                .anchors
                .iter()
                .find(|x| x.webpki.as_ref() == Some(&anchor) && x.info.valid_at(at))
            {
                path.push(link(&a.info, "root", a.origin.describe()));
            }
            let mut send = vec![input.leaf.clone()];
            send.extend(inters);
            ChainReport {
                valid: problems.is_empty(),
                path,
                problems,
                webpki: None,
                send,
            }
        }
        Err(e) => {
            let walked = diagnose(&leaf_info, input, &e);
            problems.splice(0..0, walked.problems);
            if problems.is_empty() {
                problems.push(Problem::Other {
                    reason: format!("{e:?}"),
                });
            }
            ChainReport {
                valid: false,
                path: vec![],
                problems,
                webpki: Some(format!("{e:?}")),
                send: walked.send,
            }
        }
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

fn link(info: &CertInfo, role: &'static str, origin: String) -> Link {
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

struct Walk {
    problems: Vec<Problem>,
    send: Vec<CertificateDer<'static>>,
}

/// Does `issuer`'s key verify `child`'s signature?
#[derive(Debug, PartialEq, Eq)]
enum Sig {
    Good,
    Bad,
    /// No algorithm here for this signature (SHA-1, MD5, …).
    Unsupported,
}

fn check_signature(child: &[u8], issuer: &[u8]) -> Sig {
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
    for alg in webpki::ALL_VERIFICATION_ALGS {
        let alg: &dyn SignatureVerificationAlgorithm = *alg;
        if alg.signature_alg_id().as_ref() != sig_alg.as_slice() {
            continue;
        }
        supported = true;
        if alg.public_key_alg_id().as_ref() != pk_alg.as_slice() {
            continue;
        }
        if alg.verify_signature(public_key, &tbs, signature).is_ok() {
            return Sig::Good;
        }
    }
    if supported {
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

/// Walk up from the leaf by issuer name and signature; name every broken link.
fn diagnose(leaf: &CertInfo, input: &ChainInput<'_>, err: &webpki::Error) -> Walk {
    let at = input.at;
    let mut problems = Vec::new();
    let mut send = vec![input.leaf.clone()];
    if let Some(p) = date_problem(
        leaf,
        at,
        |name, date| Problem::LeafExpired { name, date },
        |name, date| Problem::LeafNotYetValid { name, date },
    ) {
        problems.push(p);
    }
    if matches!(err, webpki::Error::RequiredEkuNotFoundContext(_))
        || (input.purpose == Purpose::Client && !leaf.client_auth)
        || (input.purpose == Purpose::Server && !leaf.server_auth)
    {
        problems.push(Problem::WrongUsage {
            name: leaf.subject_name.clone(),
            purpose: match input.purpose {
                Purpose::Client => "client authentication (clientAuth)".into(),
                Purpose::Server => "server authentication (serverAuth)".into(),
            },
        });
    }

    if matches!(err, webpki::Error::CaUsedAsEndEntity) {
        problems.push(Problem::Other {
            reason: format!(
                "`{}` is a CA certificate, not a client or server certificate",
                leaf.subject_name
            ),
        });
    }

    let mut current_der: CertificateDer<'static> = input.leaf.clone();
    let mut current: CertInfo = leaf.clone();
    for depth in 0..8 {
        let issuer_name = name_of_issuer(&current);
        // A trust anchor that issued it?
        let anchors: Vec<&Anchor> = input
            .store
            .anchors
            .iter()
            .filter(|a| same_name(&a.info, &current))
            .collect();
        let mut signing_anchors = Vec::new();
        let mut anchor_sig = None;
        for a in &anchors {
            let s = check_signature(&current_der, &a.der);
            if s != Sig::Bad {
                anchor_sig = Some(s);
                signing_anchors.push(*a);
            }
        }
        if !signing_anchors.is_empty() {
            if anchor_sig == Some(Sig::Unsupported) {
                problems.push(weak(&current));
            }
            if !signing_anchors.iter().any(|a| a.info.valid_at(at)) {
                let a = signing_anchors[0];
                if let Some(p) = date_problem(
                    &a.info,
                    at,
                    |name, date| Problem::RootExpired { name, date },
                    |name, date| Problem::Other {
                        reason: format!("root `{name}` is not valid until {date}"),
                    },
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
            let s = check_signature(&current_der, &c.der);
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
                if s == Sig::Unsupported {
                    problems.push(weak(&current));
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
    }
    Walk { problems, send }
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

fn name_of_issuer(info: &CertInfo) -> String {
    info.issuer_name.clone()
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
            .map(|s| crate::cli::parse_time(s).unwrap())
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
                purpose: s(),
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
        ];
        let cat = crate::guide::catalogue();
        for p in all {
            let (key, section) = p.fix_key();
            let fix = cat.fix_text(key).unwrap_or_else(|| panic!("no fix {key}"));
            assert!(!fix.en.is_empty() && !fix.ja.is_empty(), "{key}");
            assert!(cat.find(section).is_some(), "no section {section}");
            let (en, ja) = p.describe();
            assert!(!en.is_empty() && !ja.is_empty());
        }
    }
}

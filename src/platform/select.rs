//! Choosing the client certificate among the certificates of a store (Windows "MY").
//!
//! Pure logic over DER certificates, so it is tested on every platform: the Windows store
//! module feeds it what it lists, and every candidate comes back with the reasons it was or
//! was not chosen (expired, wrong issuer, no private key, …).

use crate::finding::Text;
use crate::profile::{wildcard_match, ClientCertSpec};
use der::Decode;
use std::fmt::Write as _;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::Certificate;

/// id-kp-clientAuth (RFC 5280).
const CLIENT_AUTH: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// What a person (and the selection) needs to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    pub der: Vec<u8>,
    /// RFC 4514 form, as x509-cert prints it (`CN=…,O=…,C=JP`).
    pub subject: String,
    pub subject_cn: Option<String>,
    /// The name Windows shows under "Issued To": the common name, else the organisational
    /// unit, else the organisation (SECOM's roots have no common name).
    pub subject_name: String,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SHA-1 of the DER, upper-case hex without separators: what Windows calls the thumbprint.
    pub thumbprint: String,
    /// basicConstraints cA=TRUE.
    pub is_ca: bool,
    /// `None`: no extendedKeyUsage extension; `Some(b)`: whether it lists clientAuth.
    pub client_auth_eku: Option<bool>,
}

impl CertSummary {
    pub fn from_der(der: &[u8]) -> Result<CertSummary, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let tbs = cert.tbs_certificate();
        let cn = |name: &x509_cert::name::Name| -> Option<String> {
            name.common_name()
                .ok()
                .flatten()
                .map(|d| d.value().trim().to_string())
        };
        let shown = |name: &x509_cert::name::Name| -> String {
            let ou = || {
                name.organization_unit()
                    .ok()
                    .flatten()
                    .map(|d| d.value().trim().to_string())
            };
            let o = || {
                name.organization()
                    .ok()
                    .flatten()
                    .map(|d| d.value().trim().to_string())
            };
            cn(name)
                .or_else(ou)
                .or_else(o)
                .unwrap_or_else(|| name.to_string())
        };
        let time = |t: x509_cert::time::Time| -> OffsetDateTime {
            let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
            OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let is_ca = matches!(
            tbs.get_extension::<BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        );
        let client_auth_eku = match tbs.get_extension::<ExtendedKeyUsage>() {
            Ok(Some((_, eku))) => Some(eku.0.contains(&CLIENT_AUTH)),
            _ => None,
        };
        Ok(CertSummary {
            der: der.to_vec(),
            subject: tbs.subject().to_string(),
            subject_cn: cn(tbs.subject()),
            subject_name: shown(tbs.subject()),
            issuer: tbs.issuer().to_string(),
            issuer_cn: cn(tbs.issuer()),
            not_before: time(tbs.validity().not_before),
            not_after: time(tbs.validity().not_after),
            thumbprint: sha1_hex(der),
            is_ca,
            client_auth_eku,
        })
    }

    /// The name to show a person (as Windows shows it).
    pub fn display_name(&self) -> &str {
        &self.subject_name
    }
}

fn sha1_hex(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    let mut out = String::with_capacity(40);
    for b in digest.as_ref() {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// A thumbprint as people paste it: hex with spaces or colons, often with the invisible
/// left-to-right mark that copying from the Windows certificate dialog adds. `None` when what
/// is left is not 40 hex digits.
pub fn normalize_thumbprint(input: &str) -> Option<String> {
    let hex: String = input
        .chars()
        .filter(|c| {
            !(c.is_whitespace() || matches!(c, ':' | '-' | '\u{200e}' | '\u{200f}' | '\u{feff}'))
        })
        .collect();
    (hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_uppercase())
}

/// How to pick the certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    /// `--cert-thumbprint` (normalised with [`normalize_thumbprint`]): picks exactly that one.
    pub thumbprint: Option<String>,
    /// `--cert-subject`: a case-insensitive part of the subject (`CN=…,O=…`).
    pub subject: Option<String>,
    /// The profile's wildcard pattern for the subject's common name (`S47*`).
    pub subject_pattern: Option<String>,
    /// Exact issuer common names expected.
    pub issuers: Vec<String>,
    /// Wildcard patterns of issuer common names of the same family.
    pub issuer_patterns: Vec<String>,
    /// A leaf without an extendedKeyUsage extension is refused.
    pub require_client_auth_eku: bool,
}

impl Criteria {
    /// The profile's expectations, with the person's explicit choice (if any) on top.
    pub fn from_profile(
        spec: &ClientCertSpec,
        thumbprint: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Criteria, String> {
        let thumbprint = match thumbprint {
            Some(t) => Some(normalize_thumbprint(t).ok_or_else(|| {
                format!("--cert-thumbprint {t:?} is not a certificate thumbprint (40 hex digits, as certmgr.msc shows it)")
            })?),
            None => None,
        };
        Ok(Criteria {
            thumbprint,
            subject: subject.map(str::to_string),
            subject_pattern: spec.subject_pattern.clone(),
            issuers: spec.issuers.clone(),
            issuer_patterns: spec.issuer_patterns.clone(),
            require_client_auth_eku: spec.require_client_auth_eku,
        })
    }

    fn explicit(&self) -> bool {
        self.thumbprint.is_some() || self.subject.is_some()
    }
}

/// One certificate of a store, as the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub cert: CertSummary,
    /// The store links a private key to it (it may still be on a smart card that is not inserted).
    pub has_private_key: bool,
    /// The key storage provider, e.g. "Microsoft Software Key Storage Provider".
    pub key_provider: Option<String>,
}

/// Why a certificate was not (or not simply) chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    ThumbprintMismatch,
    SubjectMismatch {
        wanted: String,
    },
    SubjectPatternMismatch {
        pattern: String,
    },
    WrongIssuer {
        issuer: String,
        expected: Vec<String>,
    },
    Expired {
        not_after: OffsetDateTime,
    },
    NotYetValid {
        not_before: OffsetDateTime,
    },
    NoPrivateKey,
    IsCa,
    NotForClientAuth,
    NoClientAuthEku,
    /// Acceptable, but another acceptable one (valid longer) was chosen.
    OtherChosen {
        thumbprint: String,
    },
}

impl Reason {
    /// Whether the reason rules the certificate out of an automatic choice.
    fn disqualifies(&self) -> bool {
        !matches!(self, Reason::OtherChosen { .. })
    }

    /// Whether the reason keeps the person's explicit choice from being usable at all.
    fn blocks_explicit(&self) -> bool {
        matches!(self, Reason::NoPrivateKey)
    }

    pub fn describe(&self) -> Text {
        fn date(t: &OffsetDateTime) -> String {
            t.date().to_string()
        }
        use crate::guide::phrase;
        match self {
            Reason::ThumbprintMismatch => phrase("platform.select.thumbprint_mismatch", &[]),
            Reason::SubjectMismatch { wanted } => {
                phrase("platform.select.subject_mismatch", &[("wanted", wanted)])
            }
            Reason::SubjectPatternMismatch { pattern } => {
                phrase("platform.select.pattern_mismatch", &[("pattern", pattern)])
            }
            Reason::WrongIssuer { issuer, expected } => phrase(
                "platform.select.wrong_issuer",
                &[("issuer", issuer), ("expected", &expected.join(", "))],
            ),
            Reason::Expired { not_after } => {
                phrase("platform.select.expired", &[("date", &date(not_after))])
            }
            Reason::NotYetValid { not_before } => phrase(
                "platform.select.not_yet_valid",
                &[("date", &date(not_before))],
            ),
            Reason::NoPrivateKey => phrase("platform.select.no_private_key", &[]),
            Reason::IsCa => phrase("platform.select.is_ca", &[]),
            Reason::NotForClientAuth => phrase("platform.select.not_for_client_auth", &[]),
            Reason::NoClientAuthEku => phrase("platform.select.no_client_auth_eku", &[]),
            Reason::OtherChosen { thumbprint } => phrase(
                "platform.select.other_chosen",
                &[("thumbprint", thumbprint)],
            ),
        }
    }
}

/// The outcome for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub candidate: Candidate,
    pub chosen: bool,
    /// For the chosen one: problems it still has (an explicit choice is honoured even when
    /// expired or wrongly issued, so the later checks can say so). For the others: why not.
    pub reasons: Vec<Reason>,
}

/// Every candidate with its verdict; `chosen` indexes `verdicts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub verdicts: Vec<Verdict>,
    pub chosen: Option<usize>,
}

impl Selection {
    pub fn chosen(&self) -> Option<&Verdict> {
        self.chosen.and_then(|i| self.verdicts.get(i))
    }
}

fn reasons_for(c: &Candidate, criteria: &Criteria, at: OffsetDateTime) -> Vec<Reason> {
    let cert = &c.cert;
    let mut r = Vec::new();
    if let Some(t) = &criteria.thumbprint {
        if !cert.thumbprint.eq_ignore_ascii_case(t) {
            r.push(Reason::ThumbprintMismatch);
        }
    }
    if let Some(s) = &criteria.subject {
        if !cert.subject.to_lowercase().contains(&s.to_lowercase()) {
            r.push(Reason::SubjectMismatch { wanted: s.clone() });
        }
    }
    if !criteria.explicit() {
        if let Some(p) = &criteria.subject_pattern {
            if !cert
                .subject_cn
                .as_deref()
                .is_some_and(|cn| wildcard_match(p, cn))
            {
                r.push(Reason::SubjectPatternMismatch { pattern: p.clone() });
            }
        }
    }
    if !criteria.issuers.is_empty() || !criteria.issuer_patterns.is_empty() {
        let icn = cert.issuer_cn.as_deref().unwrap_or("");
        let ok = criteria.issuers.iter().any(|i| i.eq_ignore_ascii_case(icn))
            || criteria
                .issuer_patterns
                .iter()
                .any(|p| wildcard_match(p, icn));
        if !ok {
            let mut expected = criteria.issuers.clone();
            expected.extend(criteria.issuer_patterns.iter().cloned());
            r.push(Reason::WrongIssuer {
                issuer: cert
                    .issuer_cn
                    .clone()
                    .unwrap_or_else(|| cert.issuer.clone()),
                expected,
            });
        }
    }
    if at > cert.not_after {
        r.push(Reason::Expired {
            not_after: cert.not_after,
        });
    } else if at < cert.not_before {
        r.push(Reason::NotYetValid {
            not_before: cert.not_before,
        });
    }
    if !c.has_private_key {
        r.push(Reason::NoPrivateKey);
    }
    if cert.is_ca {
        r.push(Reason::IsCa);
    }
    match cert.client_auth_eku {
        Some(false) => r.push(Reason::NotForClientAuth),
        None if criteria.require_client_auth_eku => r.push(Reason::NoClientAuthEku),
        _ => {}
    }
    r
}

/// Pick the client certificate among `candidates` at time `at`.
///
/// Without an explicit choice, only certificates with no disqualifying reason are eligible, and
/// the one valid longest wins. With `--cert-thumbprint` / `--cert-subject`, the matching
/// certificate with a private key is chosen even if it is expired or wrongly issued; its problems
/// stay in its reasons for the later checks to report.
pub fn select(candidates: Vec<Candidate>, criteria: &Criteria, at: OffsetDateTime) -> Selection {
    let mut verdicts: Vec<Verdict> = candidates
        .into_iter()
        .map(|c| {
            let reasons = reasons_for(&c, criteria, at);
            Verdict {
                candidate: c,
                chosen: false,
                reasons,
            }
        })
        .collect();

    let eligible = |v: &Verdict| -> bool {
        if criteria.explicit() {
            !v.reasons.iter().any(|r| {
                r.blocks_explicit()
                    || matches!(
                        r,
                        Reason::ThumbprintMismatch | Reason::SubjectMismatch { .. } | Reason::IsCa
                    )
            })
        } else {
            !v.reasons.iter().any(Reason::disqualifies)
        }
    };
    // Among the eligible, prefer fewer problems, then the latest expiry.
    let chosen = verdicts
        .iter()
        .enumerate()
        .filter(|(_, v)| eligible(v))
        .max_by(|(_, a), (_, b)| {
            b.reasons
                .len()
                .cmp(&a.reasons.len())
                .then(a.candidate.cert.not_after.cmp(&b.candidate.cert.not_after))
        })
        .map(|(i, _)| i);

    if let Some(i) = chosen {
        verdicts[i].chosen = true;
        let winner = verdicts[i].candidate.cert.thumbprint.clone();
        for (j, v) in verdicts.iter_mut().enumerate() {
            if j != i && v.reasons.is_empty() {
                v.reasons.push(Reason::OtherChosen {
                    thumbprint: winner.clone(),
                });
            }
        }
    }
    Selection { verdicts, chosen }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints as RcBc, CertificateParams, DistinguishedName, DnType,
        ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    use time::macros::datetime;

    struct Ca {
        params: CertificateParams,
        key: KeyPair,
    }

    fn ca(cn: &str) -> Ca {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(RcBc::Unconstrained);
        Ca {
            params: p,
            key: KeyPair::generate().unwrap(),
        }
    }

    fn leaf(
        cn: &str,
        issuer: &Ca,
        from: OffsetDateTime,
        to: OffsetDateTime,
        eku: Option<ExtendedKeyUsagePurpose>,
    ) -> CertSummary {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        dn.push(DnType::OrganizationName, "Example Co");
        p.distinguished_name = dn;
        p.not_before = from;
        p.not_after = to;
        if let Some(e) = eku {
            p.extended_key_usages = vec![e];
        }
        let key = KeyPair::generate().unwrap();
        let iss = Issuer::from_params(&issuer.params, &issuer.key);
        let cert = p.signed_by(&key, &iss).unwrap();
        CertSummary::from_der(cert.der()).unwrap()
    }

    fn cand(cert: CertSummary, key: bool) -> Candidate {
        Candidate {
            cert,
            has_private_key: key,
            key_provider: None,
        }
    }

    const AT: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn profile_criteria() -> Criteria {
        Criteria {
            subject_pattern: Some("S47*".into()),
            issuers: vec!["Member CA1".into()],
            issuer_patterns: vec!["Member CA*".into()],
            ..Criteria::default()
        }
    }

    #[test]
    fn summary_reads_names_dates_and_thumbprint() {
        let ca1 = ca("Member CA1");
        let s = leaf(
            "S47000001",
            &ca1,
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2027-01-01 00:00 UTC),
            Some(ExtendedKeyUsagePurpose::ClientAuth),
        );
        assert_eq!(s.subject_cn.as_deref(), Some("S47000001"));
        assert!(s.subject.contains("O=Example Co"), "{}", s.subject);
        assert_eq!(s.issuer_cn.as_deref(), Some("Member CA1"));
        assert_eq!(s.not_after, datetime!(2027-01-01 00:00 UTC));
        assert_eq!(s.thumbprint.len(), 40);
        assert_eq!(s.thumbprint, s.thumbprint.to_uppercase());
        assert_eq!(s.client_auth_eku, Some(true));
        assert!(!s.is_ca);
        assert!(CertSummary::from_der(b"nonsense").is_err());
    }

    #[test]
    fn thumbprint_normalisation() {
        let t = "\u{200e}ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01";
        assert_eq!(
            normalize_thumbprint(t).as_deref(),
            Some("ABCDEF0123456789ABCDEF0123456789ABCDEF01")
        );
        assert_eq!(normalize_thumbprint("AB:CD"), None);
        assert_eq!(normalize_thumbprint(&"zz".repeat(20)), None);
    }

    #[test]
    fn picks_the_valid_one_and_says_why_not_the_others() {
        let ca1 = ca("Member CA1");
        let other = ca("Someone Else CA");
        let y = |a: i32, b: i32| {
            (
                datetime!(2020-01-01 00:00 UTC).replace_year(a).unwrap(),
                datetime!(2020-01-01 00:00 UTC).replace_year(b).unwrap(),
            )
        };
        let (f, t) = y(2026, 2027);
        let good = leaf("S47000001", &ca1, f, t, None);
        let (f2, t2) = y(2026, 2028);
        let good_longer = leaf("S47000002", &ca1, f2, t2, None);
        let (f3, t3) = y(2024, 2025);
        let expired = leaf("S47000003", &ca1, f3, t3, None);
        let wrong_issuer = leaf("S47000004", &other, f, t, None);
        let no_key = leaf("S47000005", &ca1, f2, datetime!(2029-01-01 00:00 UTC), None);
        let other_name = leaf("Alice", &ca1, f, t, None);
        let server_only = leaf(
            "S47000006",
            &ca1,
            f,
            t,
            Some(ExtendedKeyUsagePurpose::ServerAuth),
        );

        let sel = select(
            vec![
                cand(good.clone(), true),
                cand(good_longer.clone(), true),
                cand(expired, true),
                cand(wrong_issuer, true),
                cand(no_key, false),
                cand(other_name, true),
                cand(server_only, true),
            ],
            &profile_criteria(),
            AT,
        );
        assert_eq!(sel.chosen, Some(1));
        let chosen = sel.chosen().unwrap();
        assert!(chosen.chosen && chosen.reasons.is_empty());
        let r = |i: usize| sel.verdicts[i].reasons.clone();
        assert_eq!(
            r(0),
            vec![Reason::OtherChosen {
                thumbprint: good_longer.thumbprint.clone()
            }]
        );
        assert!(matches!(r(2).as_slice(), [Reason::Expired { .. }]));
        assert!(
            matches!(r(3).as_slice(), [Reason::WrongIssuer { issuer, .. }] if issuer == "Someone Else CA")
        );
        assert_eq!(r(4), vec![Reason::NoPrivateKey]);
        assert!(matches!(
            r(5).as_slice(),
            [Reason::SubjectPatternMismatch { .. }]
        ));
        assert_eq!(r(6), vec![Reason::NotForClientAuth]);
        // Every reason reads in both languages.
        for v in &sel.verdicts {
            for reason in &v.reasons {
                let t = reason.describe();
                assert!(!t.en.is_empty() && !t.ja.is_empty());
            }
        }
    }

    #[test]
    fn nothing_eligible_means_no_choice() {
        let ca1 = ca("Member CA1");
        let expired = leaf(
            "S47000003",
            &ca1,
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2025-01-01 00:00 UTC),
            None,
        );
        let sel = select(vec![cand(expired, true)], &profile_criteria(), AT);
        assert_eq!(sel.chosen, None);
        assert!(matches!(
            sel.verdicts[0].reasons.as_slice(),
            [Reason::Expired { .. }]
        ));
        assert_eq!(select(vec![], &profile_criteria(), AT).chosen, None);
    }

    #[test]
    fn explicit_thumbprint_wins_even_when_expired_but_needs_a_key() {
        let ca1 = ca("Member CA1");
        let valid = leaf(
            "S47000001",
            &ca1,
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2027-01-01 00:00 UTC),
            None,
        );
        let expired = leaf(
            "Old Name",
            &ca1,
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2025-01-01 00:00 UTC),
            None,
        );
        let spec = ClientCertSpec {
            subject_pattern: Some("S47*".into()),
            issuers: vec!["Member CA1".into()],
            issuer_patterns: vec![],
            roots: vec![],
            successor_roots: vec![],
            require_client_auth_eku: false,
            expiry_warning_days: 30,
        };
        let spaced: String = expired
            .thumbprint
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        let crit = Criteria::from_profile(&spec, Some(&spaced), None).unwrap();
        let sel = select(
            vec![cand(valid.clone(), true), cand(expired.clone(), true)],
            &crit,
            AT,
        );
        assert_eq!(sel.chosen, Some(1));
        // The explicit choice keeps its problem for the later checks; the pattern is not applied.
        assert!(matches!(
            sel.verdicts[1].reasons.as_slice(),
            [Reason::Expired { .. }]
        ));
        assert_eq!(sel.verdicts[0].reasons, vec![Reason::ThumbprintMismatch]);

        let sel = select(vec![cand(expired, false)], &crit, AT);
        assert_eq!(
            sel.chosen, None,
            "a certificate without its key cannot be used"
        );

        let crit = Criteria::from_profile(&spec, None, Some("o=example")).unwrap();
        let sel = select(vec![cand(valid, true)], &crit, AT);
        assert_eq!(sel.chosen, Some(0));
        assert!(Criteria::from_profile(&spec, Some("1234"), None).is_err());
    }
}

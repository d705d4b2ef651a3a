//! The second pass over a path webpki built: the RFC 5280 rules webpki does not apply, or
//! applies differently from OpenSSL, read from the certificates themselves (x509-cert).
//!
//! The rules, and whether each makes the path fail or only warns:
//!
//! | rule | outcome |
//! |---|---|
//! | a CA (intermediate or anchor) whose key usage lacks keyCertSign (RFC 5280 4.2.1.3) | failure: OpenSSL refuses it in its default mode |
//! | an anchor with basic constraints cA=FALSE | failure: OpenSSL refuses it |
//! | an unknown critical extension in the anchor (webpki does not look at the anchor's) | failure: RFC 5280 4.2 |
//! | AKI missing (not self-issued) or critical; SKI missing (CA) or critical | warning |
//! | a CA with an empty subject, without key usage, or with basic constraints not critical | warning |
//! | keyCertSign on a certificate that is not a CA | warning |
//! | an anchor (v3) without basic constraints | warning |
//!
//! Warnings are what `openssl verify -x509_strict` refuses and servers in their usual
//! configuration accept; `certprobe --strict` turns them into failures.
//!
//! When webpki refuses a path for one of its own limits ([`webpki_limit`]: it counts
//! self-issued intermediates toward pathLenConstraint, applies name constraints to them, and
//! refuses every rfc822 (e-mail) or directoryName constraint), [`rfc5280_failures`] decides
//! instead, with RFC 5280 6.1's rules and [`super::names`] for the name constraints.

use super::names::{self, NameForm};
use der::oid::ObjectIdentifier;
use der::Decode;
use serde::Serialize;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, NameConstraints, SubjectKeyIdentifier,
};
use x509_cert::Certificate;

/// Extensions certprobe (and webpki) understand when they are critical.
const KNOWN_CRITICAL: &[&str] = &[
    "2.5.29.15", // keyUsage
    "2.5.29.19", // basicConstraints
    "2.5.29.37", // extKeyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.30", // nameConstraints
    "2.5.29.14", // subjectKeyIdentifier (critical is a lint)
    "2.5.29.35", // authorityKeyIdentifier (critical is a lint)
];

/// Where a certificate sits in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leaf,
    Intermediate,
    Root,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Leaf => "chain.role.leaf",
            Role::Intermediate => "chain.role.intermediate",
            Role::Root => "chain.role.root",
        }
    }
}

/// One certificate of the path, parsed once.
pub struct PathCert {
    pub cert: Certificate,
    pub name: String,
    pub role: Role,
    /// 1 for the certificate being checked, counting up toward the anchor.
    pub pos: usize,
}

impl PathCert {
    /// `None`: x509-cert cannot read it (webpki could, or it would not be on a path).
    pub fn parse(der: &[u8], name: &str, role: Role, pos: usize) -> Option<PathCert> {
        Certificate::from_der(der).ok().map(|cert| PathCert {
            cert,
            name: name.to_string(),
            role,
            pos,
        })
    }

    fn ext<'a, T: Decode<'a> + der::oid::AssociatedOid>(&'a self) -> Option<(bool, T)> {
        self.cert
            .tbs_certificate()
            .get_extension::<T>()
            .ok()
            .flatten()
    }

    pub fn self_issued(&self) -> bool {
        let t = self.cert.tbs_certificate();
        t.subject() == t.issuer()
    }

    fn is_ca(&self) -> bool {
        self.ext::<BasicConstraints>().is_some_and(|(_, b)| b.ca)
    }

    /// The OIDs of critical extensions certprobe does not understand.
    pub fn unknown_critical(&self) -> Vec<ObjectIdentifier> {
        self.cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .filter(|e| e.critical && !KNOWN_CRITICAL.contains(&e.extn_id.to_string().as_str()))
            .map(|e| e.extn_id)
            .collect()
    }
}

/// A rule broken by one certificate of the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The catalogue key of the message (`chain.…` or `chain.lint.…`).
    pub rule: &'static str,
    pub name: String,
    pub role: Role,
    pub pos: usize,
    /// Further placeholders of the message (`child`, `limit`, `value`, …).
    pub args: Vec<(String, String)>,
}

impl Breach {
    pub fn of(rule: &'static str, c: &PathCert) -> Breach {
        Breach {
            rule,
            name: c.name.clone(),
            role: c.role,
            pos: c.pos,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, k: &str, v: impl Into<String>) -> Breach {
        self.args.push((k.to_string(), v.into()));
        self
    }
}

/// An OID by its name when the registry knows it (`2.5.29.32` → `certificatePolicies`).
pub fn oid_name(oid: &ObjectIdentifier) -> String {
    match der::oid::db::DB.by_oid(oid) {
        Some(n) => format!("{n} ({oid})"),
        None => oid.to_string(),
    }
}

/// The second pass over a path webpki accepted: failures first, then warnings.
/// `path` runs from the certificate being checked to the anchor (when the anchor's whole
/// certificate is known, it is the last element with role [`Role::Root`]).
pub fn second_pass(path: &[PathCert]) -> (Vec<Breach>, Vec<Breach>) {
    let mut fail = Vec::new();
    let mut warn = Vec::new();
    for (i, c) in path.iter().enumerate() {
        let child = i.checked_sub(1).map(|j| path[j].name.clone());
        let ku = c.ext::<KeyUsage>();
        let bc = c.ext::<BasicConstraints>();
        if c.role != Role::Leaf {
            if let Some((_, ku)) = &ku {
                if !ku.key_cert_sign() {
                    fail.push(
                        Breach::of("chain.ca_no_key_cert_sign", c)
                            .with("child", child.clone().unwrap_or_default()),
                    );
                }
            }
        }
        if let Some((true, _)) = c.ext::<AuthorityKeyIdentifier>() {
            fail.push(Breach::of("chain.aki_critical", c));
        }
        if let Some((true, _)) = c.ext::<SubjectKeyIdentifier>() {
            fail.push(Breach::of("chain.ski_critical", c));
        }
        if let Some((_, nc)) = c.ext::<NameConstraints>() {
            let empty = |s: &Option<Vec<_>>| s.as_ref().is_none_or(|v| v.is_empty());
            if empty(&nc.permitted_subtrees) && empty(&nc.excluded_subtrees) {
                fail.push(Breach::of("chain.extension_invalid", c).with("ext", "nameConstraints"));
            }
        }
        if c.role == Role::Root {
            // webpki's anchors carry no basic constraints: the anchor's pathLenConstraint is ours.
            if let Some(limit) = bc.as_ref().and_then(|(_, b)| b.path_len_constraint) {
                let count = path[1..i].iter().filter(|p| !p.self_issued()).count();
                if count > usize::from(limit) {
                    fail.push(
                        Breach::of("chain.path_len", c)
                            .with("limit", limit.to_string())
                            .with("count", count.to_string()),
                    );
                }
            }
            match &bc {
                Some((_, b)) if !b.ca => fail.push(Breach::of("chain.anchor_not_ca", c)),
                None if c.cert.tbs_certificate().version() == x509_cert::Version::V3 => {
                    warn.push(Breach::of("chain.lint.anchor_no_bc", c))
                }
                _ => {}
            }
            if let Some(oid) = c.unknown_critical().first() {
                fail.push(Breach::of("chain.critical_extension", c).with("ext", oid_name(oid)));
            }
        }
        lint(c, &mut warn);
    }
    (fail, warn)
}

/// The strict-mode lints of one certificate.
fn lint(c: &PathCert, warn: &mut Vec<Breach>) {
    let ca = c.role != Role::Leaf || c.is_ca();
    if c.ext::<AuthorityKeyIdentifier>().is_none() && !c.self_issued() {
        warn.push(Breach::of("chain.lint.aki_missing", c));
    }
    if c.ext::<SubjectKeyIdentifier>().is_none() && ca {
        warn.push(Breach::of("chain.lint.ski_missing", c));
    }
    if let Some((critical, _)) = c.ext::<NameConstraints>() {
        if !ca {
            warn.push(Breach::of("chain.lint.nc_in_leaf", c));
        } else if !critical {
            warn.push(Breach::of("chain.lint.nc_not_critical", c));
        }
    }
    let ku = c.ext::<KeyUsage>();
    if ca {
        if c.cert.tbs_certificate().subject().is_empty() {
            warn.push(Breach::of("chain.lint.empty_ca_subject", c));
        }
        if ku.is_none() {
            warn.push(Breach::of("chain.lint.ca_no_key_usage", c));
        }
        if let Some((false, b)) = c.ext::<BasicConstraints>() {
            if b.ca {
                warn.push(Breach::of("chain.lint.bc_not_critical", c));
            }
        }
    } else if ku.is_some_and(|(_, k)| k.key_cert_sign()) {
        warn.push(Breach::of("chain.lint.leaf_key_cert_sign", c));
    }
}

/// Is this webpki error one of webpki's own limits, where RFC 5280 may still accept the path?
pub fn webpki_limit(e: &webpki::Error) -> bool {
    matches!(
        e,
        webpki::Error::PathLenConstraintViolated
            | webpki::Error::NameConstraintViolation
            | webpki::Error::UnsupportedNameType
            | webpki::Error::InvalidSignatureForPublicKey
    )
}

/// RFC 5280 6.1 over a path built by name and signature (signatures and dates already
/// checked): basic constraints, key usage, pathLenConstraint with self-issued intermediates
/// not counted (6.1.4 (l)), name constraints not applied to self-issued intermediates
/// (6.1.3 (b)), unknown critical extensions.
pub fn rfc5280_failures(path: &[PathCert]) -> Vec<Breach> {
    let mut fail = Vec::new();
    let mut budget = names::BUDGET;
    for (i, c) in path.iter().enumerate() {
        if let Some(oid) = c.unknown_critical().first() {
            fail.push(Breach::of("chain.critical_extension", c).with("ext", oid_name(oid)));
        }
        if i == 0 {
            continue;
        }
        let child = &path[i - 1];
        let v1_anchor =
            c.role == Role::Root && c.cert.tbs_certificate().version() == x509_cert::Version::V1;
        if !c.is_ca() && !v1_anchor {
            fail.push(Breach::of("chain.not_ca", c).with("child", child.name.clone()));
            continue;
        }
        if let Some((_, b)) = c.ext::<BasicConstraints>() {
            if let Some(limit) = b.path_len_constraint {
                // Intermediates below this CA, self-issued ones not counted.
                let count = path[1..i].iter().filter(|p| !p.self_issued()).count();
                if count > usize::from(limit) {
                    fail.push(
                        Breach::of("chain.path_len", c)
                            .with("limit", limit.to_string())
                            .with("count", count.to_string()),
                    );
                }
            }
        }
        if let Some((_, nc)) = c.ext::<NameConstraints>() {
            // The certificates below, except self-issued intermediates.
            for below in path[..i].iter().filter(|p| p.pos == 1 || !p.self_issued()) {
                if let Some(b) = name_breach(c, &nc, below, &mut budget) {
                    fail.push(b);
                    break;
                }
            }
        }
    }
    fail
}

fn name_breach(
    ca: &PathCert,
    nc: &NameConstraints,
    below: &PathCert,
    budget: &mut usize,
) -> Option<Breach> {
    let child = |rule| {
        Breach::of(rule, ca)
            .with("child", below.name.clone())
            .with("child_pos", below.pos.to_string())
    };
    match names::check(nc, &below.cert, budget) {
        Ok(()) => None,
        Err(names::Refusal::TooMany) => Some(child("chain.name_constraint_budget")),
        Err(names::Refusal::Outside(value)) => {
            Some(child("chain.name_constraint").with("value", value))
        }
        Err(names::Refusal::Unsupported(form, value)) => Some(
            child("chain.name_form_unsupported")
                .with("form", NameForm::label(form))
                .with("value", value),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints as Bc, CertificateParams, CustomExtension, IsCa, KeyPair,
        KeyUsagePurpose as Ku,
    };

    struct Ca {
        params: CertificateParams,
        key: KeyPair,
        cert: rcgen::Certificate,
    }

    fn ca(
        cn: &str,
        usage: &[Ku],
        issuer: Option<&Ca>,
        f: impl FnOnce(&mut CertificateParams),
    ) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(Bc::Unconstrained);
        params.key_usages = usage.to_vec();
        f(&mut params);
        let cert = match issuer {
            Some(i) => {
                let issuer = rcgen::Issuer::from_params(&i.params, &i.key);
                params.signed_by(&key, &issuer).unwrap()
            }
            None => params.self_signed(&key).unwrap(),
        };
        Ca { params, key, cert }
    }

    fn path(certs: &[(&Ca, Role)]) -> Vec<PathCert> {
        certs
            .iter()
            .enumerate()
            .map(|(i, (c, r))| PathCert::parse(c.cert.der(), "x", *r, i + 1).unwrap())
            .collect()
    }

    #[test]
    fn a_ca_without_key_cert_sign_fails_and_a_lint_only_warns() {
        let root = ca("R", &[Ku::KeyCertSign, Ku::CrlSign], None, |_| {});
        let bad = ca("I", &[Ku::DigitalSignature], Some(&root), |_| {});
        let p = path(&[(&bad, Role::Intermediate), (&root, Role::Root)]);
        let (fail, _) = second_pass(&p);
        assert_eq!(fail.len(), 1);
        assert_eq!(fail[0].rule, "chain.ca_no_key_cert_sign");
        assert_eq!(fail[0].pos, 1);

        let good = ca("I", &[Ku::KeyCertSign], Some(&root), |p| {
            p.custom_extensions
                .push(CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![5, 0]));
        });
        let (fail, _) = second_pass(&path(&[(&good, Role::Intermediate), (&root, Role::Root)]));
        assert!(fail.is_empty(), "{fail:?}");
    }

    #[test]
    fn an_unknown_critical_extension_in_the_anchor_fails() {
        let root = ca("R", &[Ku::KeyCertSign], None, |p| {
            let mut e = CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![5, 0]);
            e.set_criticality(true);
            p.custom_extensions.push(e);
        });
        let (fail, _) = second_pass(&path(&[(&root, Role::Root)]));
        assert_eq!(fail[0].rule, "chain.critical_extension");
    }

    #[test]
    fn self_issued_intermediates_do_not_count_toward_path_len() {
        let root = ca("R", &[Ku::KeyCertSign], None, |p| {
            p.is_ca = IsCa::Ca(Bc::Constrained(0));
        });
        // A key rollover certificate: same name as the root, another key.
        let rollover = ca("R", &[Ku::KeyCertSign], Some(&root), |_| {});
        let leafish = ca("L", &[Ku::KeyCertSign], Some(&rollover), |_| {});
        let p = path(&[
            (&leafish, Role::Leaf),
            (&rollover, Role::Intermediate),
            (&root, Role::Root),
        ]);
        assert!(p[1].self_issued());
        assert!(rfc5280_failures(&p).is_empty());
        // A second, not self-issued intermediate is one too many.
        let other = ca("O", &[Ku::KeyCertSign], Some(&root), |_| {});
        let below = ca("L", &[Ku::KeyCertSign], Some(&other), |_| {});
        let p = path(&[
            (&below, Role::Leaf),
            (&other, Role::Intermediate),
            (&root, Role::Root),
        ]);
        let f = rfc5280_failures(&p);
        assert_eq!(f[0].rule, "chain.path_len", "{f:?}");
    }
}

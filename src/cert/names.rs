//! Name constraints (RFC 5280 4.2.1.10) evaluated by certprobe itself, for the forms webpki
//! refuses outright (rfc822 e-mail addresses, directory names) and the ones it handles.
//!
//! The rule, per name form present in the constraints:
//! - every name of that form in the certificate must lie in at least one permitted subtree of
//!   that form (when the CA lists any), and in no excluded subtree of that form;
//! - names of a form the constraints do not mention are not restricted.
//!
//! Matching, per form:
//! - **rfc822** (e-mail). A constraint `user@host` is that one mailbox (the host compared
//!   without regard to case, the local part exactly); `host` is every mailbox at exactly that
//!   host; `.domain` is every mailbox at a host *below* that domain (not at `domain` itself).
//!   The names checked are the subjectAltName rfc822Name entries and, when the certificate has
//!   none, the subject's emailAddress attributes.
//! - **dNSName**: `example.com` covers itself and every name below it; `.example.com` only the
//!   names below it; compared without regard to case; an empty constraint covers everything.
//! - **iPAddress**: address and mask; an IPv4 constraint says nothing about IPv6 names.
//! - **directoryName**: the constraint's RDNs are a prefix of the subject's RDNs (compared as
//!   DER). An empty subject is not constrained.
//! - Any other form (URI, otherName, …) named in the constraints and present in the
//!   certificate cannot be evaluated here: the path is refused, as RFC 5280 requires.

use der::asn1::Ia5String;
use der::Encode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{NameConstraints, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::Certificate;

/// The forms of names, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameForm {
    Rfc822,
    Dns,
    Ip,
    Directory,
    Uri,
    Other,
}

impl NameForm {
    pub fn label(self) -> &'static str {
        match self {
            NameForm::Rfc822 => "rfc822Name (e-mail)",
            NameForm::Dns => "dNSName",
            NameForm::Ip => "iPAddress",
            NameForm::Directory => "directoryName",
            NameForm::Uri => "uniformResourceIdentifier",
            NameForm::Other => "otherName/registeredID/ediPartyName",
        }
    }

    fn of(g: &GeneralName) -> NameForm {
        match g {
            GeneralName::Rfc822Name(_) => NameForm::Rfc822,
            GeneralName::DnsName(_) => NameForm::Dns,
            GeneralName::IpAddress(_) => NameForm::Ip,
            GeneralName::DirectoryName(_) => NameForm::Directory,
            GeneralName::UniformResourceIdentifier(_) => NameForm::Uri,
            _ => NameForm::Other,
        }
    }
}

/// Why a certificate's names break a CA's constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This name lies outside the permitted subtrees or inside an excluded one.
    Outside(String),
    /// The constraints name a form certprobe cannot evaluate, and the certificate has such a name.
    Unsupported(NameForm, String),
    /// More comparisons than [`BUDGET`] allows.
    TooMany,
}

/// The names of `cert` that name constraints apply to.
fn names_of(cert: &Certificate) -> Vec<GeneralName> {
    let tbs = cert.tbs_certificate();
    let mut out: Vec<GeneralName> = tbs
        .get_extension::<SubjectAltName>()
        .ok()
        .flatten()
        .map(|(_, s)| s.0)
        .unwrap_or_default();
    let subject = tbs.subject();
    if !subject.is_empty() {
        out.push(GeneralName::DirectoryName(subject.clone()));
    }
    if !out.iter().any(|g| matches!(g, GeneralName::Rfc822Name(_))) {
        // emailAddress attributes of the subject (RFC 5280 4.2.1.10, last paragraph of rfc822).
        const EMAIL: der::oid::ObjectIdentifier =
            der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
        for atv in subject.iter() {
            if atv.oid == EMAIL {
                let s = std::str::from_utf8(atv.value.value()).unwrap_or_default();
                if let Ok(a) = Ia5String::new(s) {
                    out.push(GeneralName::Rfc822Name(a));
                }
            }
        }
    }
    out
}

fn show(g: &GeneralName) -> String {
    super::info::general_name(g)
}

/// Does `name` lie in the subtree `base`? `None`: same form, but certprobe cannot evaluate it.
fn within(name: &GeneralName, base: &GeneralName) -> Option<bool> {
    match (name, base) {
        (GeneralName::Rfc822Name(n), GeneralName::Rfc822Name(b)) => {
            Some(rfc822_within(n.as_str(), b.as_str()))
        }
        (GeneralName::DnsName(n), GeneralName::DnsName(b)) => {
            Some(dns_within(n.as_str(), b.as_str()))
        }
        (GeneralName::IpAddress(n), GeneralName::IpAddress(b)) => {
            Some(ip_within(n.as_bytes(), b.as_bytes()))
        }
        (GeneralName::DirectoryName(n), GeneralName::DirectoryName(b)) => Some(dn_within(n, b)),
        _ => None,
    }
}

/// An e-mail address against an rfc822Name constraint (see the module's rule).
pub fn rfc822_within(addr: &str, constraint: &str) -> bool {
    let Some((local, host)) = addr.rsplit_once('@') else {
        return false;
    };
    match constraint.rsplit_once('@') {
        Some((c_local, c_host)) => local == c_local && host.eq_ignore_ascii_case(c_host),
        None if constraint.starts_with('.') => {
            host.len() > constraint.len()
                && host[host.len() - constraint.len()..].eq_ignore_ascii_case(constraint)
        }
        None => host.eq_ignore_ascii_case(constraint),
    }
}

/// A DNS name against a dNSName constraint.
pub fn dns_within(name: &str, constraint: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let c = constraint.trim_end_matches('.').to_ascii_lowercase();
    if c.is_empty() {
        return true;
    }
    if let Some(rest) = c.strip_prefix('.') {
        return name.len() > rest.len() + 1 && name.ends_with(&c);
    }
    name == c || (name.len() > c.len() && name.ends_with(&format!(".{c}")))
}

fn ip_within(addr: &[u8], constraint: &[u8]) -> bool {
    if constraint.len() != addr.len() * 2 {
        return false;
    }
    let (base, mask) = constraint.split_at(addr.len());
    addr.iter()
        .zip(base.iter().zip(mask))
        .all(|(a, (b, m))| a & m == b & m)
}

fn dn_within(name: &Name, base: &Name) -> bool {
    let n: Vec<&_> = name.iter_rdn().collect();
    let b: Vec<&_> = base.iter_rdn().collect();
    b.len() <= n.len()
        && b.iter()
            .zip(&n)
            .all(|(x, y)| x.to_der().ok() == y.to_der().ok())
}

/// At most this many comparisons of a name with a subtree for one path (webpki allows
/// 250 000): a certificate with thousands of names and constraints must not stall the run.
pub const BUDGET: usize = 250_000;

/// Check every name of `cert` against one CA's constraints; `budget` counts comparisons.
pub fn check(nc: &NameConstraints, cert: &Certificate, budget: &mut usize) -> Result<(), Refusal> {
    let permitted: Vec<&GeneralName> = nc
        .permitted_subtrees
        .iter()
        .flatten()
        .map(|s| &s.base)
        .collect();
    let excluded: Vec<&GeneralName> = nc
        .excluded_subtrees
        .iter()
        .flatten()
        .map(|s| &s.base)
        .collect();
    for name in names_of(cert) {
        let form = NameForm::of(&name);
        let mut spend = |n: usize| -> Result<(), Refusal> {
            *budget = budget.checked_sub(n).ok_or(Refusal::TooMany)?;
            Ok(())
        };
        spend(permitted.len() + excluded.len())?;
        let mut perm = permitted
            .iter()
            .filter(|b| NameForm::of(b) == form)
            .peekable();
        let mut in_permitted = perm.peek().is_none();
        for b in perm {
            match within(&name, b) {
                Some(true) => in_permitted = true,
                Some(false) => {}
                None => return Err(Refusal::Unsupported(form, show(&name))),
            }
        }
        if !in_permitted {
            return Err(Refusal::Outside(show(&name)));
        }
        for b in excluded.iter().filter(|b| NameForm::of(b) == form) {
            match within(&name, b) {
                Some(true) => return Err(Refusal::Outside(show(&name))),
                Some(false) => {}
                None => return Err(Refusal::Unsupported(form, show(&name))),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc822_rules() {
        assert!(rfc822_within("taro@example.com", "example.com"));
        assert!(rfc822_within("taro@EXAMPLE.com", "example.com"));
        assert!(!rfc822_within("taro@mail.example.com", "example.com"));
        assert!(rfc822_within("taro@mail.example.com", ".example.com"));
        assert!(!rfc822_within("taro@example.com", ".example.com"));
        assert!(rfc822_within("taro@example.com", "taro@example.com"));
        assert!(!rfc822_within("hanako@example.com", "taro@example.com"));
        assert!(!rfc822_within("Taro@example.com", "taro@example.com"));
        assert!(!rfc822_within("not-an-address", "example.com"));
        assert!(!rfc822_within("taro@badexample.com", ".example.com"));
    }

    #[test]
    fn dns_rules() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("a.Example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
        assert!(dns_within("anything", ""));
    }

    #[test]
    fn ip_rules() {
        assert!(ip_within(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[0; 16], &[10, 0, 0, 0, 255, 0, 0, 0]));
    }
}

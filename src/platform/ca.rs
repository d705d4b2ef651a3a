//! Presence and expiry of the profile's root and intermediate CAs in a set of certificate
//! stores (on Windows: "Root" and "CA", for the current user and the machine).
//!
//! Pure logic over DER certificates; [`super::windows::store::ca_presence`] feeds it the stores.

use super::select::CertSummary;
use crate::profile::CaRole;
use time::OffsetDateTime;

/// One copy of a CA found in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundCa {
    /// Where it was found, e.g. `CurrentUser\Root`.
    pub store: String,
    pub thumbprint: String,
    pub not_after: OffsetDateTime,
    pub expired: bool,
}

/// What the stores hold for one CA the profile names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaPresence {
    pub role: CaRole,
    pub name: String,
    /// Every copy, in store order; empty when the CA is absent.
    pub found: Vec<FoundCa>,
}

impl CaPresence {
    /// Present and at least one copy is still valid.
    pub fn usable(&self) -> bool {
        self.found.iter().any(|f| !f.expired)
    }

    /// Present, but every copy has expired.
    pub fn only_expired(&self) -> bool {
        !self.found.is_empty() && !self.usable()
    }
}

/// Look up each wanted CA (by the name Windows shows: common name, else organisational unit,
/// else organisation; case-insensitive) among `stores`
/// (`(store name, DER certificates)`), judging expiry at `at`. Unreadable certificates are
/// passed over.
pub fn ca_presence(
    stores: &[(String, Vec<Vec<u8>>)],
    wanted: &[(CaRole, String)],
    at: OffsetDateTime,
) -> Vec<CaPresence> {
    let parsed: Vec<(&str, CertSummary)> = stores
        .iter()
        .flat_map(|(name, certs)| {
            certs
                .iter()
                .filter_map(|der| CertSummary::from_der(der).ok())
                .map(move |s| (name.as_str(), s))
        })
        .collect();
    wanted
        .iter()
        .map(|(role, name)| CaPresence {
            role: *role,
            name: name.clone(),
            found: parsed
                .iter()
                .filter(|(_, s)| s.subject_name.eq_ignore_ascii_case(name.trim()))
                .map(|(store, s)| FoundCa {
                    store: store.to_string(),
                    thumbprint: s.thumbprint.clone(),
                    not_after: s.not_after,
                    expired: at > s.not_after,
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
    use time::macros::datetime;

    fn ca_der(cn: &str, not_after: OffsetDateTime) -> Vec<u8> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "JP");
        dn.push(DnType::OrganizationName, "Example Trust");
        if let Some(ou) = cn.strip_prefix("OU=") {
            // Like SECOM's roots: no common name, the name is in the organisational unit.
            dn.push(DnType::OrganizationalUnitName, ou);
        } else {
            dn.push(DnType::CommonName, cn);
        }
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = datetime!(2010-01-01 00:00 UTC);
        p.not_after = not_after;
        p.self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    #[test]
    fn finds_present_expired_and_missing_cas() {
        let old_root = ca_der("Example RootCA1", datetime!(2023-09-30 00:00 UTC));
        let new_root = ca_der("OU=Example RootCA2", datetime!(2029-05-29 00:00 UTC));
        let inter = ca_der("Example Member CA1", datetime!(2028-01-01 00:00 UTC));
        let stores = vec![
            (
                "CurrentUser\\Root".to_string(),
                vec![old_root, new_root, b"junk".to_vec()],
            ),
            ("CurrentUser\\CA".to_string(), vec![inter]),
        ];
        let wanted = vec![
            (CaRole::Root, "example rootca1".to_string()),
            (CaRole::Root, "Example RootCA2".to_string()),
            (CaRole::Intermediate, "Example Member CA1".to_string()),
            (CaRole::Intermediate, "Example Member CA2".to_string()),
        ];
        let p = ca_presence(&stores, &wanted, datetime!(2026-06-01 00:00 UTC));
        assert!(p[0].only_expired() && !p[0].usable());
        assert_eq!(p[0].found[0].store, "CurrentUser\\Root");
        assert!(p[1].usable());
        assert!(p[2].usable());
        assert_eq!(p[2].found[0].store, "CurrentUser\\CA");
        assert!(p[3].found.is_empty() && !p[3].usable() && !p[3].only_expired());
    }
}

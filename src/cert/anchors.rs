//! Trust anchors as the chain checks see them: `trust` keeps an anchor's subject and dates;
//! the whole certificate (key, extensions, names as text) is read here when a path uses it.

use super::info::CertInfo;
use crate::trust::{Anchor, TrustStore};

/// The anchor's certificate, parsed.
pub trait AnchorCert {
    /// An anchor that cannot be read gives a placeholder with its subject unknown and no
    /// validity.
    fn info(&self) -> CertInfo;
}

impl AnchorCert for Anchor {
    fn info(&self) -> CertInfo {
        CertInfo::parse(&self.der).unwrap_or_else(|_| CertInfo::unreadable())
    }
}

/// Finding the anchors that may have issued a certificate.
pub trait AnchorIssuers {
    /// The anchors named as the issuer of `child`: same subject DER, or (for the few anchors
    /// from --trust files) the same name read as text.
    fn issuers_of<'a>(&'a self, child: &CertInfo) -> impl Iterator<Item = &'a Anchor> + 'a;
}

impl AnchorIssuers for TrustStore {
    fn issuers_of<'a>(&'a self, child: &CertInfo) -> impl Iterator<Item = &'a Anchor> + 'a {
        let by_der = self.by_subject(&child.issuer_der);
        let (issuer_der, issuer) = (child.issuer_der.clone(), child.issuer.clone());
        let by_text = self
            .file_anchors()
            .filter(move |a| a.subject_der != issuer_der && a.info().subject == issuer);
        by_der.chain(by_text)
    }
}

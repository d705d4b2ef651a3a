//! What trust needs to know about an anchor, read from its certificate with `x509-cert`:
//! its subject, its validity and its fingerprint. The whole certificate (extensions, key
//! details) is read by the layers above when a path uses the anchor.

use der::Decode;
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::DirectoryString;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// The facts of an anchor certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorMeta {
    /// The subject as an RFC 4514 string (`CN=…,O=…,C=JP`).
    pub subject: String,
    /// CN, else the last OU, else O: how people name the certificate.
    pub subject_name: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// The subject public key info, as DER.
    pub spki: Vec<u8>,
    /// SHA-256 of the certificate, `AB:CD:…`.
    pub sha256: String,
}

impl AnchorMeta {
    pub fn parse(der: &[u8]) -> Result<AnchorMeta, String> {
        let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
        let tbs = cert.tbs_certificate();
        let when = |t: &x509_cert::time::Time| {
            let secs = i64::try_from(t.to_unix_duration().as_secs()).map_err(|e| e.to_string())?;
            OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string())
        };
        let spki = der::Encode::to_der(tbs.subject_public_key_info()).map_err(|e| e.to_string())?;
        Ok(AnchorMeta {
            subject: tbs.subject().to_string(),
            subject_name: display_name(tbs.subject()),
            not_before: when(&tbs.validity().not_before)?,
            not_after: when(&tbs.validity().not_after)?,
            spki,
            sha256: fingerprint(der),
        })
    }

    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// CN, else the last OU, else the last O, else the whole name.
fn display_name(name: &Name) -> String {
    use der::oid::db::rfc4519::{COMMON_NAME, ORGANIZATIONAL_UNIT_NAME, ORGANIZATION_NAME};
    let last = |oid| {
        name.iter()
            .filter(|a| a.oid == oid)
            .filter_map(|a| DirectoryString::try_from(&a.value).ok())
            .map(String::from)
            .last()
    };
    last(COMMON_NAME)
        .or_else(|| last(ORGANIZATIONAL_UNIT_NAME))
        .or_else(|| last(ORGANIZATION_NAME))
        .unwrap_or_else(|| name.to_string())
}

/// The SHA-256 fingerprint of a certificate, as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The subject Name of a certificate, as DER, without parsing the rest:
/// Certificate → tbsCertificate → [version] serial signature issuer validity **subject**.
pub fn subject_of(cert: &[u8]) -> Option<&[u8]> {
    let (tbs, _) = der_item(inner(cert)?)?;
    let mut rest = inner(tbs)?;
    if rest.first() == Some(&0xA0) {
        rest = der_item(rest)?.1;
    }
    for _ in 0..4 {
        rest = der_item(rest)?.1; // serial, signature, issuer, validity
    }
    der_item(rest).map(|(subject, _)| subject)
}

/// The contents of the DER item at the start of `b`.
fn inner(b: &[u8]) -> Option<&[u8]> {
    let (item, _) = der_item(b)?;
    let (_, header) = der_len(item)?;
    item.get(header..)
}

/// (the whole first DER item of `b`, the rest); definite lengths only.
fn der_item(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, header) = der_len(b)?;
    let end = header.checked_add(len)?;
    (end <= b.len()).then(|| b.split_at(end))
}

/// (length of the contents, length of tag + length octets).
fn der_len(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some((usize::from(first), 2));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    Some((len, 2 + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(name: &str) -> Vec<u8> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name);
        super::super::file::read_certs(&path).unwrap()[0].to_vec()
    }

    #[test]
    fn the_expired_root_ca1_reads_its_name_and_dates() {
        let m = AnchorMeta::parse(&pem("real/Security_Communication_Root_CA.pem")).unwrap();
        assert_eq!(m.subject_name, "Security Communication RootCA1");
        assert_eq!(crate::text::human::date(m.not_after), "2023-09-30");
        assert!(m.subject.contains("O=SECOM Trust.net"), "{}", m.subject);
        assert!(m.valid_at(time::macros::datetime!(2023-09-01 0:00 UTC)));
        assert!(!m.valid_at(time::macros::datetime!(2023-10-01 0:00 UTC)));
        assert_eq!(m.sha256.len(), 32 * 3 - 1);
        assert!(!m.spki.is_empty());
    }

    #[test]
    fn garbage_is_not_an_anchor() {
        assert!(AnchorMeta::parse(b"\x30\x03\x02\x01\x01").is_err());
        assert_eq!(subject_of(b"\x30\x82\xff"), None, "a truncated certificate");
    }
}

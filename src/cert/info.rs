//! What a certificate says, read once into plain fields: names, validity, usages, key, signature.

use ::time::format_description::well_known::Rfc3339;
use ::time::OffsetDateTime;
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::prelude::{
    AttributeTypeAndValue, ExtendedKeyUsage, FromDer, GeneralName, KeyUsage, SubjectPublicKeyInfo,
    X509Certificate, X509Name,
};

/// The facts of one certificate that certprobe reports and checks.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    pub subject: String,
    /// CN, else the last OU, else O: how people name the certificate.
    pub subject_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub serial: String,
    #[serde(with = "::time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "::time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub sans: Vec<String>,
    /// `None`: no extended key usage extension (any use).
    pub eku: Option<Vec<String>>,
    pub client_auth: bool,
    pub server_auth: bool,
    /// `None`: no key usage extension (any use).
    pub key_usage: Option<Vec<String>>,
    pub digital_signature: bool,
    pub key_type: String,
    pub key_bits: usize,
    pub signature_algorithm: String,
    /// SHA-1, MD5 or MD2.
    pub weak_signature: bool,
    pub sha256: String,
    pub is_ca: bool,
    pub self_issued: bool,
    #[serde(skip)]
    pub subject_der: Vec<u8>,
    #[serde(skip)]
    pub issuer_der: Vec<u8>,
}

impl CertInfo {
    pub fn parse(der: &CertificateDer<'_>) -> Result<CertInfo, String> {
        let (_, c) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let tbs = &c.tbs_certificate;
        let eku = c.extended_key_usage().ok().flatten().map(|e| e.value);
        let ku = c.key_usage().ok().flatten().map(|k| k.value);
        let sig_oid = c.signature_algorithm.algorithm.to_id_string();
        let (signature_algorithm, weak_signature) = signature_name(&sig_oid);
        let (key_type, key_bits) = key_description(tbs.public_key());
        let sans = c
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|s| s.value.general_names.iter().map(general_name).collect())
            .unwrap_or_default();
        Ok(CertInfo {
            subject: tbs.subject().to_string(),
            subject_name: display_name(tbs.subject()),
            issuer: tbs.issuer().to_string(),
            issuer_name: display_name(tbs.issuer()),
            serial: tbs
                .raw_serial()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            not_before: tbs.validity().not_before.to_datetime(),
            not_after: tbs.validity().not_after.to_datetime(),
            sans,
            eku: eku.map(eku_names),
            client_auth: eku.is_none_or(|e| e.client_auth || e.any),
            server_auth: eku.is_none_or(|e| e.server_auth || e.any),
            key_usage: ku.map(ku_names),
            digital_signature: ku.is_none_or(|k| k.digital_signature()),
            key_type,
            key_bits,
            signature_algorithm,
            weak_signature,
            sha256: fingerprint(der),
            is_ca: c.is_ca(),
            self_issued: tbs.subject().as_raw() == tbs.issuer().as_raw(),
            subject_der: tbs.subject().as_raw().to_vec(),
            issuer_der: tbs.issuer().as_raw().to_vec(),
        })
    }

    /// A stand-in for a certificate that cannot be read: no names, never valid.
    pub fn unreadable() -> CertInfo {
        CertInfo {
            subject: String::new(),
            subject_name: "(unreadable certificate)".into(),
            issuer: String::new(),
            issuer_name: String::new(),
            serial: String::new(),
            not_before: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::UNIX_EPOCH,
            sans: vec![],
            eku: None,
            client_auth: false,
            server_auth: false,
            key_usage: None,
            digital_signature: false,
            key_type: String::new(),
            key_bits: 0,
            signature_algorithm: String::new(),
            weak_signature: false,
            sha256: String::new(),
            is_ca: false,
            self_issued: false,
            subject_der: vec![],
            issuer_der: vec![],
        }
    }

    /// Whole days from `at` to the end of validity (negative once expired).
    pub fn days_left(&self, at: OffsetDateTime) -> i64 {
        (self.not_after - at).whole_days()
    }

    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// A date as people read it: `2023-09-30 04:20:49 UTC`.
pub fn show_time(t: OffsetDateTime) -> String {
    let f =
        ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(::time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| t.format(&Rfc3339).unwrap_or_default())
}

pub fn show_date(t: OffsetDateTime) -> String {
    let f = ::time::macros::format_description!("[year]-[month]-[day]");
    t.to_offset(::time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn display_name(name: &X509Name<'_>) -> String {
    let first = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue<'_>>| {
        it.last().and_then(|a| a.as_str().ok()).map(str::to_string)
    };
    first(&mut name.iter_common_name())
        .or_else(|| first(&mut name.iter_organizational_unit()))
        .or_else(|| first(&mut name.iter_organization()))
        .unwrap_or_else(|| name.to_string())
}

fn signature_name(oid: &str) -> (String, bool) {
    let (name, weak) = match oid {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", true),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", true),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", true),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", true),
        "1.2.840.10040.4.3" => ("dsa-with-SHA1", true),
        "2.16.840.1.101.3.4.3.1" => ("dsa-with-SHA224", false),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-SHA256", false),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", false),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", false),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", false),
        "1.2.840.113549.1.1.10" => ("RSASSA-PSS", false),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", false),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", false),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", false),
        "1.3.101.112" => ("Ed25519", false),
        other => return (other.to_string(), false),
    };
    (name.to_string(), weak)
}

fn key_description(spki: &SubjectPublicKeyInfo<'_>) -> (String, usize) {
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.3.101.112" => ("Ed25519".into(), 256),
        "1.3.101.113" => ("Ed448".into(), 456),
        _ => match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => ("RSA".into(), rsa.key_size()),
            Ok(x509_parser::public_key::PublicKey::EC(point)) => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string());
                let name = match curve.as_deref() {
                    Some("1.2.840.10045.3.1.7") => "ECDSA P-256",
                    Some("1.3.132.0.34") => "ECDSA P-384",
                    Some("1.3.132.0.35") => "ECDSA P-521",
                    Some("1.2.840.10045.3.1.1") => "ECDSA P-192",
                    Some(_) => "ECDSA",
                    None => "ECDSA (explicit curve parameters)",
                };
                (name.into(), point.key_size())
            }
            Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".into(), 0),
            _ if alg == "1.2.840.10040.4.1" => ("DSA".into(), 0),
            _ if alg == "1.2.840.10045.2.1" => ("ECDSA (explicit curve parameters)".into(), 0),
            _ => (alg, 0),
        },
    }
}

fn eku_names(e: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut v = Vec::new();
    for (on, name) in [
        (e.any, "any"),
        (e.server_auth, "serverAuth"),
        (e.client_auth, "clientAuth"),
        (e.code_signing, "codeSigning"),
        (e.email_protection, "emailProtection"),
        (e.time_stamping, "timeStamping"),
        (e.ocsp_signing, "OCSPSigning"),
    ] {
        if on {
            v.push(name.to_string());
        }
    }
    v.extend(e.other.iter().map(|o| o.to_id_string()));
    v
}

fn ku_names(k: &KeyUsage) -> Vec<String> {
    [
        (k.digital_signature(), "digitalSignature"),
        (k.non_repudiation(), "nonRepudiation"),
        (k.key_encipherment(), "keyEncipherment"),
        (k.data_encipherment(), "dataEncipherment"),
        (k.key_agreement(), "keyAgreement"),
        (k.key_cert_sign(), "keyCertSign"),
        (k.crl_sign(), "cRLSign"),
        (k.encipher_only(), "encipherOnly"),
        (k.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_string())
    .collect()
}

fn general_name(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::IPAddress(b) => match b.len() {
            4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                format!("IP:{}", std::net::Ipv6Addr::from(a))
            }
            _ => "IP:?".to_string(),
        },
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsa_and_unusual_keys_are_named() {
        assert_eq!(signature_name("1.2.840.10040.4.3").0, "dsa-with-SHA1");
        assert_eq!(
            signature_name("2.16.840.1.101.3.4.3.2").0,
            "dsa-with-SHA256"
        );
        assert!(signature_name("1.2.840.10040.4.3").1, "SHA-1 is weak");
    }
}

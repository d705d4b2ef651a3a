//! What a certificate says, read once into plain fields: names, validity, usages, key, signature.

use ::time::format_description::well_known::Rfc3339;
use ::time::OffsetDateTime;
use der::oid::ObjectIdentifier;
use der::{Decode, Encode, Tag, Tagged};
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

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
        let c = Certificate::from_der(der).map_err(|e| e.to_string())?;
        let tbs = c.tbs_certificate();
        // A duplicated or unreadable extension counts as absent, as before.
        let eku = tbs
            .get_extension::<ExtendedKeyUsage>()
            .ok()
            .flatten()
            .map(|(_, e)| e);
        let ku = tbs
            .get_extension::<KeyUsage>()
            .ok()
            .flatten()
            .map(|(_, k)| k);
        let sig_oid = c.signature_algorithm().oid.to_string();
        let (signature_algorithm, weak_signature) = signature_name(&sig_oid);
        let (key_type, key_bits) = key_description(tbs.subject_public_key_info());
        let sans = tbs
            .get_extension::<SubjectAltName>()
            .ok()
            .flatten()
            .map(|(_, s)| s.0.iter().map(general_name).collect())
            .unwrap_or_default();
        let is_ca = tbs
            .get_extension::<BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, b)| b.ca);
        let subject_der = tbs.subject().to_der().map_err(|e| e.to_string())?;
        let issuer_der = tbs.issuer().to_der().map_err(|e| e.to_string())?;
        let flags = eku.as_ref().map(EkuFlags::of);
        Ok(CertInfo {
            subject: name_string(tbs.subject()),
            subject_name: display_name(tbs.subject()),
            issuer: name_string(tbs.issuer()),
            issuer_name: display_name(tbs.issuer()),
            serial: tbs
                .serial_number()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            not_before: datetime(tbs.validity().not_before.to_unix_duration())?,
            not_after: datetime(tbs.validity().not_after.to_unix_duration())?,
            sans,
            eku: eku.as_ref().map(eku_names),
            client_auth: flags.as_ref().is_none_or(|e| e.client_auth || e.any),
            server_auth: flags.as_ref().is_none_or(|e| e.server_auth || e.any),
            key_usage: ku.as_ref().map(ku_names),
            digital_signature: ku.as_ref().is_none_or(|k| k.digital_signature()),
            key_type,
            key_bits,
            signature_algorithm,
            weak_signature,
            sha256: fingerprint(der),
            is_ca,
            self_issued: subject_der == issuer_der,
            subject_der,
            issuer_der,
        })
    }

    /// A stand-in for a certificate that cannot be read: no names, never valid.
    pub fn unreadable() -> CertInfo {
        CertInfo {
            subject: String::new(),
            subject_name: crate::guide::message("cert.unreadable_name", &[]),
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

pub use crate::trust::fingerprint;

fn datetime(since_epoch: std::time::Duration) -> Result<OffsetDateTime, String> {
    let secs = i64::try_from(since_epoch.as_secs()).map_err(|e| e.to_string())?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string())
}

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// An attribute's value as text when it is one of the plain string types (the types a
/// person's name is written in), else `None`.
fn plain_string(value: &der::asn1::Any) -> Option<&str> {
    match value.tag() {
        Tag::NumericString | Tag::PrintableString | Tag::Utf8String | Tag::Ia5String => {
            std::str::from_utf8(value.value()).ok()
        }
        _ => None,
    }
}

/// The last value of this attribute in the name, when it is a plain string.
fn last_attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter()
        .filter(|a| a.oid == oid)
        .last()
        .and_then(|a| plain_string(&a.value))
        .map(str::to_string)
}

/// CN, else the last OU, else O, else the whole name.
fn display_name(name: &Name) -> String {
    last_attribute(name, CN)
        .or_else(|| last_attribute(name, OU))
        .or_else(|| last_attribute(name, O))
        .unwrap_or_else(|| name_string(name))
}

/// The short name of a name attribute: `CN`, `O`, `serialNumber`, else `OID(2.5.4.99)`.
fn attribute_name(oid: &ObjectIdentifier) -> String {
    let known = match oid.to_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "Email",
        "0.9.2342.19200300.100.1.1" => "uid",
        "2.5.4.4" => "surname",
        "2.5.4.5" => "serialNumber",
        "2.5.4.9" => "streetAddress",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.16" => "postalAddress",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "givenName",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.45" => "uniqueIdentifier",
        "2.5.4.46" => "dnQualifier",
        "1.3.6.1.4.1.311.60.2.1.1" => "msJurisdictionLocality",
        "1.3.6.1.4.1.311.60.2.1.2" => "msJurisdictionStateOrProvince",
        "1.3.6.1.4.1.311.60.2.1.3" => "msJurisdictionCountry",
        other => return format!("OID({other})"),
    };
    known.to_string()
}

/// An attribute's value as text: strings as they are (BMPString decoded), anything else
/// in upper-case hex.
fn attribute_value(value: &der::asn1::Any) -> String {
    let bytes = value.value();
    match value.tag() {
        Tag::NumericString
        | Tag::VisibleString
        | Tag::PrintableString
        | Tag::GeneralString
        | Tag::TeletexString
        | Tag::VideotexString
        | Tag::Utf8String
        | Tag::Ia5String => String::from_utf8_lossy(bytes).into_owned(),
        Tag::BmpString if bytes.len().is_multiple_of(2) => {
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        _ => bytes.iter().map(|b| format!("{b:02X}")).collect(),
    }
}

/// A distinguished name in certificate order: `C=JP, O=SECOM Trust.net, CN=…`; the values of
/// a multi-valued RDN joined with ` + `.
pub fn name_string(name: &Name) -> String {
    name.iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|a| format!("{}={}", attribute_name(&a.oid), attribute_value(&a.value)))
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
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

/// The length of a DER INTEGER's value in bits (leading zero bytes and bits not counted).
fn integer_bits(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    bytes.len() * 8 - bytes[0].leading_zeros() as usize
}

/// The modulus of an RSA public key (`RSAPublicKey ::= SEQUENCE { modulus, publicExponent }`).
pub(crate) fn rsa_modulus(public_key: &[u8]) -> Option<&[u8]> {
    let seq = <&der::asn1::SequenceRef>::from_der(public_key).ok()?;
    let mut inner = der::SliceReader::new(seq.as_bytes()).ok()?;
    let modulus = der::asn1::UintRef::decode(&mut inner).ok()?;
    Some(modulus.as_bytes())
}

fn key_description(spki: &SubjectPublicKeyInfoOwned) -> (String, usize) {
    let alg = spki.algorithm.oid.to_string();
    let point = spki.subject_public_key.raw_bytes();
    match alg.as_str() {
        "1.3.101.112" => ("Ed25519".into(), 256),
        "1.3.101.113" => ("Ed448".into(), 456),
        "1.2.840.113549.1.1.1" => match rsa_modulus(point) {
            Some(m) => ("RSA".into(), integer_bits(m)),
            None => (alg, 0),
        },
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            let (name, bits) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("ECDSA P-256", Some(256)),
                Some("1.3.132.0.34") => ("ECDSA P-384", Some(384)),
                Some("1.3.132.0.35") => ("ECDSA P-521", Some(521)),
                Some("1.2.840.10045.3.1.1") => ("ECDSA P-192", Some(192)),
                Some(_) => ("ECDSA", None),
                None => ("ECDSA (explicit curve parameters)", None),
            };
            // An unknown curve: the size of the point's coordinates.
            let from_point = match point {
                [4, rest @ ..] => rest.len() * 8 / 2,
                [2..=3, rest @ ..] => rest.len() * 8,
                _ => 0,
            };
            (name.into(), bits.unwrap_or(from_point))
        }
        "1.2.840.10040.4.1" => ("DSA".into(), 0),
        _ => (alg, 0),
    }
}

/// The extended key usages certprobe looks at.
struct EkuFlags {
    any: bool,
    server_auth: bool,
    client_auth: bool,
}

const EKU_NAMES: [(&str, &str); 7] = [
    ("2.5.29.37.0", "any"),
    ("1.3.6.1.5.5.7.3.1", "serverAuth"),
    ("1.3.6.1.5.5.7.3.2", "clientAuth"),
    ("1.3.6.1.5.5.7.3.3", "codeSigning"),
    ("1.3.6.1.5.5.7.3.4", "emailProtection"),
    ("1.3.6.1.5.5.7.3.8", "timeStamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSPSigning"),
];

impl EkuFlags {
    fn of(e: &ExtendedKeyUsage) -> EkuFlags {
        let has = |id: &str| e.0.iter().any(|o| o.to_string() == id);
        EkuFlags {
            any: has(EKU_NAMES[0].0),
            server_auth: has(EKU_NAMES[1].0),
            client_auth: has(EKU_NAMES[2].0),
        }
    }
}

/// The usages by name, the known ones first in a fixed order, then the others as OIDs.
fn eku_names(e: &ExtendedKeyUsage) -> Vec<String> {
    let ids: Vec<String> = e.0.iter().map(ToString::to_string).collect();
    let mut v: Vec<String> = EKU_NAMES
        .iter()
        .filter(|(id, _)| ids.iter().any(|i| i == id))
        .map(|(_, name)| name.to_string())
        .collect();
    v.extend(
        ids.into_iter()
            .filter(|i| !EKU_NAMES.iter().any(|(id, _)| id == i)),
    );
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

pub(crate) fn general_name(g: &GeneralName) -> String {
    match g {
        GeneralName::DnsName(s) => format!("DNS:{s}"),
        GeneralName::Rfc822Name(s) => format!("email:{s}"),
        GeneralName::UniformResourceIdentifier(s) => format!("URI:{s}"),
        GeneralName::IpAddress(o) => {
            let b = o.as_bytes();
            match b.len() {
                4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(b);
                    format!("IP:{}", std::net::Ipv6Addr::from(a))
                }
                _ => "IP:?".to_string(),
            }
        }
        GeneralName::OtherName(o) => format!("OtherName({}, [...])", o.type_id),
        GeneralName::DirectoryName(n) => format!("DirectoryName({})", name_string(n)),
        GeneralName::EdiPartyName(_) => "EDIPartyName(<unparsed>)".to_string(),
        GeneralName::RegisteredId(o) => format!("RegisteredID({o})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(
        params: rcgen::CertificateParams,
        alg: &'static rcgen::SignatureAlgorithm,
    ) -> CertInfo {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = params.self_signed(&key).unwrap();
        CertInfo::parse(cert.der()).unwrap()
    }

    #[test]
    fn names_usages_and_key_read_as_people_see_them() {
        use rcgen::{DnType, ExtendedKeyUsagePurpose as Eku, KeyUsagePurpose as Ku};
        let mut p = rcgen::CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CountryName, "JP");
        p.distinguished_name
            .push(DnType::OrganizationName, "SECOM Trust Systems CO.,LTD.");
        p.distinguished_name
            .push(DnType::OrganizationalUnitName, "Member");
        p.distinguished_name.push(DnType::CommonName, "S47000001");
        p.extended_key_usages = vec![Eku::CodeSigning, Eku::ClientAuth, Eku::ServerAuth];
        p.key_usages = vec![Ku::KeyEncipherment, Ku::DigitalSignature];
        p.subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let info = self_signed(p, &rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(
            info.subject,
            "C=JP, O=SECOM Trust Systems CO.,LTD., OU=Member, CN=S47000001"
        );
        assert_eq!(info.subject_name, "S47000001");
        assert!(info.self_issued);
        assert_eq!(info.subject_der, info.issuer_der);
        // Known usages in a fixed order, whatever the certificate's order.
        assert_eq!(
            info.eku.as_deref(),
            Some(&["serverAuth", "clientAuth", "codeSigning"].map(String::from)[..])
        );
        assert!(info.client_auth && info.server_auth);
        assert_eq!(
            info.key_usage.as_deref(),
            Some(&["digitalSignature", "keyEncipherment"].map(String::from)[..])
        );
        assert_eq!(info.sans, ["DNS:a.test", "IP:127.0.0.1"]);
        assert_eq!(
            (info.key_type.as_str(), info.key_bits),
            ("ECDSA P-384", 384)
        );
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA384");
        assert!(!info.weak_signature && !info.is_ca);
    }

    #[test]
    fn a_name_without_cn_is_named_by_its_last_ou() {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(rcgen::DnType::OrganizationName, "SECOM Trust.net");
        p.distinguished_name.push(
            rcgen::DnType::OrganizationalUnitName,
            "Security Communication RootCA1",
        );
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let info = self_signed(p, &rcgen::PKCS_ED25519);
        assert_eq!(info.subject_name, "Security Communication RootCA1");
        assert_eq!(info.eku, None);
        assert!(info.client_auth, "no EKU extension: any use");
        assert!(info.is_ca);
        assert_eq!((info.key_type.as_str(), info.key_bits), ("Ed25519", 256));
    }

    #[test]
    fn damaged_der_is_an_error_not_a_panic() {
        let p = rcgen::CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let der = p.self_signed(&key).unwrap().der().to_vec();
        for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert!(CertInfo::parse(&CertificateDer::from(&der[..cut])).is_err());
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(CertInfo::parse(&CertificateDer::from(trailing)).is_err());
    }

    #[test]
    fn integer_bits_ignore_leading_zeros() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x7f, 0xff]), 15);
        assert_eq!(integer_bits(&[0x00, 0x00]), 0);
        assert_eq!(integer_bits(&[]), 0);
    }

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

//! The demo PKI, made in memory at start-up with rcgen: look-alikes of the service's root and
//! issuing CA, a client certificate `S47…`, the servers' certificate, and the CAs that only some
//! scenarios use (another company's issuing CA, an intercepting proxy's CA).

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A certificate with its key.
pub struct Issued {
    pub cert: Certificate,
    pub key: KeyPair,
    params: CertificateParams,
}

impl Issued {
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// Names the demo certificates carry (look-alikes of the real service's).
pub const ROOT_OU: &str = "Security Communication RootCA1";
pub const INTER_CN: &str = "SECOM Passport for Member PUB CA1";
pub const CLIENT_CN: &str = "S47000001";
pub const OTHER_CA_CN: &str = "Example Corp Issuing CA 2";
pub const INTERCEPT_CA_CN: &str = "Example Corp Web Gateway Inspection CA";

/// Which client certificate the person holds in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Issued by the expected CA, valid now.
    Good,
    /// Issued by the expected CA, expired ten days ago.
    Expired,
    /// Issued by another company's CA under the same root.
    OtherIssuer,
}

pub struct Pki {
    pub root: Issued,
    pub inter: Issued,
    /// Another CA under the same root (only its name differs from what the service expects).
    pub other_ca: Issued,
    pub client: Issued,
    /// The certificate every demo server presents (127.0.0.1, localhost), issued by the root.
    pub server: Issued,
    /// The CA of an intercepting proxy, which nobody trusts, and the certificate it forges.
    pub intercept_ca: Issued,
    pub intercept_server: Issued,
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in parts {
        d.push(t.clone(), *v);
    }
    d
}

fn ca_params(name: DistinguishedName, serial: u64, now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now - Duration::days(365);
    p.not_after = now + Duration::days(3650);
    p.serial_number = Some(SerialNumber::from(serial));
    p.use_authority_key_identifier_extension = true;
    p
}

fn self_signed(params: CertificateParams) -> Result<Issued, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(Issued { cert, key, params })
}

fn signed(params: CertificateParams, by: &Issued) -> Result<Issued, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &by.issuer())?;
    Ok(Issued { cert, key, params })
}

impl Pki {
    pub fn new(client: ClientKind) -> Result<Pki, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        let root = self_signed(ca_params(
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "SECOM Trust.net"),
                (DnType::OrganizationalUnitName, ROOT_OU),
            ]),
            1,
            now,
        ))?;
        let mut inter_params = ca_params(
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "SECOM Trust Systems CO.,LTD."),
                (DnType::CommonName, INTER_CN),
            ]),
            2,
            now,
        );
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let inter = signed(inter_params, &root)?;
        let mut other_params = ca_params(
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "Example Corp"),
                (DnType::CommonName, OTHER_CA_CN),
            ]),
            3,
            now,
        );
        other_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let other_ca = signed(other_params, &root)?;

        let mut cp = CertificateParams::default();
        cp.distinguished_name = dn(&[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "Demo Corporation"),
            (DnType::CommonName, CLIENT_CN),
        ]);
        cp.is_ca = IsCa::ExplicitNoCa;
        cp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        cp.serial_number = Some(SerialNumber::from(0x4700_0001u64));
        cp.use_authority_key_identifier_extension = true;
        match client {
            ClientKind::Expired => {
                cp.not_before = now - Duration::days(375);
                cp.not_after = now - Duration::days(10);
            }
            ClientKind::Good | ClientKind::OtherIssuer => {
                cp.not_before = now - Duration::days(30);
                cp.not_after = now + Duration::days(335);
            }
        }
        let client = match client {
            ClientKind::OtherIssuer => signed(cp, &other_ca)?,
            _ => signed(cp, &inter)?,
        };

        let server_params = |serial: u64| -> Result<CertificateParams, rcgen::Error> {
            let mut p = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])?;
            p.distinguished_name = dn(&[(DnType::CommonName, "127.0.0.1")]);
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            p.not_before = now - Duration::days(30);
            p.not_after = now + Duration::days(90);
            p.serial_number = Some(SerialNumber::from(serial));
            p.use_authority_key_identifier_extension = true;
            Ok(p)
        };
        let server = signed(server_params(10)?, &root)?;

        let intercept_ca = self_signed(ca_params(
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "Example Corp"),
                (DnType::CommonName, INTERCEPT_CA_CN),
            ]),
            20,
            now,
        ))?;
        let intercept_server = signed(server_params(21)?, &intercept_ca)?;

        Ok(Pki {
            root,
            inter,
            other_ca,
            client,
            server,
            intercept_ca,
            intercept_server,
        })
    }

    /// The CA that issued the client certificate (sent along with it).
    pub fn client_issuer(&self, kind: ClientKind) -> &Issued {
        match kind {
            ClientKind::OtherIssuer => &self.other_ca,
            _ => &self.inter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::UnixTime;

    fn verify_client(pki: &Pki, kind: ClientKind) -> Result<(), webpki::Error> {
        let anchors = [webpki::anchor_from_trusted_cert(&pki.root.der())
            .unwrap()
            .to_owned()];
        let leaf = pki.client.der();
        let ee = webpki::EndEntityCert::try_from(&leaf).unwrap();
        let inter = [pki.client_issuer(kind).der()];
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &inter,
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    }

    #[test]
    fn good_client_chains_to_the_demo_root() {
        let pki = Pki::new(ClientKind::Good).unwrap();
        verify_client(&pki, ClientKind::Good).unwrap();
        let other = Pki::new(ClientKind::OtherIssuer).unwrap();
        verify_client(&other, ClientKind::OtherIssuer).unwrap();
    }

    #[test]
    fn expired_client_is_expired() {
        let pki = Pki::new(ClientKind::Expired).unwrap();
        assert!(matches!(
            verify_client(&pki, ClientKind::Expired),
            Err(webpki::Error::CertExpired { .. })
        ));
    }

    #[test]
    fn names_look_like_the_real_service() {
        use der::Decode;
        let pki = Pki::new(ClientKind::Good).unwrap();
        let c = x509_cert::Certificate::from_der(pki.client.der().as_ref()).unwrap();
        let subject = c.tbs_certificate().subject().to_string();
        let issuer = c.tbs_certificate().issuer().to_string();
        assert!(subject.contains("CN=S47000001"), "{subject}");
        assert!(issuer.contains(INTER_CN), "{issuer}");
        let r = x509_cert::Certificate::from_der(pki.root.der().as_ref()).unwrap();
        assert!(r.tbs_certificate().subject().to_string().contains(ROOT_OU));
    }
}

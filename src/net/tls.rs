//! The TLS handshake, driven with tokio-rustls so that every detail is kept: version,
//! cipher suite, ALPN, the server's chain (even when it fails validation), and the
//! acceptable client-CA names from the server's CertificateRequest.

use super::tcp::BoxStream;
use crate::finding::Text;
use der::{Decode, Encode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_rustls::client::TlsStream;

/// One certificate, as a person reads it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_before: String,
    pub not_after: String,
    pub expired: bool,
    /// SHA-256 fingerprint of the certificate (`AB:CD:…`).
    pub sha256: String,
    /// Where its issuer's certificate is published (AIA caIssuers), as public CAs record it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers: Vec<String>,
    #[serde(skip)]
    pub issuer_der: Vec<u8>,
    #[serde(skip)]
    pub subject_der: Vec<u8>,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let cert = x509_cert::Certificate::from_der(der).ok()?;
        let tbs = cert.tbs_certificate();
        let v = tbs.validity();
        let nb = v.not_before.to_system_time();
        let na = v.not_after.to_system_time();
        Some(CertInfo {
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            subject_cn: common_name(tbs.subject()),
            issuer_cn: common_name(tbs.issuer()),
            not_before: rfc3339(nb),
            not_after: rfc3339(na),
            expired: na < std::time::SystemTime::now(),
            sha256: crate::cert::info::fingerprint(der),
            ca_issuers: super::aia::ca_issuers_urls(der),
            issuer_der: tbs.issuer().to_der().unwrap_or_default(),
            subject_der: tbs.subject().to_der().unwrap_or_default(),
        })
    }

    /// Common name if there is one, else the whole name.
    pub fn issuer_name(&self) -> &str {
        self.issuer_cn.as_deref().unwrap_or(&self.issuer)
    }
    pub fn subject_name(&self) -> &str {
        self.subject_cn.as_deref().unwrap_or(&self.subject)
    }
}

fn common_name(n: &x509_cert::name::Name) -> Option<String> {
    n.common_name()
        .ok()
        .flatten()
        .map(|d| d.value().into_owned())
}

pub fn rfc3339(t: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A DER distinguished name from a CertificateRequest, as text.
pub fn dn_to_string(der: &[u8]) -> String {
    // The hint list carries the bare RDNSequence content in some stacks and the full
    // SEQUENCE in others; accept both.
    if let Ok(n) = x509_cert::name::Name::from_der(der) {
        return n.to_string();
    }
    let mut wrapped = vec![0x30];
    if der.len() < 128 {
        wrapped.push(der.len() as u8);
    } else if der.len() < 256 {
        wrapped.extend([0x81, der.len() as u8]);
    } else if der.len() < 65536 {
        wrapped.extend([0x82, (der.len() >> 8) as u8, der.len() as u8]);
    }
    wrapped.extend_from_slice(der);
    x509_cert::name::Name::from_der(&wrapped)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "(unreadable name)".to_string())
}

/// What the handshake showed, whether it succeeded or not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsFacts {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub key_exchange: Option<String>,
    pub alpn: Option<String>,
    pub server_chain: Vec<CertInfo>,
    /// Why the server's chain did not validate (rustls's words), if it did not.
    pub server_verify_error: Option<String>,
    /// Whether the server sent a CertificateRequest.
    pub client_cert_requested: bool,
    /// The acceptable client-CA names from the CertificateRequest.
    pub acceptable_client_cas: Vec<String>,
    #[serde(skip)]
    pub acceptable_client_cas_der: Vec<Vec<u8>>,
    pub client_cert_sent: bool,
    /// Why no client certificate was offered, when one exists but is held back.
    pub client_cert_withheld: Option<String>,
    pub handshake_ms: Option<f64>,
    #[serde(skip)]
    pub verify_error: Option<TlsError>,
}

/// What the client side brings to a handshake.
#[derive(Clone)]
pub struct TlsParams {
    pub client: Option<Arc<CertifiedKey>>,
    pub roots: Arc<RootCertStore>,
    /// Restrict to these versions (all rustls supports when `None`).
    pub versions: Option<Vec<&'static rustls::SupportedProtocolVersion>>,
    pub alpn: Vec<Vec<u8>>,
    /// Accept any server certificate (only to look at the chain; nothing is sent).
    pub accept_any: bool,
}

#[derive(Debug, Default)]
struct Capture {
    hints: Mutex<Option<Vec<Vec<u8>>>>,
    sent: AtomicBool,
    chain: Mutex<Vec<CertificateDer<'static>>>,
    verify_error: Mutex<Option<TlsError>>,
}

#[derive(Debug)]
struct HintResolver {
    cert: Option<Arc<CertifiedKey>>,
    capture: Arc<Capture>,
}

impl ResolvesClientCert for HintResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        if let Ok(mut h) = self.capture.hints.lock() {
            *h = Some(root_hint_subjects.iter().map(|s| s.to_vec()).collect());
        }
        // The server decides: send the certificate even when its issuer is not among the
        // hints, so that the person sees the server's own verdict.
        let c = self.cert.clone();
        if c.is_some() {
            self.capture.sent.store(true, Ordering::SeqCst);
        }
        c
    }

    fn has_certs(&self) -> bool {
        self.cert.is_some()
    }
}

/// How the server's certificate is judged.
#[derive(Clone)]
pub enum Verify {
    /// Validated against these roots (webpki); an empty store trusts nothing.
    Roots(Arc<RootCertStore>),
    /// Accepted whatever it is: only to look at the chain or the version a server speaks, never
    /// to send data that matters.
    AcceptAny,
}

/// The one server-certificate verifier: validates with webpki (or accepts any certificate when
/// only looking) and keeps the chain and the error for the report.
#[derive(Debug)]
struct KeepingVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    accept_any: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
    capture: Arc<Capture>,
}

impl ServerCertVerifier for KeepingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if let Ok(mut c) = self.capture.chain.lock() {
            c.clear();
            c.push(end_entity.clone().into_owned());
            // A huge chain is kept only in part; it is reported, not stored.
            c.extend(intermediates.iter().take(8).map(|i| i.clone().into_owned()));
        }
        if self.accept_any {
            return Ok(ServerCertVerified::assertion());
        }
        let r = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        if let Err(e) = &r {
            if let Ok(mut slot) = self.capture.verify_error.lock() {
                *slot = Some(e.clone());
            }
        }
        r
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Everything a client configuration is made of.
#[derive(Clone)]
pub struct ConfigSpec {
    pub verify: Verify,
    /// The client certificate to offer when the server asks (none: no certificate).
    pub client: Option<Arc<CertifiedKey>>,
    /// Restrict to these versions (all rustls supports when `None`).
    pub versions: Option<Vec<&'static rustls::SupportedProtocolVersion>>,
    pub alpn: Vec<Vec<u8>>,
}

/// What a configuration saw during its handshake (hints, the chain, the verifier's error).
#[derive(Debug, Default, Clone)]
pub struct Seen(Arc<Capture>);

/// The one place that builds a rustls [`rustls::ClientConfig`]: the endpoint steps, redirect
/// hops, the direct look, the version probes and every `reqwest` client take theirs from here.
pub fn client_config(spec: &ConfigSpec) -> Result<(rustls::ClientConfig, Seen), TlsError> {
    let capture = Arc::new(Capture::default());
    let provider = provider();
    let (inner, accept_any) = match &spec.verify {
        Verify::AcceptAny => (None, true),
        Verify::Roots(roots) if roots.is_empty() => (None, false),
        Verify::Roots(roots) => (
            WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .ok(),
            false,
        ),
    };
    let verifier = Arc::new(KeepingVerifier {
        inner,
        accept_any,
        provider: provider.clone(),
        capture: capture.clone(),
    });
    let resolver = Arc::new(HintResolver {
        cert: spec.client.clone(),
        capture: capture.clone(),
    });
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = spec
        .versions
        .clone()
        .unwrap_or_else(|| rustls::ALL_VERSIONS.to_vec());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(resolver);
    config.alpn_protocols = spec.alpn.clone();
    Ok((config, Seen(capture)))
}

/// Why a handshake did not complete.
#[derive(Debug, Clone)]
pub enum TlsFailure {
    Timeout,
    /// rustls's error: an alert received, a certificate rejected, …
    Tls(TlsError),
    /// The connection broke (closed by the peer, reset): why, in the catalogue's words.
    Io(Text),
    /// The host name cannot be used as a TLS server name.
    BadName(String),
}

impl TlsFailure {
    pub fn from_io(e: &std::io::Error) -> TlsFailure {
        if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) {
            return TlsFailure::Tls(t.clone());
        }
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                TlsFailure::Io(crate::guide::phrase("net.server_closed", &[]))
            }
            _ => TlsFailure::Io(super::words::io_error(e)),
        }
    }

    /// A stable machine code (the table in `schema/codes.md`), never rustls's Debug names.
    pub fn code(&self) -> String {
        match self {
            TlsFailure::Timeout => "timeout".into(),
            TlsFailure::Tls(e) => tls_error_code(e).into(),
            TlsFailure::Io(_) => "io".into(),
            TlsFailure::BadName(_) => "bad_name".into(),
        }
    }
}

/// An alert's code: `alert_` and its name in the TLS registry (RFC 8446 §6, RFC 5246 §7.2).
pub fn alert_code(a: rustls::AlertDescription) -> &'static str {
    match u8::from(a) {
        0 => "alert_close_notify",
        10 => "alert_unexpected_message",
        20 => "alert_bad_record_mac",
        21 => "alert_decryption_failed",
        22 => "alert_record_overflow",
        30 => "alert_decompression_failure",
        40 => "alert_handshake_failure",
        41 => "alert_no_certificate",
        42 => "alert_bad_certificate",
        43 => "alert_unsupported_certificate",
        44 => "alert_certificate_revoked",
        45 => "alert_certificate_expired",
        46 => "alert_certificate_unknown",
        47 => "alert_illegal_parameter",
        48 => "alert_unknown_ca",
        49 => "alert_access_denied",
        50 => "alert_decode_error",
        51 => "alert_decrypt_error",
        60 => "alert_export_restriction",
        70 => "alert_protocol_version",
        71 => "alert_insufficient_security",
        80 => "alert_internal_error",
        86 => "alert_inappropriate_fallback",
        90 => "alert_user_canceled",
        100 => "alert_no_renegotiation",
        109 => "alert_missing_extension",
        110 => "alert_unsupported_extension",
        111 => "alert_certificate_unobtainable",
        112 => "alert_unrecognized_name",
        113 => "alert_bad_certificate_status_response",
        114 => "alert_bad_certificate_hash_value",
        115 => "alert_unknown_psk_identity",
        116 => "alert_certificate_required",
        120 => "alert_no_application_protocol",
        _ => "alert_other",
    }
}

/// The code of a server certificate rustls rejected.
// The deprecated unit variants are still what older rustls code paths return.
#[allow(deprecated)]
pub fn certificate_error_code(c: &CertificateError) -> &'static str {
    use CertificateError as C;
    match c {
        C::BadEncoding => "server_cert_bad_encoding",
        C::Expired | C::ExpiredContext { .. } => "server_cert_expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "server_cert_not_yet_valid",
        C::Revoked => "server_cert_revoked",
        C::UnhandledCriticalExtension => "server_cert_unhandled_critical_extension",
        C::UnknownIssuer => "server_cert_unknown_issuer",
        C::UnknownRevocationStatus => "server_cert_unknown_revocation_status",
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "server_cert_expired_revocation_list"
        }
        C::BadSignature => "server_cert_bad_signature",
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "server_cert_unsupported_signature_algorithm"
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => "server_cert_wrong_name",
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "server_cert_wrong_purpose",
        C::InvalidOcspResponse => "server_cert_invalid_ocsp_response",
        C::ApplicationVerificationFailure => "server_cert_rejected",
        _ => "server_cert_other",
    }
}

/// The code of any rustls error.
pub fn tls_error_code(e: &TlsError) -> &'static str {
    match e {
        TlsError::AlertReceived(a) => alert_code(*a),
        TlsError::InvalidCertificate(c) => certificate_error_code(c),
        TlsError::InappropriateMessage { .. } | TlsError::InappropriateHandshakeMessage { .. } => {
            "unexpected_message"
        }
        TlsError::InvalidEncryptedClientHello(_) => "invalid_encrypted_client_hello",
        TlsError::InvalidMessage(_) => "invalid_message",
        TlsError::NoCertificatesPresented => "no_server_certificate",
        TlsError::UnsupportedNameType => "bad_name",
        TlsError::DecryptError => "decrypt_error",
        TlsError::EncryptError => "encrypt_error",
        TlsError::PeerIncompatible(_) => "peer_incompatible",
        TlsError::PeerMisbehaved(_) => "peer_misbehaved",
        TlsError::InvalidCertRevocationList(_) => "invalid_crl",
        TlsError::General(_) => "general",
        TlsError::FailedToGetCurrentTime => "no_current_time",
        TlsError::FailedToGetRandomBytes => "no_random_bytes",
        TlsError::HandshakeNotComplete => "handshake_not_complete",
        TlsError::PeerSentOversizedRecord => "record_overflow",
        TlsError::NoApplicationProtocol => "no_application_protocol",
        TlsError::BadMaxFragmentSize => "bad_max_fragment_size",
        TlsError::InconsistentKeys(_) => "inconsistent_keys",
        _ => "other",
    }
}

/// `CertificateRequired` → `certificate_required`, `UnknownCA` → `unknown_ca`.
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// Walk an error's sources for the rustls error (hyper wraps the io::Error that wraps it).
pub fn find_tls_error(e: &(dyn std::error::Error + 'static)) -> Option<TlsError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<TlsError>() {
            return Some(t.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) {
                return Some(t.clone());
            }
        }
        cur = err.source();
    }
    None
}

/// The one crypto provider (ring), built once.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<Arc<rustls::crypto::CryptoProvider>> =
        std::sync::OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Handshake over `stream` with SNI `host`, bounded by `timeout`.
pub async fn handshake(
    stream: BoxStream,
    host: &str,
    params: &TlsParams,
    timeout: Duration,
) -> (Result<TlsStream<BoxStream>, TlsFailure>, TlsFacts) {
    let mut facts = TlsFacts::default();
    let spec = ConfigSpec {
        verify: if params.accept_any {
            Verify::AcceptAny
        } else {
            Verify::Roots(params.roots.clone())
        },
        client: params.client.clone(),
        versions: params.versions.clone(),
        alpn: params.alpn.clone(),
    };
    let (config, Seen(capture)) = match client_config(&spec) {
        Ok(c) => c,
        Err(e) => return (Err(TlsFailure::Tls(e)), facts),
    };
    let name = match ServerName::try_from(host.trim_matches(['[', ']']).to_string()) {
        Ok(n) => n,
        Err(e) => return (Err(TlsFailure::BadName(e.to_string())), facts),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let start = Instant::now();
    let result = match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(TlsFailure::from_io(&e)),
        Err(_) => Err(TlsFailure::Timeout),
    };
    facts.handshake_ms = Some(start.elapsed().as_secs_f64() * 1000.0);
    fill_facts(&mut facts, &capture);
    if let Err(e) = &result {
        tracing::debug!(%host, error = %e.code(), "tls: handshake failed");
    }
    if let Ok(s) = &result {
        let (_, conn) = s.get_ref();
        facts.version = conn.protocol_version().map(version_name);
        facts.cipher_suite = conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()));
        facts.key_exchange = conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name()));
        facts.alpn = conn
            .alpn_protocol()
            .map(|a| String::from_utf8_lossy(a).into_owned());
        if facts.server_chain.is_empty() {
            if let Some(certs) = conn.peer_certificates() {
                facts.server_chain = certs.iter().filter_map(|c| CertInfo::parse(c)).collect();
            }
        }
    }
    tracing::debug!(
        %host,
        version = ?facts.version,
        cipher_suite = ?facts.cipher_suite,
        key_exchange = ?facts.key_exchange,
        alpn = ?facts.alpn,
        server_chain = ?facts
            .server_chain
            .iter()
            .map(|c| crate::text::escape::clean(c.subject_name()))
            .collect::<Vec<_>>(),
        server_verify_error = ?facts.verify_error.as_ref().map(tls_error_code),
        client_cert_requested = facts.client_cert_requested,
        acceptable_client_cas = ?facts
            .acceptable_client_cas
            .iter()
            .map(|n| crate::text::escape::clean(n))
            .collect::<Vec<_>>(),
        client_cert_sent = facts.client_cert_sent,
        ms = facts.handshake_ms,
        "tls: handshake"
    );
    (result, facts)
}

fn fill_facts(facts: &mut TlsFacts, capture: &Capture) {
    if let Ok(h) = capture.hints.lock() {
        if let Some(h) = h.as_ref() {
            facts.client_cert_requested = true;
            facts.acceptable_client_cas = h.iter().map(|d| dn_to_string(d)).collect();
            facts.acceptable_client_cas_der = h.clone();
        }
    }
    facts.client_cert_sent = capture.sent.load(Ordering::SeqCst);
    if let Ok(c) = capture.chain.lock() {
        facts.server_chain = c.iter().filter_map(|d| CertInfo::parse(d)).collect();
    }
    if let Ok(e) = capture.verify_error.lock() {
        facts.verify_error = e.clone();
        facts.server_verify_error = e.as_ref().map(|e| e.to_string());
    }
}

pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        rustls::ProtocolVersion::TLSv1_1 => "TLS 1.1".into(),
        rustls::ProtocolVersion::TLSv1_0 => "TLS 1.0".into(),
        other => format!("{other:?}"),
    }
}

/// The client certificate as the handshake diagnosis needs it.
#[derive(Debug, Clone, Default)]
pub struct ClientFacts {
    pub leaf: Option<CertInfo>,
    /// Certificates sent after the leaf.
    pub intermediates: Vec<CertInfo>,
}

impl ClientFacts {
    pub fn from_key(key: Option<&Arc<CertifiedKey>>) -> ClientFacts {
        let Some(k) = key else {
            return ClientFacts::default();
        };
        let mut it = k.cert.iter();
        ClientFacts {
            leaf: it.next().and_then(|c| CertInfo::parse(c)),
            intermediates: it.filter_map(|c| CertInfo::parse(c)).collect(),
        }
    }

    /// Does one of the server's acceptable CA names appear in our chain (as an issuer)?
    pub fn matches_hints(&self, hints_der: &[Vec<u8>], hints: &[String]) -> bool {
        let issuers: Vec<&CertInfo> = self.leaf.iter().chain(self.intermediates.iter()).collect();
        issuers.iter().any(|c| {
            hints_der
                .iter()
                .any(|h| *h == c.issuer_der || *h == c.subject_der)
                || hints.iter().any(|h| *h == c.issuer || *h == c.subject)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_the_rfc_spelling() {
        assert_eq!(snake("CertificateRequired"), "certificate_required");
        assert_eq!(snake("UnknownCA"), "unknown_ca");
        assert_eq!(snake("BadCertificate"), "bad_certificate");
        assert_eq!(snake("Unknown0x2a"), "unknown0x2a");
    }

    #[test]
    fn distinguished_names_read_with_or_without_outer_sequence() {
        let name: x509_cert::name::Name = "CN=Test CA,O=Example,C=JP".parse().unwrap();
        let der = name.to_der().unwrap();
        assert_eq!(dn_to_string(&der), name.to_string());
        // without the SEQUENCE header
        let inner = &der[2..];
        assert_eq!(dn_to_string(inner), name.to_string());
    }

    #[test]
    fn tls_error_found_through_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            TlsError::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        assert_eq!(
            find_tls_error(&io),
            Some(TlsError::AlertReceived(
                rustls::AlertDescription::CertificateRequired
            ))
        );
        assert_eq!(
            TlsFailure::from_io(&io).code(),
            "alert_certificate_required"
        );
    }

    #[test]
    fn codes_come_from_the_table_not_from_debug_names() {
        use rustls::AlertDescription as A;
        let code = |e: TlsError| TlsFailure::Tls(e).code();
        assert_eq!(
            code(TlsError::AlertReceived(A::UnknownCA)),
            "alert_unknown_ca"
        );
        assert_eq!(
            code(TlsError::AlertReceived(A::UnrecognisedName)),
            "alert_unrecognized_name"
        );
        assert_eq!(
            code(TlsError::AlertReceived(A::Unknown(250))),
            "alert_other"
        );
        let expired = CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(2_000_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_000_000_000)),
        };
        assert_eq!(
            code(TlsError::InvalidCertificate(expired)),
            "server_cert_expired"
        );
        assert_eq!(
            code(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer
            )),
            "server_cert_unknown_issuer"
        );
        assert_eq!(code(TlsError::General("x".into())), "general");
        // Every alert number has a code that is `alert_` and lower-case letters.
        for n in 0..=255u8 {
            let c = alert_code(A::from(n));
            assert!(
                c.starts_with("alert_")
                    && c[6..].chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{c}"
            );
        }
    }
}

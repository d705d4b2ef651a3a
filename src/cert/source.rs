//! Where a client identity comes from, and reading it: PEM, DER and PKCS#12 files.
//!
//! An identity is a leaf certificate, the other certificates that came with it, and maybe a
//! private key behind rustls' [`SigningKey`]. Files are one [`IdentitySource`]; an operating
//! system certificate store is another variant of the same enum, whose key need never leave the
//! store (it only has to sign).

use crate::error::AppError;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::sign::SigningKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Larger than any certificate, key or CA bundle a person would hand us.
pub const MAX_FILE_BYTES: u64 = crate::infile::CERT_CAP;

/// Where to read an identity from.
#[derive(Debug, Clone)]
pub enum IdentitySource {
    /// A certificate file (PEM, DER or PKCS#12) and, unless it carries one, a key file.
    File { cert: PathBuf, key: Option<PathBuf> },
    /// A certificate chosen in a Windows personal store (`CurrentUser\MY`); its key stays in
    /// the store and signs there through CNG.
    #[cfg(windows)]
    Store {
        /// E.g. `CurrentUser\MY`.
        store: String,
        cert: crate::platform::windows::store::StoreCertificate,
        /// Never let Windows show a PIN or consent prompt.
        silent: bool,
    },
}

/// A loaded client identity.
#[derive(Clone)]
pub struct Identity {
    /// Where it came from (a path), for messages.
    pub origin: String,
    /// What kind of container it was: "PEM", "DER", "PKCS#12".
    pub format: &'static str,
    pub leaf: CertificateDer<'static>,
    /// The other certificates of the file or PKCS#12 bag (intermediates, sometimes the root).
    pub extra: Vec<CertificateDer<'static>>,
    pub key: Option<LoadedKey>,
    /// Why the source's key could not be used (a store key Windows, or Wine, would not hand
    /// out); `None` for files, whose missing key is simply `key: None`.
    pub key_unusable: Option<KeyUnusable>,
}

/// A key the source holds but that cannot be used, as a finding's parts.
#[derive(Debug, Clone)]
pub struct KeyUnusable {
    pub status: crate::finding::Status,
    pub detail: crate::finding::Text,
    pub fix: crate::finding::Text,
}

/// A private key, usable only for signing.
#[derive(Clone)]
pub struct LoadedKey {
    pub origin: String,
    /// "PKCS#8", "PKCS#1 (RSA)", "SEC1 (EC)", "encrypted PKCS#8", "PKCS#12"
    pub format: &'static str,
    pub key: Arc<dyn SigningKey>,
    /// An intact RSA key too short to sign with today (under 2048 bits); `key` then offers no
    /// signature scheme, so a handshake sends no certificate rather than a refused one.
    pub weak: Option<WeakRsaKey>,
}

/// An intact RSA private key shorter than 2048 bits: ring will not sign with it, and servers
/// at OpenSSL's default security level refuse its certificate. Kept so that the checks can
/// say the key is weak (and whether it belongs to the certificate), never used to sign.
#[derive(Debug, Clone)]
pub struct WeakRsaKey {
    pub bits: usize,
    /// The public modulus, leading zeros removed.
    pub modulus: Vec<u8>,
}

impl SigningKey for WeakRsaKey {
    fn choose_scheme(
        &self,
        _offered: &[rustls::SignatureScheme],
    ) -> Option<Box<dyn rustls::sign::Signer>> {
        None
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::RSA
    }
}

impl WeakRsaKey {
    /// The key when `der` is an intact RSA key that ring refuses only for its size.
    fn of(der: &PrivateKeyDer<'_>) -> Option<WeakRsaKey> {
        if !rsa_too_small(der) {
            return None;
        }
        let pkcs1 = match der {
            PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der(),
            PrivateKeyDer::Pkcs8(k) => pkcs8::PrivateKeyInfoRef::try_from(k.secret_pkcs8_der())
                .ok()?
                .private_key
                .as_bytes(),
            _ => return None,
        };
        // RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, … }
        use der::Decode;
        let seq = <&der::asn1::SequenceRef>::from_der(pkcs1).ok()?;
        let mut r = der::SliceReader::new(seq.as_bytes()).ok()?;
        der::asn1::UintRef::decode(&mut r).ok()?;
        let modulus = der::asn1::UintRef::decode(&mut r).ok()?.as_bytes();
        let modulus = &modulus[modulus.iter().position(|&b| b != 0)?..];
        let bits = modulus.len() * 8 - modulus[0].leading_zeros() as usize;
        Some(WeakRsaKey {
            bits,
            modulus: modulus.to_vec(),
        })
    }
}

/// Where passwords come from. Never printed.
#[derive(Debug, Clone, Default)]
pub struct Passwords {
    pub env: Option<String>,
    pub file: Option<PathBuf>,
}

impl Passwords {
    /// The password given by flag, if any.
    pub fn given(&self) -> Result<Option<String>, AppError> {
        if let Some(var) = &self.env {
            return match std::env::var(var) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(AppError::catalogued(
                    "cert.password_env_unset",
                    &[("var", var)],
                )),
            };
        }
        if let Some(path) = &self.file {
            return Ok(Some(crate::infile::first_line(path)?));
        }
        Ok(None)
    }

    /// The given password, else a no-echo prompt on a terminal, else an error naming the flags.
    fn needed(&self, what: &str) -> Result<String, AppError> {
        if let Some(p) = self.given()? {
            return Ok(p);
        }
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            // The file name is shown escaped; the time at the prompt does not count against
            // --timeout.
            let shown = crate::text::escape::clean(what);
            let prompt = crate::guide::message("cert.password_prompt", &[("file", &shown)]);
            return crate::watchdog::paused(|| rpassword::prompt_password(prompt)).map_err(|e| {
                AppError::catalogued("cert.password_unreadable", &[("error", &e.to_string())])
            });
        }
        Err(AppError::catalogued(
            "cert.password_needed",
            &[("file", what)],
        ))
    }
}

/// Read a whole certificate, key or PKCS#12 file: a regular file only, through a hard cap of
/// [`MAX_FILE_BYTES`] (see [`crate::infile`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>, AppError> {
    Ok(crate::infile::read_capped(path, MAX_FILE_BYTES)?)
}

/// One PEM block: its label and decoded contents.
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// The most PEM blocks one file may hold. A CA bundle of every public root has about 150.
pub const MAX_PEM_BLOCKS: usize = 1000;

/// Why the PEM blocks of a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemError {
    /// The block with this label does not decode (damaged or cut short).
    Damaged(String),
    /// An old OpenSSL encrypted key (`Proc-Type: 4,ENCRYPTED` headers).
    LegacyEncrypted,
    /// More than [`MAX_PEM_BLOCKS`].
    TooMany,
}

impl PemError {
    /// The error that ends the run, naming the file as `shown`.
    pub fn to_app(&self, shown: &str) -> AppError {
        match self {
            PemError::Damaged(label) => {
                AppError::catalogued("cert.pem_damaged", &[("file", shown), ("label", label)])
            }
            PemError::LegacyEncrypted => {
                AppError::catalogued("input.proc_type", &[("file", shown)])
            }
            PemError::TooMany => AppError::catalogued(
                "input.pem_count",
                &[("file", shown), ("limit", &MAX_PEM_BLOCKS.to_string())],
            ),
        }
    }
}

/// Every `-----BEGIN …-----` block of a text, at most [`MAX_PEM_BLOCKS`]. One pass over the
/// text: each search starts where the previous block ended.
pub fn pem_blocks(bytes: &[u8]) -> Result<Vec<PemBlock>, PemError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        if out.len() == MAX_PEM_BLOCKS {
            return Err(PemError::TooMany);
        }
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            return Err(PemError::Damaged("BEGIN line".into()));
        };
        let label = after[..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let body_start = start + 11 + label_end + 5;
        let Some(end) = rest[body_start..].find(&end_marker) else {
            return Err(PemError::Damaged(label));
        };
        let block_end = body_start + end + end_marker.len();
        let block = &rest[start..block_end];
        match der::pem::decode_vec(block.as_bytes()) {
            Ok((_, der)) => out.push(PemBlock { label, der }),
            Err(_) if block.contains("Proc-Type:") && block.contains("ENCRYPTED") => {
                return Err(PemError::LegacyEncrypted)
            }
            Err(_) => return Err(PemError::Damaged(label)),
        }
        rest = &rest[block_end..];
    }
    Ok(out)
}

pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn parses_as_certificate(der: &[u8]) -> bool {
    // `from_der` refuses bytes after the certificate.
    <x509_cert::Certificate as der::Decode>::from_der(der).is_ok()
}

/// The contents of one input file.
#[derive(Default)]
pub struct FileContents {
    pub format: &'static str,
    pub certs: Vec<CertificateDer<'static>>,
    pub key: Option<LoadedKey>,
}

/// Read certificates (and a key, if present) from a PEM, DER or PKCS#12 file.
pub fn read_container(path: &Path, passwords: &Passwords) -> Result<FileContents, AppError> {
    let bytes = read_file(path)?;
    parse_container(bytes, &path.display().to_string(), passwords)
}

/// [`read_container`] on bytes already read; `shown` names them in messages.
pub fn parse_container(
    bytes: Vec<u8>,
    shown: &str,
    passwords: &Passwords,
) -> Result<FileContents, AppError> {
    let shown = shown.to_string();
    if looks_like_pem(&bytes) {
        let blocks = pem_blocks(&bytes).map_err(|e| e.to_app(&shown))?;
        let mut out = FileContents {
            format: "PEM",
            ..Default::default()
        };
        for b in blocks {
            match b.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    if !parses_as_certificate(&b.der) {
                        return Err(AppError::catalogued(
                            "cert.pem_not_certificate",
                            &[("file", &shown)],
                        ));
                    }
                    out.certs.push(CertificateDer::from(b.der));
                }
                _ => {
                    if out.key.is_none() {
                        if let Some(k) = key_from_pem_block(&b, &shown, passwords)? {
                            out.key = Some(k);
                        }
                    }
                }
            }
        }
        return Ok(out);
    }
    if bytes.first() == Some(&0x30) {
        if parses_as_certificate(&bytes) {
            return Ok(FileContents {
                format: "DER",
                certs: vec![CertificateDer::from(bytes)],
                key: None,
            });
        }
        if let Some(key) = der_key(&bytes, &shown, passwords)? {
            return Ok(FileContents {
                format: "DER",
                certs: Vec::new(),
                key: Some(key),
            });
        }
        if let Some(p12) = read_pkcs12(&bytes, &shown, passwords)? {
            return Ok(p12);
        }
    }
    Err(AppError::catalogued(
        "cert.not_certificate_file",
        &[("file", &shown)],
    ))
}

/// Read a PKCS#12 file; `Ok(None)` when the bytes are not PKCS#12 at all.
fn read_pkcs12(
    bytes: &[u8],
    shown: &str,
    passwords: &Passwords,
) -> Result<Option<FileContents>, AppError> {
    use p12_keystore::error::Error as P12Error;
    use p12_keystore::Pkcs12Archive;
    // The key derivations it asks for are summed before any of them runs.
    check_kdf_cost(bytes, shown)?;
    let given = passwords.given()?;
    let attempt = |pw: &str| Pkcs12Archive::from_pkcs12(bytes, pw);
    let archive = match given {
        Some(pw) => attempt(&pw),
        None => match attempt("") {
            Err(P12Error::MacError(_)) => attempt(&passwords.needed(shown)?),
            other => other,
        },
    };
    let archive = match archive {
        Ok(a) => a,
        Err(P12Error::MacError(_)) => {
            return Err(AppError::catalogued(
                "cert.p12_wrong_password",
                &[("file", shown)],
            ))
        }
        Err(P12Error::UnsupportedEncryptionScheme | P12Error::UnsupportedMacAlgorithm) => {
            return Err(AppError::catalogued(
                "cert.p12_unsupported",
                &[("file", shown)],
            ))
        }
        // Not PKCS#12 at all, or cut short before its structure ends.
        Err(P12Error::DerError(_)) => return Ok(None),
        Err(_) => return Err(AppError::catalogued("cert.p12_damaged", &[("file", shown)])),
    };
    let key_bag = archive.keys.first();
    // The leaf: the certificate bag that shares the key's local key id, else the first one.
    let leaf_index = key_bag
        .and_then(|k| k.local_key_id.as_ref())
        .and_then(|id| {
            archive
                .certs
                .iter()
                .position(|c| c.local_key_id.as_deref() == Some(id.0.as_slice()))
        })
        .unwrap_or(0);
    let mut certs: Vec<CertificateDer<'static>> = Vec::new();
    if let Some(leaf) = archive.certs.get(leaf_index) {
        certs.push(CertificateDer::from(leaf.cert.as_der().to_vec()));
    }
    for (i, c) in archive.certs.iter().enumerate() {
        if i != leaf_index {
            certs.push(CertificateDer::from(c.cert.as_der().to_vec()));
        }
    }
    let key = match key_bag {
        Some(k) => {
            let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.key.as_der().to_vec()));
            Some(signing_key(der, shown, "PKCS#12")?)
        }
        None => None,
    };
    Ok(Some(FileContents {
        format: "PKCS#12",
        certs,
        key,
    }))
}

/// Refuse a PKCS#12 file or encrypted key whose key derivations would cost more than the
/// limits of [`super::pkcs12_cost`], before any of them runs.
fn check_kdf_cost(der: &[u8], shown: &str) -> Result<(), AppError> {
    use super::pkcs12_cost::{cost, MAX_SCRYPT_BYTES, MAX_TOTAL_ITERATIONS};
    let c = cost(der);
    if c.affordable() {
        return Ok(());
    }
    if c.scrypt_bytes > MAX_SCRYPT_BYTES {
        return Err(AppError::catalogued(
            "input.scrypt_memory",
            &[
                ("file", shown),
                ("memory", &crate::text::human::bytes(c.scrypt_bytes)),
                ("limit", &crate::text::human::bytes(MAX_SCRYPT_BYTES)),
            ],
        ));
    }
    Err(AppError::catalogued(
        "input.p12_work",
        &[
            ("file", shown),
            ("work", &c.iterations.to_string()),
            ("count", &c.derivations.to_string()),
            ("limit", &MAX_TOTAL_ITERATIONS.to_string()),
        ],
    ))
}

/// ring refuses RSA keys under 2048 bits as "TooSmall"; any other rejection is not about size.
fn rsa_too_small(der: &PrivateKeyDer<'_>) -> bool {
    let rejected = match der {
        PrivateKeyDer::Pkcs8(k) => ring::rsa::KeyPair::from_pkcs8(k.secret_pkcs8_der()).err(),
        PrivateKeyDer::Pkcs1(k) => ring::rsa::KeyPair::from_der(k.secret_pkcs1_der()).err(),
        _ => None,
    };
    rejected.is_some_and(|e| e.to_string() == "TooSmall")
}

fn signing_key(
    der: PrivateKeyDer<'static>,
    origin: &str,
    format: &'static str,
) -> Result<LoadedKey, AppError> {
    let (key, weak): (Arc<dyn SigningKey>, _) =
        match rustls::crypto::ring::sign::any_supported_type(&der) {
            Ok(key) => (key, None),
            // An intact key that is only too short (RSA-1024) is weak, not damaged: the
            // checks report it.
            Err(_) => match WeakRsaKey::of(&der) {
                Some(w) => (Arc::new(w.clone()), Some(w)),
                None => {
                    return Err(AppError::catalogued(
                        "cert.key_unusable",
                        &[("file", origin)],
                    ))
                }
            },
        };
    Ok(LoadedKey {
        origin: origin.to_string(),
        format,
        key,
        weak,
    })
}

/// A private key in DER: PKCS#8 (plain or encrypted), PKCS#1 (RSA) or SEC1 (EC). `Ok(None)`
/// when the bytes are none of these.
fn der_key(
    bytes: &[u8],
    shown: &str,
    passwords: &Passwords,
) -> Result<Option<LoadedKey>, AppError> {
    use rustls::crypto::ring::sign::any_supported_type;
    let plain: [(PrivateKeyDer<'static>, &'static str); 3] = [
        (
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(bytes.to_vec())),
            "PKCS#8 (DER)",
        ),
        (
            PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(bytes.to_vec())),
            "PKCS#1 (RSA, DER)",
        ),
        (
            PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(bytes.to_vec())),
            "SEC1 (EC, DER)",
        ),
    ];
    for (der, format) in plain {
        if any_supported_type(&der).is_ok() || rsa_too_small(&der) {
            return signing_key(der, shown, format).map(Some);
        }
    }
    if pkcs8::EncryptedPrivateKeyInfoRef::try_from(bytes).is_ok() {
        let block = PemBlock {
            label: "ENCRYPTED PRIVATE KEY".into(),
            der: bytes.to_vec(),
        };
        return key_from_pem_block(&block, shown, passwords);
    }
    Ok(None)
}

fn key_from_pem_block(
    b: &PemBlock,
    shown: &str,
    passwords: &Passwords,
) -> Result<Option<LoadedKey>, AppError> {
    let der = b.der.clone();
    let (der, format) = match b.label.as_str() {
        "PRIVATE KEY" => (
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
            "PKCS#8",
        ),
        "RSA PRIVATE KEY" => (
            PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
            "PKCS#1 (RSA)",
        ),
        "EC PRIVATE KEY" => (
            PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
            "SEC1 (EC)",
        ),
        "ENCRYPTED PRIVATE KEY" => {
            let info =
                pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).map_err(|_| {
                    AppError::catalogued("cert.encrypted_key_damaged", &[("file", shown)])
                })?;
            check_kdf_cost(&der, shown)?;
            let pw = passwords.needed(shown)?;
            let doc = info.decrypt(pw.as_bytes()).map_err(|_| {
                AppError::catalogued("cert.encrypted_key_wrong_password", &[("file", shown)])
            })?;
            (
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(doc.as_bytes().to_vec())),
                "encrypted PKCS#8",
            )
        }
        _ => return Ok(None),
    };
    signing_key(der, shown, format).map(Some)
}

/// Read a key file (PEM key or a PKCS#12 whose key is used).
pub fn read_key(path: &Path, passwords: &Passwords) -> Result<LoadedKey, AppError> {
    let contents = read_container(path, passwords)?;
    contents.key.ok_or_else(|| {
        AppError::catalogued(
            "cert.no_key_in_file",
            &[("file", &path.display().to_string())],
        )
    })
}

/// Read certificates only (for --ca and --trust): every certificate in the file.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, AppError> {
    let contents = read_container(path, &Passwords::default())?;
    if contents.certs.is_empty() {
        return Err(AppError::catalogued(
            "cert.no_certificate_in_file",
            &[("file", &path.display().to_string())],
        ));
    }
    Ok(contents.certs)
}

impl IdentitySource {
    pub fn load(&self, passwords: &Passwords) -> Result<Identity, AppError> {
        match self {
            IdentitySource::File { cert, key } => load_files(cert, key.as_deref(), passwords),
            #[cfg(windows)]
            IdentitySource::Store {
                store,
                cert,
                silent,
            } => Ok(load_store(store, cert, *silent)),
        }
    }
}

fn load_files(
    cert: &Path,
    key: Option<&Path>,
    passwords: &Passwords,
) -> Result<Identity, AppError> {
    let contents = read_container(cert, passwords)?;
    let mut certs = contents.certs.into_iter();
    let Some(leaf) = certs.next() else {
        return Err(AppError::catalogued(
            "cert.only_a_key",
            &[("file", &cert.display().to_string())],
        ));
    };
    let mut extra: Vec<CertificateDer<'static>> = certs.collect();
    let mut leaf = leaf;
    // A PEM bundle may list the intermediate first; the leaf is the one that is not a CA.
    if contents.format != "PKCS#12" && is_ca(&leaf) {
        if let Some(pos) = extra.iter().position(|c| !is_ca(c)) {
            std::mem::swap(&mut leaf, &mut extra[pos]);
        }
    }
    let key = match key {
        Some(k) => Some(read_key(k, passwords)?),
        None => contents.key,
    };
    Ok(Identity {
        origin: cert.display().to_string(),
        format: contents.format,
        leaf,
        extra,
        key,
        key_unusable: None,
    })
}

/// The chosen store certificate, the intermediates Windows finds for it, and its key as a
/// CNG handle (never exported).
#[cfg(windows)]
fn load_store(
    store: &str,
    cert: &crate::platform::windows::store::StoreCertificate,
    silent: bool,
) -> Identity {
    use crate::finding::Status;
    use crate::guide::phrase;
    use crate::platform::windows::store::{certified_key, StoreError};
    let summary = &cert.candidate.cert;
    let origin = format!("{store} {}", summary.thumbprint);
    let leaf = CertificateDer::from(summary.der.clone());
    let extra: Vec<CertificateDer<'static>> = cert
        .chain()
        .into_iter()
        .filter(|c| c.as_ref() != summary.der.as_slice())
        .collect();
    let name = summary.display_name();
    let (key, key_unusable) = match certified_key(cert, silent) {
        Ok(ck) => (
            Some(LoadedKey {
                origin: origin.clone(),
                format: "CNG, kept in the store",
                key: ck.key.clone(),
                weak: None,
            }),
            None,
        ),
        Err(e) => {
            let (status, detail, fix) = match &e {
                StoreError::Wine => (
                    Status::Warn,
                    phrase("cert.store_wine", &[]),
                    crate::guide::fix("windows.wine_store_key", &[]),
                ),
                StoreError::NoPrivateKey { thumbprint } => (
                    Status::Fail,
                    phrase("cert.store_no_key", &[("thumbprint", thumbprint)]),
                    crate::guide::fix(
                        "windows.no_private_key",
                        &[("name", name), ("file", "file.pfx")],
                    ),
                ),
                StoreError::KeyUnavailable { thumbprint, detail } => (
                    Status::Fail,
                    phrase(
                        "cert.store_key_unavailable",
                        &[
                            ("name", name),
                            ("thumbprint", thumbprint),
                            ("detail", detail),
                        ],
                    ),
                    crate::guide::fix(
                        "windows.key_unavailable",
                        &[("name", name), ("detail", detail)],
                    ),
                ),
                StoreError::Open { store, code } => (
                    Status::Fail,
                    phrase(
                        "cert.store_open",
                        &[("store", store), ("code", &code.to_string())],
                    ),
                    crate::guide::fix("windows.no_cert_in_store", &[("file", "file.pfx")]),
                ),
            };
            (
                None,
                Some(KeyUnusable {
                    status,
                    detail,
                    fix,
                }),
            )
        }
    };
    Identity {
        origin,
        format: "Windows certificate store",
        leaf,
        extra,
        key,
        key_unusable,
    }
}

pub fn is_ca(der: &CertificateDer<'_>) -> bool {
    use der::Decode;
    x509_cert::Certificate::from_der(der)
        .ok()
        .and_then(|c| {
            c.tbs_certificate()
                .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
                .ok()
                .flatten()
                .map(|(_, b)| b.ca)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name)
    }

    fn with_password() -> Passwords {
        Passwords {
            env: None,
            file: Some(pki("password.txt")),
        }
    }

    #[test]
    fn pem_blocks_are_split_and_decoded() {
        let bytes = std::fs::read(pki("client-chain.pem")).unwrap();
        let blocks = pem_blocks(&bytes).unwrap();
        assert_eq!(blocks.len(), 2);
        assert!(blocks.iter().all(|b| b.label == "CERTIFICATE"));
        let cut = &bytes[..bytes.len() / 3];
        assert!(pem_blocks(cut).is_err());
    }

    #[test]
    fn every_pkcs12_encryption_opens() {
        for f in ["client.p12", "client-legacy.p12", "client-3des.p12"] {
            let c = read_container(&pki(f), &with_password()).unwrap();
            assert_eq!(c.format, "PKCS#12");
            assert_eq!(c.certs.len(), 2, "{f}");
            assert!(c.key.is_some(), "{f}");
        }
    }

    #[test]
    fn leaf_comes_first_even_when_a_bundle_lists_the_ca_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reversed.pem");
        let inter = std::fs::read_to_string(pki("inter.pem")).unwrap();
        let leaf = std::fs::read_to_string(pki("client.pem")).unwrap();
        std::fs::write(&path, format!("{inter}{leaf}")).unwrap();
        let id = IdentitySource::File {
            cert: path,
            key: None,
        }
        .load(&Passwords::default())
        .unwrap();
        assert!(!is_ca(&id.leaf));
        assert_eq!(id.extra.len(), 1);
    }

    #[test]
    fn password_file_uses_the_first_line_only() {
        assert_eq!(
            with_password().given().unwrap().as_deref(),
            Some("certprobe-test")
        );
    }

    #[test]
    fn der_and_key_forms() {
        let c = read_container(&pki("client.der"), &Passwords::default()).unwrap();
        assert_eq!((c.format, c.certs.len()), ("DER", 1));
        for (f, form) in [
            ("client.key", "PKCS#8"),
            ("client-sec1.key", "SEC1 (EC)"),
            ("client-rsa-pkcs1.key", "PKCS#1 (RSA)"),
            ("client-enc.key", "encrypted PKCS#8"),
        ] {
            assert_eq!(read_key(&pki(f), &with_password()).unwrap().format, form);
        }
    }
}

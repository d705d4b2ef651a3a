//! The Windows certificate stores: the personal store ("MY") as a source of client
//! certificates whose keys sign in place through CNG, and the "Root" and "CA" stores for the
//! presence and expiry of the profile's CAs.
//!
//! Keys are never exported: a chosen certificate becomes a [`rustls::sign::CertifiedKey`] whose
//! signing key is a handle to the key where Windows keeps it (software key storage, TPM or
//! smart card). Under Wine that path is refused with [`StoreError::Wine`] before any key is
//! touched, because Wine's CNG crashes the process there.

use super::registry::is_wine;
use super::{from_wide_ptr, wide};
use crate::platform::ca::{self, CaPresence};
use crate::platform::select::{self, Candidate, CertSummary, Criteria, Selection};
use crate::profile::CaRole;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use rustls_cng::cert::CertContext;
use rustls_cng::key::NCryptKey;
use rustls_cng::signer::CngSigningKey;
use std::fmt;
use std::ptr;
use std::sync::Arc;
use time::OffsetDateTime;
use windows_sys::Win32::Foundation::GetLastError;
use windows_sys::Win32::Security::Cryptography::{
    CertCloseStore, CertDuplicateCertificateContext, CertEnumCertificatesInStore,
    CertGetCertificateContextProperty, CertOpenStore, CERT_CONTEXT, CERT_KEY_CONTEXT_PROP_ID,
    CERT_KEY_PROV_INFO_PROP_ID, CERT_NCRYPT_KEY_HANDLE_PROP_ID, CERT_STORE_OPEN_EXISTING_FLAG,
    CERT_STORE_PROV_SYSTEM_W, CERT_STORE_READONLY_FLAG, CERT_SYSTEM_STORE_CURRENT_USER,
    CERT_SYSTEM_STORE_LOCAL_MACHINE, CRYPT_KEY_PROV_INFO, HCERTSTORE,
};

/// Whose stores: the signed-in user's (default) or the machine's (`--machine-store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Location {
    #[default]
    CurrentUser,
    LocalMachine,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::CurrentUser => "CurrentUser",
            Location::LocalMachine => "LocalMachine",
        }
    }

    fn flags(self) -> u32 {
        match self {
            Location::CurrentUser => CERT_SYSTEM_STORE_CURRENT_USER,
            Location::LocalMachine => CERT_SYSTEM_STORE_LOCAL_MACHINE,
        }
    }
}

/// Why the store could not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store could not be opened (other than being absent, which reads as empty).
    Open { store: String, code: u32 },
    /// Under Wine, store keys cannot sign: the handshake must use a PKCS#12 file instead.
    Wine,
    /// The certificate has no private key in the store.
    NoPrivateKey { thumbprint: String },
    /// Windows would not hand out the key (smart card absent, PIN refused, key deleted, …).
    KeyUnavailable { thumbprint: String, detail: String },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { store, code } => {
                write!(f, "cannot open the certificate store {store} (Windows error {code})")
            }
            StoreError::Wine => f.write_str(
                "this is Wine, whose CNG cannot sign with a key from the Windows certificate store; \
                 export the certificate with its key to a PKCS#12 file and pass it with --cert, \
                 or run certprobe on Windows",
            ),
            StoreError::NoPrivateKey { thumbprint } => write!(
                f,
                "the certificate {thumbprint} has no private key in the store; import the PKCS#12 \
                 file (.p12/.pfx) you received, not only the certificate"
            ),
            StoreError::KeyUnavailable { thumbprint, detail } => write!(
                f,
                "Windows would not let certprobe use the private key of {thumbprint}: {detail}"
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// One certificate of a store, with the store's own handle to it (for the key).
#[derive(Clone)]
pub struct StoreCertificate {
    pub candidate: Candidate,
    context: CertContext,
}

impl fmt::Debug for StoreCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreCertificate")
            .field("candidate", &self.candidate)
            .finish_non_exhaustive()
    }
}

impl StoreCertificate {
    /// The certificate followed by the intermediates Windows finds for it (the root left out).
    /// If Windows cannot build a chain, the certificate alone.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        match self.context.as_chain_der() {
            Ok(chain) if !chain.is_empty() => chain.into_iter().map(CertificateDer::from).collect(),
            _ => vec![CertificateDer::from(self.context.as_der().to_vec())],
        }
    }
}

/// An open system store, closed on drop.
struct RawStore(HCERTSTORE);

impl RawStore {
    /// Read-only, existing stores only: a missing store reads as `None`, not as an error, and
    /// nothing is ever created or written.
    fn open(location: Location, name: &str) -> Result<Option<RawStore>, StoreError> {
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and outlives the call.
        let h = unsafe {
            CertOpenStore(
                CERT_STORE_PROV_SYSTEM_W,
                0,
                0,
                location.flags() | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG,
                wname.as_ptr().cast(),
            )
        };
        if !h.is_null() {
            return Ok(Some(RawStore(h)));
        }
        // SAFETY: reads the calling thread's last error.
        let code = unsafe { GetLastError() };
        // ERROR_FILE_NOT_FOUND / ERROR_PATH_NOT_FOUND, also as HRESULTs: no such store.
        if matches!(code, 2 | 3 | 0x8007_0002 | 0x8007_0003) {
            return Ok(None);
        }
        Err(StoreError::Open {
            store: format!("{}\\{name}", location.as_str()),
            code,
        })
    }

    fn contexts(&self) -> Vec<CertContext> {
        let mut out = Vec::new();
        let mut prev: *const CERT_CONTEXT = ptr::null();
        loop {
            // SAFETY: `prev` is null or the context this enumeration returned last (which the
            // call frees); the result is duplicated before the next call frees it.
            let next = unsafe { CertEnumCertificatesInStore(self.0, prev) };
            if next.is_null() {
                break;
            }
            // SAFETY: `next` is a valid context; the duplicate is owned by the wrapper.
            out.push(CertContext::new_owned(unsafe {
                CertDuplicateCertificateContext(next)
            }));
            prev = next;
        }
        out
    }
}

impl Drop for RawStore {
    fn drop(&mut self) {
        // SAFETY: the handle came from CertOpenStore and is closed once.
        unsafe {
            CertCloseStore(self.0, 0);
        }
    }
}

/// Whether the store links a private key to the certificate, and its provider's name.
fn key_info(ctx: &CertContext) -> (bool, Option<String>) {
    let p: *const CERT_CONTEXT = ctx.inner();
    let mut size: u32 = 0;
    // SAFETY: a size query for a property of a valid context.
    let has_prov_info = unsafe {
        CertGetCertificateContextProperty(p, CERT_KEY_PROV_INFO_PROP_ID, ptr::null_mut(), &mut size)
    } != 0;
    if has_prov_info && size as usize >= std::mem::size_of::<CRYPT_KEY_PROV_INFO>() {
        // u64 elements keep the structure aligned.
        let mut buf = vec![0u64; (size as usize).div_ceil(8)];
        // SAFETY: `buf` holds `size` bytes, aligned for CRYPT_KEY_PROV_INFO.
        let ok = unsafe {
            CertGetCertificateContextProperty(
                p,
                CERT_KEY_PROV_INFO_PROP_ID,
                buf.as_mut_ptr().cast(),
                &mut size,
            )
        } != 0;
        let provider = if ok {
            // SAFETY: the property is a CRYPT_KEY_PROV_INFO whose strings point into `buf`.
            unsafe {
                let info = &*(buf.as_ptr() as *const CRYPT_KEY_PROV_INFO);
                from_wide_ptr(info.pwszProvName)
            }
        } else {
            None
        };
        return (true, provider);
    }
    // A key attached to the context in memory (not persisted) also counts.
    for prop in [CERT_NCRYPT_KEY_HANDLE_PROP_ID, CERT_KEY_CONTEXT_PROP_ID] {
        let mut size: u32 = 0;
        // SAFETY: a size query, as above.
        if unsafe { CertGetCertificateContextProperty(p, prop, ptr::null_mut(), &mut size) } != 0 {
            return (true, None);
        }
    }
    (false, None)
}

/// Every certificate in a system store (`MY`, `Root`, `CA`, …). A store that does not exist
/// yet lists as empty. Certificates that do not parse are left out.
pub fn list(location: Location, store: &str) -> Result<Vec<StoreCertificate>, StoreError> {
    let Some(raw) = RawStore::open(location, store)? else {
        return Ok(Vec::new());
    };
    Ok(raw
        .contexts()
        .into_iter()
        .filter_map(|context| {
            let cert = CertSummary::from_der(context.as_der()).ok()?;
            let (has_private_key, key_provider) = key_info(&context);
            Some(StoreCertificate {
                candidate: Candidate {
                    cert,
                    has_private_key,
                    key_provider,
                },
                context,
            })
        })
        .collect())
}

/// The personal store, every candidate judged, and the chosen one (if any).
#[derive(Debug)]
pub struct StoreSelection {
    /// E.g. `CurrentUser\MY`.
    pub store: String,
    pub selection: Selection,
    certs: Vec<StoreCertificate>,
}

impl StoreSelection {
    /// The chosen certificate with its store handle.
    pub fn chosen(&self) -> Option<&StoreCertificate> {
        self.selection.chosen.and_then(|i| self.certs.get(i))
    }
}

/// Judge every certificate of the personal store ("MY") against `criteria` at time `at`.
pub fn select_client_cert(
    location: Location,
    criteria: &Criteria,
    at: OffsetDateTime,
) -> Result<StoreSelection, StoreError> {
    let certs = list(location, "MY")?;
    let selection = select::select(
        certs.iter().map(|c| c.candidate.clone()).collect(),
        criteria,
        at,
    );
    Ok(StoreSelection {
        store: format!("{}\\MY", location.as_str()),
        selection,
        certs,
    })
}

/// A rustls client identity whose key stays in the store and signs through CNG.
///
/// `silent`: never let Windows show a prompt (PIN, consent); a key that needs one then fails.
/// Under Wine this returns [`StoreError::Wine`] without touching the key.
pub fn certified_key(
    cert: &StoreCertificate,
    silent: bool,
) -> Result<Arc<CertifiedKey>, StoreError> {
    if is_wine() {
        return Err(StoreError::Wine);
    }
    let thumbprint = cert.candidate.cert.thumbprint.clone();
    if !cert.candidate.has_private_key {
        return Err(StoreError::NoPrivateKey { thumbprint });
    }
    let key = cert
        .context
        .acquire_key(silent)
        .map_err(|e| StoreError::KeyUnavailable {
            thumbprint: thumbprint.clone(),
            detail: describe_cng_error(&e),
        })?;
    certified_key_from_cng(cert.chain(), key).map_err(|e| match e {
        StoreError::KeyUnavailable { detail, .. } => {
            StoreError::KeyUnavailable { thumbprint, detail }
        }
        other => other,
    })
}

/// A rustls client identity from a certificate chain and a CNG key handle.
pub fn certified_key_from_cng(
    chain: Vec<CertificateDer<'static>>,
    key: NCryptKey,
) -> Result<Arc<CertifiedKey>, StoreError> {
    let signing = CngSigningKey::new(key).map_err(|e| StoreError::KeyUnavailable {
        thumbprint: String::new(),
        detail: describe_cng_error(&e),
    })?;
    Ok(Arc::new(CertifiedKey::new(chain, Arc::new(signing))))
}

/// A CNG error in words, for the common cases a person can act on.
fn describe_cng_error(e: &rustls_cng::error::CngError) -> String {
    use rustls_cng::error::CngError;
    let code = match e {
        CngError::WindowsError(c) => *c,
        other => return other.to_string(),
    };
    let key = match code {
        0x8010_000C | 0x8010_0069 | 0x8010_001D => "platform.cng_no_card",
        0x8010_006E | 0x8009_0022 => "platform.cng_cancelled",
        0x8009_000D | 0x8009_0016 => "platform.cng_key_missing",
        0x8009_0029 => "platform.cng_unsupported",
        0x8000_9009 | 0x8009_0010 => "platform.cng_denied",
        _ => "platform.cng_other",
    };
    crate::guide::message(key, &[("code", &format!("0x{code:08X}"))])
}

/// The profile's root and intermediate CAs in the "Root" and "CA" stores, for the current
/// user and for the machine (Windows shows the user both).
pub fn ca_presence(
    wanted: &[(CaRole, String)],
    at: OffsetDateTime,
) -> Result<Vec<CaPresence>, StoreError> {
    let mut stores = Vec::new();
    for location in [Location::CurrentUser, Location::LocalMachine] {
        for name in ["Root", "CA"] {
            let ders = list(location, name)?
                .into_iter()
                .map(|c| c.candidate.cert.der)
                .collect();
            stores.push((format!("{}\\{name}", location.as_str()), ders));
        }
    }
    Ok(ca::ca_presence(&stores, wanted, at))
}

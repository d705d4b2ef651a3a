//! Windows: the personal, CA and Root certificate stores, CNG keys in a mutual-TLS handshake,
//! and the Internet Settings in the registry. Run by `.ci/windows.sh` under Wine, or on Windows.
//!
//! Every test creates what it reads (certificates imported into the current user's stores,
//! registry values written under HKCU) and puts things back when it ends. Run them one at a
//! time (`--test-threads=1`): they share the stores and the registry.
//!
//! Under Wine, keys taken from a store cannot sign (Wine's CNG faults), so the store-key
//! handshake is only run on Windows; under Wine the test checks that certprobe refuses that path
//! with a clear error instead. The handshake itself is tested everywhere with an RSA key
//! imported into CNG with NCryptImportKey.
#![cfg(windows)]

use certprobe::platform::ca::CaPresence;
use certprobe::platform::internet::{InternetSettings, SecureProtocols, INTERNET_SETTINGS_KEY};
use certprobe::platform::select::{CertSummary, Criteria, Reason};
use certprobe::platform::windows::store::{self, Location, StoreError};
use certprobe::platform::windows::{internet_settings, is_wine};
use certprobe::profile::{CaRole, ClientCertSpec};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, ServerName};
use rustls::sign::CertifiedKey;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ptr;
use std::sync::Arc;
use std::time::Duration;
use windows_sys::Win32::Security::Cryptography::*;
use windows_sys::Win32::System::Registry::{
    RegDeleteKeyValueW, RegDeleteTreeW, RegSetKeyValueW, HKEY_CURRENT_USER, REG_DWORD, REG_SZ,
};

const ROOT: &[u8] = include_bytes!("../fixtures/pki/root.pem");
const INTER: &[u8] = include_bytes!("../fixtures/pki/inter.pem");
const INTER_EXPIRED: &[u8] = include_bytes!("../fixtures/pki/inter-expired.pem");
const CLIENT: &[u8] = include_bytes!("../fixtures/pki/client.pem");
const CLIENT_EXPIRED: &[u8] = include_bytes!("../fixtures/pki/client-expired.pem");
const CLIENT_WRONG_ISSUER: &[u8] = include_bytes!("../fixtures/pki/client-wrong-issuer.pem");
const CLIENT_BADNAME: &[u8] = include_bytes!("../fixtures/pki/client-badname.pem");
const CLIENT_RSA: &[u8] = include_bytes!("../fixtures/pki/client-rsa.pem");
const CLIENT_RSA_KEY: &[u8] = include_bytes!("../fixtures/pki/client-rsa.key");
const CLIENT_RSA_PKCS1: &[u8] = include_bytes!("../fixtures/pki/client-rsa-pkcs1.key");
const SERVER: &[u8] = include_bytes!("../fixtures/pki/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../fixtures/pki/server.key");
const SERVER_ROOT: &[u8] = include_bytes!("../fixtures/pki/server-root.pem");

const MEMBER_CA: &str = "SECOM Passport for Member PUB CA1";

fn der(pem: &[u8]) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem).unwrap().to_vec()
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn thumbprint(pem: &[u8]) -> String {
    CertSummary::from_der(&der(pem)).unwrap().thumbprint
}

fn profile_spec() -> ClientCertSpec {
    ClientCertSpec {
        subject_pattern: Some("S47*".into()),
        issuers: vec![MEMBER_CA.into()],
        issuer_patterns: vec!["SECOM Passport for Member PUB CA*".into()],
        roots: vec!["Security Communication RootCA1".into()],
        successor_roots: vec![],
        require_client_auth_eku: false,
        expiry_warning_days: 30,
    }
}

// ---------------------------------------------------------------------------------------------
// Writable stores for the tests (certprobe itself only ever opens stores read-only).

struct WritableStore(HCERTSTORE);

impl WritableStore {
    fn open(name: &str) -> WritableStore {
        let w = wide(name);
        let h = unsafe {
            CertOpenStore(
                CERT_STORE_PROV_SYSTEM_W,
                0,
                0,
                CERT_SYSTEM_STORE_CURRENT_USER,
                w.as_ptr().cast(),
            )
        };
        assert!(!h.is_null(), "cannot open CurrentUser\\{name} for writing");
        WritableStore(h)
    }

    fn add_der(&self, der: &[u8]) {
        let ok = unsafe {
            CertAddEncodedCertificateToStore(
                self.0,
                X509_ASN_ENCODING | PKCS_7_ASN_ENCODING,
                der.as_ptr(),
                der.len() as u32,
                CERT_STORE_ADD_REPLACE_EXISTING,
                ptr::null_mut(),
            )
        };
        assert_ne!(ok, 0, "cannot add a certificate to the store");
    }

    /// Import a PKCS#12 file the way the certificate import wizard does (key into the user's
    /// key storage, certificates into this store).
    fn import_pfx(&self, pfx: &[u8], password: &str) {
        let blob = CRYPT_INTEGER_BLOB {
            cbData: pfx.len() as u32,
            pbData: pfx.as_ptr() as *mut u8,
        };
        let pw = wide(password);
        let tmp =
            unsafe { PFXImportCertStore(&blob, pw.as_ptr(), CRYPT_EXPORTABLE | CRYPT_USER_KEYSET) };
        assert!(
            !tmp.is_null(),
            "PFXImportCertStore refused the PKCS#12 file"
        );
        let mut prev: *const CERT_CONTEXT = ptr::null();
        let mut added = 0;
        loop {
            let ctx = unsafe { CertEnumCertificatesInStore(tmp, prev) };
            if ctx.is_null() {
                break;
            }
            let ok = unsafe {
                CertAddCertificateContextToStore(
                    self.0,
                    ctx,
                    CERT_STORE_ADD_REPLACE_EXISTING,
                    ptr::null_mut(),
                )
            };
            assert_ne!(ok, 0, "cannot add an imported certificate to the store");
            added += 1;
            prev = ctx;
        }
        unsafe { CertCloseStore(tmp, 0) };
        assert!(added > 0, "the PKCS#12 file held no certificate");
    }

    /// Remove every certificate whose thumbprint is in `thumbprints`.
    fn remove(&self, thumbprints: &[String]) {
        loop {
            let mut prev: *const CERT_CONTEXT = ptr::null();
            let mut victim = None;
            loop {
                let ctx = unsafe { CertEnumCertificatesInStore(self.0, prev) };
                if ctx.is_null() {
                    break;
                }
                let c = unsafe { &*ctx };
                let d = unsafe {
                    std::slice::from_raw_parts(c.pbCertEncoded, c.cbCertEncoded as usize)
                };
                if let Ok(s) = CertSummary::from_der(d) {
                    if thumbprints.contains(&s.thumbprint) {
                        victim = Some(unsafe { CertDuplicateCertificateContext(ctx) });
                        unsafe { CertFreeCertificateContext(ctx) };
                        break;
                    }
                }
                prev = ctx;
            }
            match victim {
                // CertDeleteCertificateFromStore frees the context it is given.
                Some(v) => unsafe {
                    CertDeleteCertificateFromStore(v);
                },
                None => break,
            }
        }
    }
}

impl Drop for WritableStore {
    fn drop(&mut self) {
        unsafe { CertCloseStore(self.0, 0) };
    }
}

/// Certificates added for one test, removed again when it ends (also when it fails).
/// Each change goes through its own store handle, closed at once: Wine commits a system
/// store's changes when the handle is closed.
struct Added {
    name: String,
    thumbprints: Vec<String>,
}

impl Added {
    fn new(name: &str, pems: &[&[u8]]) -> Added {
        let thumbprints: Vec<String> = pems.iter().map(|p| thumbprint(p)).collect();
        WritableStore::open(name).remove(&thumbprints);
        Added {
            name: name.to_string(),
            thumbprints,
        }
    }

    fn store(&self) -> WritableStore {
        WritableStore::open(&self.name)
    }
}

impl Drop for Added {
    fn drop(&mut self) {
        self.store().remove(&self.thumbprints);
        // Wine 8.0 deletes the certificate from the open store but does not write the deletion
        // back to the registry (measured: every certificate the tests removed was still in
        // user.reg afterwards). The user's system stores keep each certificate under
        // HKCU\Software\Microsoft\SystemCertificates\<store>\Certificates\<SHA-1>, on Windows
        // too: remove that entry as well (absent after a deletion Windows did write back).
        for t in &self.thumbprints {
            let key = wide(&format!(
                r"Software\Microsoft\SystemCertificates\{}\Certificates\{}",
                self.name,
                t.to_uppercase()
            ));
            unsafe { RegDeleteTreeW(HKEY_CURRENT_USER, key.as_ptr()) };
        }
    }
}

fn rsa_client_pfx(password: &str) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let key = match PrivateKeyDer::from_pem_slice(CLIENT_RSA_KEY).unwrap() {
        PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        _ => panic!("client-rsa.key is not PKCS#8"),
    };
    let chain = vec![
        Certificate::from_der(&der(CLIENT_RSA)).unwrap(),
        Certificate::from_der(&der(INTER)).unwrap(),
    ];
    let entry = PrivateKeyChain::new(
        b"certprobe-rsa".to_vec(),
        PrivateKey::from_der(&key).unwrap(),
        chain,
    );
    let mut ks = KeyStore::new();
    ks.add_entry("certprobe test", KeyStoreEntry::PrivateKeyChain(entry));
    ks.writer(password).write().unwrap()
}

// ---------------------------------------------------------------------------------------------
// A CNG key from a PKCS#1 RSA key (NCryptImportKey with a BCRYPT_RSAPRIVATE_BLOB).

/// The INTEGERs of a DER SEQUENCE (enough for an RSAPrivateKey).
fn der_integers(der: &[u8]) -> Vec<Vec<u8>> {
    fn header(d: &[u8]) -> (u8, usize, usize) {
        let tag = d[0];
        let first = d[1] as usize;
        if first < 0x80 {
            (tag, first, 2)
        } else {
            let n = first & 0x7f;
            let len = d[2..2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            (tag, len, 2 + n)
        }
    }
    let (tag, len, off) = header(der);
    assert_eq!(tag, 0x30);
    let mut body = &der[off..off + len];
    let mut out = Vec::new();
    while !body.is_empty() {
        let (tag, len, off) = header(body);
        assert_eq!(tag, 0x02);
        let mut v = &body[off..off + len];
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        out.push(v.to_vec());
        body = &body[off + len..];
    }
    out
}

fn cng_rsa_key() -> rustls_cng::key::NCryptKey {
    let pkcs1 = PrivatePkcs1KeyDer::from_pem_slice(CLIENT_RSA_PKCS1).unwrap();
    let ints = der_integers(pkcs1.secret_pkcs1_der());
    // version, n, e, d, p, q, dp, dq, qinv
    let (n, e, p, q) = (&ints[1], &ints[2], &ints[4], &ints[5]);
    let mut blob = Vec::new();
    for v in [
        BCRYPT_RSAPRIVATE_MAGIC,
        (n.len() * 8) as u32,
        e.len() as u32,
        n.len() as u32,
        p.len() as u32,
        q.len() as u32,
    ] {
        blob.extend_from_slice(&v.to_le_bytes());
    }
    for part in [e, n, p, q] {
        blob.extend_from_slice(part);
    }
    let mut prov: NCRYPT_PROV_HANDLE = 0;
    let rc = unsafe { NCryptOpenStorageProvider(&mut prov, MS_KEY_STORAGE_PROVIDER, 0) };
    assert_eq!(rc, 0, "NCryptOpenStorageProvider failed: 0x{rc:08X}");
    let mut key: NCRYPT_KEY_HANDLE = 0;
    let rc = unsafe {
        NCryptImportKey(
            prov,
            0,
            BCRYPT_RSAPRIVATE_BLOB,
            ptr::null(),
            &mut key,
            blob.as_ptr(),
            blob.len() as u32,
            0,
        )
    };
    unsafe { NCryptFreeObject(prov) };
    assert_eq!(rc, 0, "NCryptImportKey failed: 0x{rc:08X}");
    rustls_cng::key::NCryptKey::new_owned(key)
}

// ---------------------------------------------------------------------------------------------
// A loopback rustls server that requires a client certificate.

#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for Fixed {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
    fn has_certs(&self) -> bool {
        true
    }
}

/// One mutual-TLS exchange; returns the client certificate the server saw.
fn handshake(
    client: Arc<CertifiedKey>,
    version: &'static rustls::SupportedProtocolVersion,
) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client_roots = rustls::RootCertStore::empty();
    client_roots.add(CertificateDer::from(der(ROOT))).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(client_roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(der(SERVER))],
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || -> Result<Vec<u8>, String> {
        let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        sock.set_write_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let conn =
            rustls::ServerConnection::new(Arc::new(server_cfg)).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf)
            .map_err(|e| format!("server read: {e}"))?;
        if &buf != b"ping" {
            return Err("server got no ping".into());
        }
        let peer = tls
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec())
            .ok_or("no client certificate")?;
        tls.write_all(b"pong").map_err(|e| e.to_string())?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        Ok(peer)
    });

    let mut server_roots = rustls::RootCertStore::empty();
    server_roots
        .add(CertificateDer::from(der(SERVER_ROOT)))
        .unwrap();
    let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(server_roots)
        .with_client_cert_resolver(Arc::new(Fixed(client)));
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let conn = rustls::ClientConnection::new(
        Arc::new(client_cfg),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    let read = tls.read_exact(&mut buf);
    let peer = server.join().unwrap();
    read.unwrap_or_else(|e| panic!("client read failed: {e}; server: {peer:?}"));
    assert_eq!(&buf, b"pong");
    assert_eq!(tls.conn.protocol_version(), Some(version.version));
    peer.unwrap()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn wine_is_recognised_by_its_registry_key() {
    // .ci/windows.sh sets CERTPROBE_EXPECT_WINE=1; on Windows it is absent.
    let expect = std::env::var("CERTPROBE_EXPECT_WINE").is_ok_and(|v| v == "1");
    assert_eq!(
        is_wine(),
        expect,
        "HKLM\\Software\\Wine presence differs from CERTPROBE_EXPECT_WINE"
    );
}

/// Restores the Internet Settings values a test changed.
struct SettingsGuard(InternetSettings);

fn set_dword(name: &str, v: Option<u32>) {
    let key = wide(INTERNET_SETTINGS_KEY);
    let n = wide(name);
    let rc = unsafe {
        match v {
            Some(v) => RegSetKeyValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                n.as_ptr(),
                REG_DWORD,
                (&v as *const u32).cast(),
                4,
            ),
            None => RegDeleteKeyValueW(HKEY_CURRENT_USER, key.as_ptr(), n.as_ptr()),
        }
    };
    assert!(
        rc == 0 || (v.is_none() && rc == 2),
        "registry write of {name} failed: {rc}"
    );
}

fn set_string(name: &str, v: Option<&str>) {
    let key = wide(INTERNET_SETTINGS_KEY);
    let n = wide(name);
    let rc = unsafe {
        match v {
            Some(s) => {
                let w = wide(s);
                RegSetKeyValueW(
                    HKEY_CURRENT_USER,
                    key.as_ptr(),
                    n.as_ptr(),
                    REG_SZ,
                    w.as_ptr().cast(),
                    (w.len() * 2) as u32,
                )
            }
            None => RegDeleteKeyValueW(HKEY_CURRENT_USER, key.as_ptr(), n.as_ptr()),
        }
    };
    assert!(
        rc == 0 || (v.is_none() && rc == 2),
        "registry write of {name} failed: {rc}"
    );
}

fn write_settings(s: &InternetSettings) {
    set_dword("ProxyEnable", s.proxy_enable.map(u32::from));
    set_string("ProxyServer", s.proxy_server.as_deref());
    set_string("ProxyOverride", s.proxy_override.as_deref());
    set_string("AutoConfigURL", s.auto_config_url.as_deref());
    set_dword("SecureProtocols", s.secure_protocols.map(|p| p.0));
}

impl Drop for SettingsGuard {
    fn drop(&mut self) {
        write_settings(&self.0);
    }
}

#[test]
fn internet_settings_are_read_from_the_registry() {
    let _guard = SettingsGuard(internet_settings().unwrap());
    let wanted = InternetSettings {
        proxy_enable: Some(true),
        proxy_server: Some("http=127.0.0.1:3128;https=127.0.0.1:3129".into()),
        proxy_override: Some("*.secomtrust.net;<local>".into()),
        auto_config_url: Some("http://127.0.0.1:8080/proxy.pac".into()),
        secure_protocols: Some(SecureProtocols(0x0880)),
    };
    write_settings(&wanted);
    let got = internet_settings().unwrap();
    assert_eq!(got, wanted);
    let p = got.secure_protocols.unwrap();
    assert_eq!(p.enabled(), vec!["TLS 1.0", "TLS 1.2"]);
    assert!(p.legacy() && p.tls12() && !p.tls13());

    // Switched off and partly absent.
    let off = InternetSettings {
        proxy_enable: Some(false),
        proxy_server: Some("127.0.0.1:3128".into()),
        ..InternetSettings::default()
    };
    write_settings(&off);
    assert_eq!(internet_settings().unwrap(), off);
}

#[test]
fn personal_store_candidates_are_judged_and_the_right_one_chosen() {
    let pfx_password = "certprobe-test";
    let my = Added::new(
        "MY",
        &[
            CLIENT_RSA,
            INTER,
            CLIENT,
            CLIENT_EXPIRED,
            CLIENT_WRONG_ISSUER,
            CLIENT_BADNAME,
        ],
    );
    my.store()
        .import_pfx(&rsa_client_pfx(pfx_password), pfx_password);
    for pem in [CLIENT, CLIENT_EXPIRED, CLIENT_WRONG_ISSUER, CLIENT_BADNAME] {
        my.store().add_der(&der(pem)); // certificates without their keys
    }

    let listed = store::list(Location::CurrentUser, "MY").unwrap();
    let rsa = thumbprint(CLIENT_RSA);
    let listed_rsa = listed
        .iter()
        .find(|c| c.candidate.cert.thumbprint == rsa)
        .expect("imported leaf listed");
    assert!(
        listed_rsa.candidate.has_private_key,
        "the imported key is linked to its certificate"
    );
    assert!(
        listed
            .iter()
            .any(|c| c.candidate.cert.thumbprint == thumbprint(INTER)),
        "the intermediate of the PKCS#12 file is in MY too"
    );

    let criteria = Criteria::from_profile(&profile_spec(), None, None).unwrap();
    let at = time::OffsetDateTime::now_utc();
    let sel = store::select_client_cert(Location::CurrentUser, &criteria, at).unwrap();
    assert_eq!(sel.store, "CurrentUser\\MY");
    let chosen = sel.chosen().expect("a certificate is chosen");
    assert_eq!(chosen.candidate.cert.thumbprint, rsa);
    assert_eq!(
        chosen.candidate.cert.subject_cn.as_deref(),
        Some("S47000009")
    );
    assert_eq!(chosen.chain()[0].as_ref(), der(CLIENT_RSA).as_slice());

    let reasons = |pem: &[u8]| -> Vec<Reason> {
        let t = thumbprint(pem);
        sel.selection
            .verdicts
            .iter()
            .find(|v| v.candidate.cert.thumbprint == t)
            .unwrap_or_else(|| panic!("{t} not listed"))
            .reasons
            .clone()
    };
    assert_eq!(reasons(CLIENT), vec![Reason::NoPrivateKey]);
    let r = reasons(CLIENT_EXPIRED);
    assert!(
        r.iter().any(|r| matches!(r, Reason::Expired { .. })),
        "{r:?}"
    );
    let r = reasons(CLIENT_WRONG_ISSUER);
    assert!(
        r.iter().any(
            |r| matches!(r, Reason::WrongIssuer { issuer, .. } if issuer == "SECOM Web Server CA1")
        ),
        "{r:?}"
    );
    let r = reasons(CLIENT_BADNAME);
    assert!(
        r.iter()
            .any(|r| matches!(r, Reason::SubjectPatternMismatch { .. })),
        "{r:?}"
    );
    let r = reasons(INTER);
    assert!(r.contains(&Reason::IsCa), "{r:?}");

    // An explicit thumbprint (as pasted from certmgr.msc) of a certificate without its key.
    let pasted = format!("\u{200e}{}", thumbprint(CLIENT).to_lowercase());
    let criteria = Criteria::from_profile(&profile_spec(), Some(&pasted), None).unwrap();
    let sel = store::select_client_cert(Location::CurrentUser, &criteria, at).unwrap();
    assert!(
        sel.chosen().is_none(),
        "a certificate without its private key is not usable"
    );
    // By subject.
    let criteria = Criteria::from_profile(&profile_spec(), None, Some("cn=s47000009")).unwrap();
    let sel = store::select_client_cert(Location::CurrentUser, &criteria, at).unwrap();
    assert_eq!(sel.chosen().unwrap().candidate.cert.thumbprint, rsa);

    // The key stays in the store and signs there -- except on Wine, which must be refused.
    let chosen = sel.chosen().unwrap();
    if is_wine() {
        let err = store::certified_key(chosen, true).unwrap_err();
        assert_eq!(err, StoreError::Wine);
        assert!(err.to_string().contains("--cert"), "{err}");
    } else {
        let key = store::certified_key(chosen, true).expect("store key usable");
        let seen = handshake(key, &rustls::version::TLS13);
        assert_eq!(seen, der(CLIENT_RSA));
    }
}

#[test]
fn mutual_tls_with_a_cng_key() {
    let chain = vec![
        CertificateDer::from(der(CLIENT_RSA)),
        CertificateDer::from(der(INTER)),
    ];
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        // A fresh key handle per handshake (Wine's ncrypt cannot switch padding on one handle).
        let key = store::certified_key_from_cng(chain.clone(), cng_rsa_key()).unwrap();
        let seen = handshake(key, version);
        assert_eq!(
            seen,
            der(CLIENT_RSA),
            "the server saw the client certificate ({:?})",
            version.version
        );
    }
}

#[test]
fn root_and_intermediate_cas_are_found_with_their_expiry() {
    let ca = Added::new("CA", &[INTER, INTER_EXPIRED]);
    ca.store().add_der(&der(INTER));
    ca.store().add_der(&der(INTER_EXPIRED));
    // Adding to the user's Root store shows a confirmation dialog on Windows; only Wine's
    // store is written. On Windows the check uses a root every installation has.
    let (_root, root_name) = if is_wine() {
        let root = Added::new("Root", &[ROOT]);
        root.store().add_der(&der(ROOT));
        (Some(root), "Security Communication RootCA1")
    } else {
        (None, "Microsoft Root Certificate Authority 2011")
    };
    let wanted = vec![
        (CaRole::Root, root_name.to_string()),
        (CaRole::Intermediate, MEMBER_CA.to_string()),
        (
            CaRole::Intermediate,
            "SECOM Passport for Member PUB CA9".to_string(),
        ),
    ];
    let found: Vec<CaPresence> =
        store::ca_presence(&wanted, time::OffsetDateTime::now_utc()).unwrap();
    assert!(
        found[0].usable(),
        "{root_name} in a Root store: {:?}",
        found[0]
    );
    assert!(found[0].found.iter().any(|f| f.store.ends_with("\\Root")));
    let inter = &found[1];
    assert!(inter.usable(), "{inter:?}");
    let in_ca: Vec<_> = inter
        .found
        .iter()
        .filter(|f| f.store == "CurrentUser\\CA")
        .collect();
    assert_eq!(in_ca.len(), 2, "{inter:?}");
    assert!(in_ca.iter().any(|f| f.expired) && in_ca.iter().any(|f| !f.expired));
    assert!(found[2].found.is_empty());
}

#[test]
fn check_without_cert_takes_the_certificate_from_the_personal_store() {
    let pfx_password = "certprobe-test";
    let my = Added::new("MY", &[CLIENT_RSA, INTER]);
    my.store()
        .import_pfx(&rsa_client_pfx(pfx_password), pfx_password);
    // Where the import wizard puts the intermediate.
    let ca = Added::new("CA", &[INTER]);
    ca.store().add_der(&der(INTER));
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(&profile, include_str!("it/support/local_profile.toml")).unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, ROOT).unwrap();

    let out = assert_cmd::cargo::cargo_bin_cmd!("certprobe")
        .env_remove("CERTPROBE_CERT")
        .env_remove("CERTPROBE_KEY")
        .env_remove("CERTPROBE_PROFILE")
        .env("LANG", "C")
        .args(["--profile"])
        .arg(&profile)
        .args([
            "--format",
            "json",
            "check",
            "--only",
            "local",
            "--no-system-trust",
            "--trust",
        ])
        .arg(&root)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        code == 0 || code == 1,
        "check exited {code}: {stderr}\n{stdout}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let findings = doc["findings"].as_array().unwrap();
    let find = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {stdout}"))
    };
    let rsa = thumbprint(CLIENT_RSA);
    let chosen = find("cert.store");
    assert_eq!(chosen["status"], "pass", "{chosen:#}");
    assert_eq!(chosen["target"], "CurrentUser\\MY");
    let detail = chosen["detail"].as_str().unwrap();
    assert!(
        detail.contains("S47000009") && detail.contains(&rsa),
        "{detail}"
    );
    assert!(
        findings.iter().any(|f| f["id"] == "cert.store.candidate"
            && f["target"].as_str().is_some_and(|t| t.ends_with(&rsa))
            && f["detail"]
                .as_str()
                .is_some_and(|d| d.ends_with(": chosen"))),
        "the chosen candidate is listed: {stdout}"
    );
    // The store certificate goes through the same checks as a file.
    let load = find("cert.load");
    assert_eq!(load["status"], "pass", "{load:#}");
    assert!(load["target"].as_str().unwrap().contains(&rsa));
    assert_eq!(find("cert.chain")["status"], "pass", "{stdout}");
    let key = find("cert.key_match");
    if is_wine() {
        assert_eq!(key["status"], "warn", "{key:#}");
        let d = key["detail"].as_str().unwrap();
        assert!(d.contains("Wine") && d.contains("--cert"), "{d}");
        assert_eq!(key["section"], "2-1 (6)");
    } else {
        assert_eq!(key["status"], "pass", "{key:#}");
    }
    // Where Windows keeps the root (not in its stores here: it came from --trust).
    let root_f = find("trust.root");
    assert!(root_f["data"]["windows_stores"].is_array(), "{root_f:#}");

    // `verify` without --cert validates the same store certificate's path.
    let out = assert_cmd::cargo::cargo_bin_cmd!("certprobe")
        .env_remove("CERTPROBE_CERT")
        .env_remove("CERTPROBE_KEY")
        .env_remove("CERTPROBE_PROFILE")
        .env("LANG", "C")
        .args(["--profile"])
        .arg(&profile)
        .args(["--format", "json", "verify", "--no-system-trust", "--trust"])
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let chain = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert.chain")
        .unwrap_or_else(|| panic!("no cert.chain in {stdout}"));
    assert_eq!(chain["status"], "pass", "{chain:#}");
    assert!(
        chain["target"].as_str().unwrap().contains(&rsa),
        "{chain:#}"
    );
}

#[test]
fn registry_proxy_and_secure_protocols_feed_the_environment_findings() {
    let _guard = SettingsGuard(internet_settings().unwrap());
    write_settings(&InternetSettings {
        proxy_enable: Some(true),
        proxy_server: Some("127.0.0.1:3128".into()),
        proxy_override: Some("<local>".into()),
        auto_config_url: None,
        // TLS 1.0, 1.1 and 1.2 on, TLS 1.3 off.
        secure_protocols: Some(SecureProtocols(0x0A80)),
    });
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(&profile, include_str!("it/support/local_profile.toml")).unwrap();
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("certprobe");
    for var in [
        "CERTPROBE_CERT",
        "CERTPROBE_PROFILE",
        "https_proxy",
        "HTTPS_PROXY",
        "http_proxy",
        "HTTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("LANG", "C")
        .arg("--profile")
        .arg(&profile)
        .args(["--format", "json", "check", "--only", "environment"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        code == 0 || code == 1,
        "check exited {code}: {stderr}\n{stdout}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let findings = doc["findings"].as_array().unwrap();
    let find = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {stdout}"))
    };
    let proxy = find("env.proxy");
    assert_eq!(
        proxy["data"]["source"], "Windows Internet Settings",
        "{proxy:#}"
    );
    assert!(
        proxy["data"]["https_proxy"]
            .as_str()
            .is_some_and(|p| p.contains("127.0.0.1:3128")),
        "{proxy:#}"
    );
    assert_eq!(proxy["data"]["bypass_source"], "ProxyOverride", "{proxy:#}");
    let tls = find("env.tls_settings");
    assert_eq!(tls["data"]["secure_protocols"], 0x0A80, "{tls:#}");
    assert_eq!(tls["status"], "warn", "{tls:#}");
    let d = tls["detail"].as_str().unwrap();
    assert!(d.contains("TLS 1.3 switched off"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// The person at the PC: certprobe.exe as they run it. CERTPROBE_EXE names the exe to run (the
// packaged one, in .ci/windows.sh); otherwise the one cargo built.

fn exe_path() -> std::path::PathBuf {
    std::env::var_os("CERTPROBE_EXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_certprobe").into())
}

/// certprobe.exe with nothing of the caller's language, proxy or certificate settings: what it
/// shows comes from Windows alone.
fn person_cmd() -> std::process::Command {
    let mut cmd = std::process::Command::new(exe_path());
    for var in [
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
        "LANGUAGE",
        "CERTPROBE_CERT",
        "CERTPROBE_KEY",
        "CERTPROBE_PROFILE",
        "CERTPROBE_DOUBLE_CLICK",
        "NO_COLOR",
        "https_proxy",
        "HTTPS_PROXY",
        "http_proxy",
        "HTTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The Windows UI language the runner set up (.ci/windows.sh: `CERTPROBE_EXPECT_UI_LANG`).
fn expected_ui_lang() -> certprobe::Lang {
    match std::env::var("CERTPROBE_EXPECT_UI_LANG").as_deref() {
        Ok("ja") => certprobe::Lang::Ja,
        Ok("en") => certprobe::Lang::En,
        other => panic!(
            "CERTPROBE_EXPECT_UI_LANG must say which UI language Windows has (ja or en), got {other:?}"
        ),
    }
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

#[test]
fn exe_ui_language_decides_the_default_language() {
    let lang = expected_ui_lang();
    let out = person_cmd().args(["demo", "--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let header = certprobe::guide::label("demo.list.header", lang);
    assert!(
        stdout.starts_with(&header),
        "Windows UI language {lang:?}, LANG/LC_* unset: expected {header:?} first in\n{stdout}"
    );
    if lang == certprobe::Lang::Ja {
        assert!(has_japanese(&stdout), "{stdout}");
    }

    // --lang still decides over Windows.
    let out = person_cmd()
        .args(["--lang", "en", "demo", "--list"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&certprobe::guide::label(
            "demo.list.header",
            certprobe::Lang::En
        )),
        "{stdout}"
    );
}

#[test]
fn exe_console_output_has_no_raw_escape_sequences() {
    let lang = expected_ui_lang();
    let out = person_cmd()
        .args(["demo", "--scenario", "missing-intermediate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.is_empty());
    for (name, s) in [("stdout", stdout.as_str()), ("stderr", &*stderr)] {
        assert!(
            !s.contains('\u{1b}') && !s.contains("[1;3") && !s.contains("[0m"),
            "raw escape sequence on {name}:\n{s}"
        );
    }
    // In the person's language (wrapped to the width; compared without the line breaks).
    let flat = |s: &str| s.split_whitespace().collect::<String>();
    let intro = certprobe::guide::label("demo.intro.service", lang);
    assert!(
        flat(&stdout).contains(&flat(&intro)),
        "{intro:?} missing from\n{stdout}"
    );
}

/// The double-click start writes into the user's Documents folder: the reports it wrote during a
/// test, removed when the test ends.
struct NewReports {
    dir: std::path::PathBuf,
    before: Vec<std::path::PathBuf>,
}

impl NewReports {
    fn new() -> NewReports {
        let dir = certprobe::platform::console::documents_dir();
        let before = Self::list(&dir);
        NewReports { dir, before }
    }

    fn list(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.starts_with("certprobe-report-") && n.ends_with(".html")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn new_ones(&self) -> Vec<std::path::PathBuf> {
        Self::list(&self.dir)
            .into_iter()
            .filter(|p| !self.before.contains(p))
            .collect()
    }

    /// Waits (up to two minutes) for a new report that is completely written.
    fn wait_for_one(&self) -> std::path::PathBuf {
        for _ in 0..1200 {
            if let Some(p) = self.new_ones().into_iter().next() {
                let html = std::fs::read_to_string(&p).unwrap_or_default();
                if html.trim_end().ends_with("</html>") {
                    return p;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no new report in {}", self.dir.display());
    }
}

impl Drop for NewReports {
    fn drop(&mut self) {
        for p in self.new_ones() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn local_profile(dir: &std::path::Path) -> std::path::PathBuf {
    let profile = dir.join("profile.toml");
    std::fs::write(&profile, include_str!("it/support/local_profile.toml")).unwrap();
    profile
}

#[test]
fn exe_double_click_writes_the_report_and_waits_for_enter() {
    use std::process::Stdio;
    let lang = expected_ui_lang();
    let reports = NewReports::new();
    let dir = tempfile::tempdir().unwrap();
    // The service's addresses on localhost (nothing listens: the check ends quickly).
    let mut child = person_cmd()
        .env("CERTPROBE_DOUBLE_CLICK", "1")
        .env("CERTPROBE_PROFILE", local_profile(dir.path()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let report = reports.wait_for_one();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<html"), "{html}");
    // The report is written; the window stays until Enter.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "certprobe ended without waiting for Enter"
    );
    child.stdin.take().unwrap().write_all(b"\r\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for key in ["doubleclick.intro", "doubleclick.press_enter"] {
        let text = certprobe::guide::label(key, lang);
        assert!(stdout.contains(&text), "{text:?} missing from\n{stdout}");
    }
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
}

#[test]
fn exe_alone_on_a_new_console_is_a_double_click() {
    use std::os::windows::process::CommandExt;
    const CREATE_NEW_CONSOLE: u32 = 0x0000_0010;
    let reports = NewReports::new();
    let dir = tempfile::tempdir().unwrap();
    // No CERTPROBE_DOUBLE_CLICK: certprobe.exe is the only process on the console Windows made
    // for it, as after a double-click in Explorer.
    let mut child = person_cmd()
        .env("CERTPROBE_PROFILE", local_profile(dir.path()))
        .creation_flags(CREATE_NEW_CONSOLE)
        .spawn()
        .unwrap();
    let report = reports.wait_for_one();
    assert!(std::fs::read_to_string(&report).unwrap().contains("<html"));
    // Windows: it now waits for Enter on a console nobody types into. Wine's console without a
    // display gives it no input, so there it ends by itself.
    if child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(500));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
        }
    }
    let _ = child.wait();
}

#[test]
fn exe_demo_leaves_the_windows_stores_alone() {
    // The PC's stores hold the demo's CA names (as a real PC of the service's users does).
    let ca = Added::new("CA", &[INTER]);
    ca.store().add_der(&der(INTER));
    let root = Added::new("Root", &[ROOT]);
    if is_wine() {
        root.store().add_der(&der(ROOT));
    }
    let my = Added::new("MY", &[CLIENT_RSA, INTER]);
    let pfx_password = "certprobe-test";
    my.store()
        .import_pfx(&rsa_client_pfx(pfx_password), pfx_password);
    for (scenario, code) in [
        ("missing-intermediate", 1),
        ("no-certificate", 1),
        ("healthy", 0),
    ] {
        let out = person_cmd()
            .args([
                "--lang",
                "en",
                "--format",
                "json",
                "demo",
                "--scenario",
                scenario,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{scenario}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        for f in doc["findings"].as_array().unwrap() {
            assert!(
                f["data"].get("windows_stores").is_none(),
                "{scenario}: the demo looked into the PC's stores: {f:#}"
            );
            assert!(
                !f["id"].as_str().unwrap().starts_with("cert.store"),
                "{scenario}: the demo took the PC's personal store: {f:#}"
            );
            let text = f.to_string();
            assert!(
                !text.contains("CurrentUser\\\\") && !text.contains("LocalMachine\\\\"),
                "{scenario}: a Windows store is named: {f:#}"
            );
        }
    }
}

/// Serves `body` as a PAC file to every request on 127.0.0.1 (until the test ends); its URL.
fn serve_pac(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/proxy.pac", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn exe_pac_script_sends_the_service_through_its_proxy() {
    // tinyproxy on 127.0.0.1, started by .ci/windows.sh (a Linux program beside Wine).
    let proxy = std::env::var("CERTPROBE_WIN_TINYPROXY")
        .expect("CERTPROBE_WIN_TINYPROXY (127.0.0.1:port of a running tinyproxy) is not set");
    let proxy_log = std::env::var("CERTPROBE_WIN_TINYPROXY_LOG")
        .expect("CERTPROBE_WIN_TINYPROXY_LOG (the tinyproxy log file) is not set");
    // The service: whatever connects here came through the proxy's tunnel.
    let service = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = service.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let seen = seen.clone();
        std::thread::spawn(move || {
            for conn in service.incoming() {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(conn);
            }
        });
    }
    let pac = serve_pac(format!(
        "function FindProxyForURL(url, host) {{\n  \
           if (host == \"localhost\") return \"PROXY {proxy}\";\n  \
           return \"DIRECT\";\n}}\n"
    ));
    let _guard = SettingsGuard(internet_settings().unwrap());
    write_settings(&InternetSettings {
        proxy_enable: Some(false),
        proxy_server: None,
        proxy_override: None,
        auto_config_url: Some(pac.clone()),
        secure_protocols: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(
        &profile,
        include_str!("it/support/local_profile.toml")
            .replace("localhost:9", &format!("localhost:{port}")),
    )
    .unwrap();
    let out = person_cmd()
        .arg("--profile")
        .arg(&profile)
        .args([
            "--lang",
            "en",
            "--format",
            "json",
            "check",
            "--only",
            "environment",
            "--only",
            "network",
            "--endpoint",
            "check",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {}\n{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let env_proxy = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "env.proxy")
        .unwrap_or_else(|| panic!("no env.proxy in {stdout}"))
        .clone();
    // Which proxy the PAC script chose, and that the script is named.
    assert_eq!(env_proxy["data"]["pac"], pac.as_str(), "{env_proxy:#}");
    let route = env_proxy["data"]["routes"]["localhost"]
        .as_str()
        .unwrap_or_default();
    assert!(route.contains(&proxy), "route {route:?}: {env_proxy:#}");
    let detail = env_proxy["detail"].as_str().unwrap();
    assert!(detail.contains(&proxy) && detail.contains(&pac), "{detail}");
    // And the check went through it.
    let log = std::fs::read_to_string(&proxy_log).unwrap_or_default();
    assert!(
        log.contains(&format!("CONNECT localhost:{port}")),
        "tinyproxy did not tunnel to localhost:{port}:\n{log}\n{stdout}"
    );
    assert!(
        seen.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the service saw no connection"
    );
}

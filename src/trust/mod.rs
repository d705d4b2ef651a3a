//! Trust anchors: the platform's roots plus `--trust` files; anchor expiry.
//!
//! webpki's trust anchors carry no validity period, so an expired root still "verifies".
//! Every anchor here keeps its whole certificate, and [`root_findings`] checks its dates.

mod file;
mod meta;

pub use meta::fingerprint;

pub use file::read_certs;
pub use meta::{subject_of, AnchorMeta};

use crate::error::AppError;
use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::profile::Profile;
use crate::text::human::date;
use rustls::pki_types::{CertificateDer, TrustAnchor};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Where an anchor came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorOrigin {
    Platform,
    File(PathBuf),
}

impl AnchorOrigin {
    /// `the platform trust store` or `--trust FILE`, in English (machine data).
    pub fn describe(&self) -> String {
        self.text().en
    }

    /// The same for a person, in both languages.
    pub fn text(&self) -> Text {
        match self {
            AnchorOrigin::Platform => phrase("trust.origin_platform", &[]),
            AnchorOrigin::File(p) => {
                phrase("trust.origin_file", &[("file", &p.display().to_string())])
            }
        }
    }
}

/// One trusted root, with its certificate kept for its dates and names.
///
/// Only the subject is read at load (a few DER headers); the certificate is parsed the first
/// time a path can use the anchor, so a run pays for the roots it looks at, not for all ~150.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub der: CertificateDer<'static>,
    pub origin: AnchorOrigin,
    /// The subject name as DER, read at load: the index key.
    pub subject_der: Vec<u8>,
    meta: OnceLock<Option<AnchorMeta>>,
    /// The anchor as webpki wants it (`None`: webpki cannot read it).
    webpki: OnceLock<Option<TrustAnchor<'static>>>,
}

impl Anchor {
    /// `None` when not even the subject can be read.
    pub fn new(der: CertificateDer<'static>, origin: AnchorOrigin) -> Option<Anchor> {
        let subject_der = subject_of(&der)?.to_vec();
        Some(Anchor {
            der,
            origin,
            subject_der,
            meta: OnceLock::new(),
            webpki: OnceLock::new(),
        })
    }

    /// The anchor's subject, validity and fingerprint (read on first use). `None`: a platform
    /// root whose certificate cannot be read (a `--trust` file that cannot is refused at load).
    pub fn meta(&self) -> Option<&AnchorMeta> {
        self.meta
            .get_or_init(|| AnchorMeta::parse(&self.der).ok())
            .as_ref()
    }

    /// Whether the anchor is within its validity at `at` (an unreadable one is not).
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.meta().is_some_and(|m| m.valid_at(at))
    }

    /// The anchor as webpki wants it, borrowed (parsed on first use).
    pub fn webpki(&self) -> Option<TrustAnchor<'_>> {
        self.webpki
            .get_or_init(|| {
                webpki::anchor_from_trusted_cert(&self.der)
                    .ok()
                    .map(|a| a.to_owned())
            })
            .as_ref()
            .map(|a| TrustAnchor {
                subject: a.subject.as_ref().into(),
                subject_public_key_info: a.subject_public_key_info.as_ref().into(),
                name_constraints: a.name_constraints.as_ref().map(|n| n.as_ref().into()),
            })
    }
}

/// The roots certprobe trusts for this run.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Anchor>,
    /// Anchor indexes by subject DER.
    index: HashMap<Vec<u8>, Vec<usize>>,
    /// Whether the platform store was asked at all (`--no-system-trust` turns it off).
    pub system: bool,
    pub platform_loaded: usize,
    /// Platform roots or load errors that could not be used, one line each.
    pub platform_errors: Vec<String>,
    pub load_time: Duration,
}

impl TrustStore {
    /// Load the platform roots (unless `system` is false) and every certificate of `extra`.
    pub fn load(system: bool, extra: &[PathBuf]) -> Result<TrustStore, AppError> {
        let start = Instant::now();
        let mut store = TrustStore {
            system,
            ..Default::default()
        };
        for path in extra {
            let shown = path.display().to_string();
            for der in read_certs(path)? {
                // Files named on the command line are read whole: bad input is said at once.
                let meta = AnchorMeta::parse(&der).map_err(|e| {
                    AppError::catalogued(
                        "trust.file_unreadable_cert",
                        &[("file", &shown), ("error", &e)],
                    )
                })?;
                let anchor =
                    Anchor::new(der, AnchorOrigin::File(path.clone())).ok_or_else(|| {
                        AppError::catalogued(
                            "trust.file_unreadable_cert",
                            &[("file", &shown), ("error", "no subject")],
                        )
                    })?;
                let _ = anchor.meta.set(Some(meta));
                store.push(anchor);
            }
        }
        if system {
            store.add_platform();
        }
        store.load_time = start.elapsed();
        Ok(store)
    }

    /// Add the platform's roots (once): for a caller that first tried the `--trust` anchors
    /// alone and found no path through them.
    pub fn add_platform(&mut self) {
        if self.platform_loaded > 0 || !self.platform_errors.is_empty() {
            return;
        }
        let start = Instant::now();
        self.system = true;
        let (certs, errors) = platform_roots();
        self.platform_errors.extend(errors);
        for der in certs {
            match Anchor::new(der, AnchorOrigin::Platform) {
                Some(a) => {
                    self.platform_loaded += 1;
                    self.push(a);
                }
                None => self
                    .platform_errors
                    .push(phrase("trust.platform_root_unparsable", &[]).en),
            }
        }
        self.load_time += start.elapsed();
    }

    fn push(&mut self, a: Anchor) {
        self.index
            .entry(a.subject_der.clone())
            .or_default()
            .push(self.anchors.len());
        self.anchors.push(a);
    }

    /// The anchors whose subject is one of these names (DER): the only ones a path through
    /// certificates with these issuers can end in. Only these get parsed.
    pub fn usable_for<'a>(&self, issuers: impl Iterator<Item = &'a [u8]>) -> Vec<&Anchor> {
        let mut idx: Vec<usize> = issuers
            .filter_map(|i| self.index.get(i))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| &self.anchors[i]).collect()
    }

    /// The anchors from `--trust` files (few, and compared by name as text when their
    /// subject DER differs in encoding from a child's issuer).
    pub fn file_anchors(&self) -> impl Iterator<Item = &Anchor> {
        self.anchors
            .iter()
            .filter(|a| matches!(a.origin, AnchorOrigin::File(_)))
    }

    /// The anchors as webpki wants them; an anchor webpki cannot read is left out.
    pub fn webpki_anchors(&self) -> Vec<TrustAnchor<'_>> {
        self.anchors.iter().filter_map(|a| a.webpki()).collect()
    }

    /// The anchors as rustls wants them (for validating servers).
    pub fn root_cert_store(&self) -> rustls::RootCertStore {
        self.anchors
            .iter()
            .filter_map(|a| a.webpki().map(|t| t.to_owned()))
            .collect()
    }

    /// Anchors whose subject is exactly this DER name.
    pub fn by_subject<'a>(&'a self, subject_der: &[u8]) -> impl Iterator<Item = &'a Anchor> {
        self.index
            .get(subject_der)
            .into_iter()
            .flatten()
            .map(|&i| &self.anchors[i])
    }

    /// Anchors whose display name is `name` (CN, else OU). Only anchors whose subject holds
    /// the name's bytes are parsed.
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Anchor> {
        let needle = name.to_ascii_lowercase();
        self.anchors
            .iter()
            .filter(move |a| {
                needle.is_empty()
                    || !needle.is_ascii()
                    || a.subject_der
                        .to_ascii_lowercase()
                        .windows(needle.len())
                        .any(|w| w == needle.as_bytes())
            })
            .filter(move |a| {
                a.meta()
                    .is_some_and(|m| m.subject_name.eq_ignore_ascii_case(name))
            })
    }
}

/// The platform's roots as rustls-native-certs reads them, each decoded once.
///
/// With both `SSL_CERT_FILE` and `SSL_CERT_DIR` set (as on Debian: the bundle file and the
/// directory of one file per root, the bundle itself among them), rustls-native-certs decodes
/// the file and then every file of the directory, so each root twice, and drops the copies
/// afterwards. Here the bundle is read first and a directory entry is given to
/// rustls-native-certs only when a certificate in it is not, letter for letter, one of the
/// bundle's; the directory is walked as rustls-native-certs walks it (links followed, each
/// file once). In every other case rustls-native-certs reads the store unchanged.
fn platform_roots() -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|d| {
            std::env::split_paths(&d)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    roots_from(file, &dirs)
}

/// [`platform_roots`] from these paths (`SSL_CERT_FILE`, `SSL_CERT_DIR`).
fn roots_from(
    file: Option<PathBuf>,
    dirs: &[PathBuf],
) -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let bundle = file.as_deref().and_then(|f| std::fs::read(f).ok());
    let (Some(file), Some(bundle), false) = (&file, &bundle, dirs.is_empty()) else {
        let r = rustls_native_certs::load_native_certs();
        return (r.certs, r.errors.iter().map(|e| e.to_string()).collect());
    };
    let mut certs = Vec::new();
    let mut errors = Vec::new();
    let mut take = |r: rustls_native_certs::CertificateResult| {
        certs.extend(r.certs);
        errors.extend(r.errors.iter().map(|e| e.to_string()));
    };
    take(rustls_native_certs::load_certs_from_paths(Some(file), None));
    let known: std::collections::HashSet<&[u8]> = pem_blocks(bundle).collect();
    let mut seen = std::collections::HashSet::new();
    if let Some(id) = file_id(file) {
        seen.insert(id);
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            // rustls-native-certs says why.
            take(rustls_native_certs::load_certs_from_paths(None, Some(dir)));
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // a dangling link, as rustls-native-certs skips it
            };
            if !meta.is_file() || file_id(&path).is_some_and(|id| !seen.insert(id)) {
                continue;
            }
            let Ok(text) = std::fs::read(&path) else {
                take(rustls_native_certs::load_certs_from_paths(
                    Some(&path),
                    None,
                ));
                continue;
            };
            let mut blocks = pem_blocks(&text).peekable();
            if blocks.peek().is_some() && blocks.all(|b| known.contains(b)) {
                continue;
            }
            take(rustls_native_certs::load_certs_from_paths(
                Some(&path),
                None,
            ));
        }
    }
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    (certs, errors)
}

/// The text of each PEM certificate in `text`, between its BEGIN and END lines (none when
/// `text` is not UTF-8).
fn pem_blocks(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let find = |hay: &str, needle: &str| hay.find(needle);
    let mut rest = std::str::from_utf8(text).unwrap_or_default();
    std::iter::from_fn(move || {
        let start = find(rest, BEGIN)? + BEGIN.len();
        let len = find(&rest[start..], END)?;
        let block = &rest[start..start + len];
        rest = &rest[start + len + END.len()..];
        Some(block.as_bytes())
    })
}

/// A file's identity (device, inode), links followed.
#[cfg(unix)]
fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::path::Path) -> Option<(u64, u64)> {
    None
}

fn finding(id: &str, title: Text, target: &str) -> Finding {
    Finding::new(id, Phase::Local, title, target)
}

/// `trust.store`: how many roots were loaded, and what could not be read.
pub fn store_finding(store: &TrustStore) -> Finding {
    let target = if store.system { "platform" } else { "--trust" };
    let f =
        finding("trust.store", phrase("trust.store_title", &[]), target).elapsed(store.load_time);
    let extra = store.anchors.len() - store.platform_loaded;
    let data = json!({
        "system": store.system,
        "platform_roots": store.platform_loaded,
        "extra_roots": extra,
        "errors": store.platform_errors,
        "load_ms": store.load_time.as_secs_f64() * 1000.0,
    });
    let errors = store.platform_errors.len().to_string();
    if store.system && store.platform_loaded == 0 {
        return f
            .warn(phrase("trust.store_empty", &[("errors", &errors)]))
            .section("2-1 (7)")
            .fix(crate::guide::fix("cert.trust_store_empty", &[]))
            .data(data);
    }
    let (platform, extra) = (store.platform_loaded.to_string(), extra.to_string());
    let args = [
        ("platform", platform.as_str()),
        ("extra", &extra),
        ("errors", &errors),
    ];
    let key = if store.platform_errors.is_empty() {
        "trust.store_loaded"
    } else {
        "trust.store_loaded_with_errors"
    };
    f.info(phrase(key, &args)).data(data)
}

/// `trust.root`: is one of the profile's roots present, and is it still valid?
pub fn root_findings(store: &TrustStore, profile: &Profile, at: OffsetDateTime) -> Vec<Finding> {
    let spec = &profile.client_cert;
    if spec.roots.is_empty() {
        return Vec::new();
    }
    let wanted = spec.roots.join(", ");
    let f = finding("trust.root", phrase("trust.root_title", &[]), &wanted);
    let url = profile
        .cas
        .iter()
        .find(|c| matches!(c.role, crate::profile::CaRole::Root))
        .and_then(|c| c.url.clone())
        .unwrap_or_default();
    // Only anchors that can be read: `by_name` matched their subject's name.
    let found: Vec<(&Anchor, &AnchorMeta)> = spec
        .roots
        .iter()
        .flat_map(|name| store.by_name(name))
        .filter_map(|a| Some((a, a.meta()?)))
        .collect();
    if found.is_empty() {
        return vec![f
            .fail(phrase("trust.root_missing", &[("name", &wanted)]))
            .section("2-1 (7)")
            .fix(crate::guide::fix(
                "cert.root_missing",
                &[("name", &wanted), ("url", &url)],
            ))];
    }
    let rfc3339 = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let data = json!({
        "found": found.iter().map(|(a, m)| json!({
            "subject": m.subject,
            "origin": a.origin.describe(),
            "not_before": rfc3339(m.not_before),
            "not_after": rfc3339(m.not_after),
            "sha256": m.sha256,
            "valid": m.valid_at(at),
        })).collect::<Vec<_>>(),
    });
    if let Some((a, m)) = found.iter().find(|(_, m)| m.valid_at(at)) {
        let day = date(m.not_after);
        let detail = match &a.origin {
            AnchorOrigin::Platform => phrase(
                "trust.root_trusted_platform",
                &[("name", &m.subject_name), ("date", &day)],
            ),
            AnchorOrigin::File(p) => phrase(
                "trust.root_trusted_file",
                &[
                    ("name", &m.subject_name),
                    ("file", &p.display().to_string()),
                    ("date", &day),
                ],
            ),
        };
        return vec![f.pass(detail).data(data)];
    }
    let (_, m) = found[0];
    let successors = spec.successor_roots.join(", ");
    let (key, day) = if m.not_after < at {
        ("trust.root_expired", date(m.not_after))
    } else {
        ("trust.root_not_yet_valid", date(m.not_before))
    };
    vec![f
        .fail(phrase(key, &[("name", &m.subject_name), ("date", &day)]))
        .section("2-1 (7)")
        .fix(crate::guide::fix(
            "cert.root_expired",
            &[
                ("name", &m.subject_name),
                ("date", &date(m.not_after)),
                ("successors", &successors),
            ],
        ))
        .data(data)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use time::macros::datetime;

    fn pki(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name)
    }

    #[test]
    fn the_genuine_root_ca1_is_reported_expired_not_ok() {
        let store =
            TrustStore::load(false, &[pki("real/Security_Communication_Root_CA.pem")]).unwrap();
        let fs = root_findings(&store, &Profile::builtin(), OffsetDateTime::now_utc());
        assert_eq!(fs.len(), 1);
        assert_eq!(fs[0].status, Status::Fail);
        assert_eq!(fs[0].section.as_deref(), Some("2-1 (7)"));
        assert!(
            fs[0].detail.en.contains("expired on 2023-09-30"),
            "{}",
            fs[0].detail.en
        );
        assert!(
            fs[0].detail.ja.contains("2023-09-30"),
            "{}",
            fs[0].detail.ja
        );
        // Before its end it was fine.
        let before = root_findings(&store, &Profile::builtin(), datetime!(2023-09-01 0:00 UTC));
        assert_eq!(before[0].status, Status::Pass);
        assert!(
            before[0].detail.en.contains("--trust") && before[0].detail.en.contains("2023-09-30"),
            "{}",
            before[0].detail.en
        );
        assert_eq!(
            before[0].data["found"][0]["not_after"],
            "2023-09-30T04:20:49Z"
        );
    }

    #[test]
    fn a_missing_root_fails_with_the_download_address() {
        let store = TrustStore::load(false, &[pki("server-root.pem")]).unwrap();
        let fs = root_findings(&store, &Profile::builtin(), OffsetDateTime::now_utc());
        assert_eq!(fs[0].status, Status::Fail);
        assert!(fs[0].fix.as_ref().unwrap().en.contains("SCRoot1ca.cer"));
        assert!(fs[0].detail.en.contains("is not in the trust store"));
    }

    #[test]
    fn the_subject_is_read_without_parsing_and_anchors_are_parsed_on_use() {
        let mut store = TrustStore::default();
        for name in ["root.pem", "server-root.pem"] {
            for der in read_certs(&pki(name)).unwrap() {
                store.push(Anchor::new(der, AnchorOrigin::Platform).unwrap());
            }
        }
        for a in &store.anchors {
            assert!(a.meta.get().is_none(), "parsed at load");
            let cert = <x509_cert::Certificate as der::Decode>::from_der(&a.der).unwrap();
            let subject = der::Encode::to_der(cert.tbs_certificate().subject()).unwrap();
            assert_eq!(subject_of(&a.der), Some(subject.as_slice()));
        }
        let root = &store.anchors[0];
        let usable = store.usable_for(std::iter::once(root.subject_der.as_slice()));
        assert_eq!(usable.len(), 1);
        assert!(usable[0].webpki().is_some());
        assert!(usable[0].meta().is_some());
        assert!(
            store.anchors[1].meta.get().is_none(),
            "an anchor no path uses stays unparsed"
        );
        assert!(store
            .usable_for(std::iter::once(&b"no such name"[..]))
            .is_empty());
    }

    /// The bundle and a directory holding the bundle's roots again, one per file, as links
    /// (and as a copy), plus a root only the directory has: each root once, the same set as
    /// rustls-native-certs reads, and only the new file decoded.
    #[cfg(unix)]
    #[test]
    fn the_platform_store_is_read_once_with_file_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let text = |n: &str| std::fs::read_to_string(pki(n)).unwrap();
        let bundle = d.join("bundle.crt");
        std::fs::write(&bundle, text("root.pem") + &text("server-root.pem")).unwrap();
        std::fs::write(d.join("root.pem"), text("root.pem")).unwrap();
        std::os::unix::fs::symlink(d.join("root.pem"), d.join("1a2b3c4d.0")).unwrap();
        std::os::unix::fs::symlink(pki("server-root.pem"), d.join("server-root.pem")).unwrap();
        std::fs::write(d.join("only-here.pem"), text("unknown-ca.pem")).unwrap();
        std::fs::write(d.join("notes.txt"), "not a certificate\n").unwrap();
        let (ours, errors) = roots_from(Some(bundle.clone()), &[d.to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        let theirs = rustls_native_certs::load_certs_from_paths(Some(&bundle), Some(d));
        let key = |v: &[CertificateDer<'static>]| {
            let mut v: Vec<Vec<u8>> = v.iter().map(|c| c.to_vec()).collect();
            v.sort();
            v
        };
        assert_eq!(key(&ours), key(&theirs.certs));
        assert_eq!(ours.len(), 3, "each root once");
        assert_eq!(pem_blocks(text("root.pem").as_bytes()).count(), 1);
        assert_eq!(pem_blocks(b"\xff\xfe").count(), 0);
    }

    #[test]
    fn store_finding_counts_roots() {
        let store = TrustStore::load(false, &[pki("root.pem"), pki("server-root.pem")]).unwrap();
        let f = store_finding(&store);
        assert_eq!(f.data["extra_roots"], 2);
        assert_eq!(f.data["platform_roots"], 0);
        assert!(
            f.detail.en.contains("0 platform roots and 2 from --trust"),
            "{}",
            f.detail.en
        );
    }

    #[test]
    fn a_trust_file_that_is_not_a_certificate_is_bad_input() {
        let e = TrustStore::load(false, &[pki("garbage.bin")]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("garbage.bin"), "{e}");
    }
}

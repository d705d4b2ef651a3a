//! Trust anchors: the platform's roots plus `--trust` files; anchor expiry.
//!
//! webpki's trust anchors carry no validity period, so an expired root still "verifies".
//! Every anchor here keeps its whole certificate, and [`root_findings`] checks its dates.

use crate::cert::info::{show_date, CertInfo};
use crate::cert::source::read_certs;
use crate::error::AppError;
use crate::finding::{Finding, Phase, Text};
use crate::profile::Profile;
use crate::text;
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
    pub fn describe(&self) -> String {
        match self {
            AnchorOrigin::Platform => "the platform trust store".to_string(),
            AnchorOrigin::File(p) => format!("--trust {}", p.display()),
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
    info: OnceLock<Option<CertInfo>>,
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
            info: OnceLock::new(),
            webpki: OnceLock::new(),
        })
    }

    fn parsed(&self) -> Option<&CertInfo> {
        self.info
            .get_or_init(|| CertInfo::parse(&self.der).ok())
            .as_ref()
    }

    /// The certificate's facts (parsed on first use). An anchor x509-parser cannot read is
    /// dropped at load for `--trust` files; a platform root that cannot be read gives a
    /// placeholder with its subject unknown and no validity.
    pub fn info(&self) -> &CertInfo {
        static UNREADABLE: OnceLock<CertInfo> = OnceLock::new();
        self.parsed()
            .unwrap_or_else(|| UNREADABLE.get_or_init(CertInfo::unreadable))
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
            for der in read_certs(path)? {
                // Files named on the command line are read whole: bad input is said at once.
                CertInfo::parse(&der).map_err(|e| {
                    AppError::input(format!("{}: unreadable certificate: {e}", path.display()))
                })?;
                let anchor =
                    Anchor::new(der, AnchorOrigin::File(path.clone())).ok_or_else(|| {
                        AppError::input(format!("{}: unreadable certificate", path.display()))
                    })?;
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
                    .push("a platform root could not be parsed".to_string()),
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

    /// The anchors named as the issuer of `child`: same subject DER, or (for the few anchors
    /// from --trust files) the same name read as text.
    pub fn issuers_of<'a>(&'a self, child: &CertInfo) -> impl Iterator<Item = &'a Anchor> + 'a {
        let by_der = self.by_subject(&child.issuer_der);
        let (issuer_der, issuer) = (child.issuer_der.clone(), child.issuer.clone());
        let by_text = self.anchors.iter().filter(move |a| {
            matches!(a.origin, AnchorOrigin::File(_))
                && a.subject_der != issuer_der
                && a.info().subject == issuer
        });
        by_der.chain(by_text)
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
            .filter(move |a| a.info().subject_name.eq_ignore_ascii_case(name))
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
    let f = finding(
        "trust.store",
        Text::new("Trust store", "信頼されたルート証明書ストア"),
        target,
    )
    .elapsed(store.load_time);
    let extra = store.anchors.len() - store.platform_loaded;
    let data = json!({
        "system": store.system,
        "platform_roots": store.platform_loaded,
        "extra_roots": extra,
        "errors": store.platform_errors,
        "load_ms": store.load_time.as_secs_f64() * 1000.0,
    });
    if store.system && store.platform_loaded == 0 {
        return f
            .warn(text!(
                (
                    "no root certificates could be loaded from the platform store ({} errors)",
                    store.platform_errors.len()
                ),
                (
                    "OS のルート証明書ストアから証明書を読み込めませんでした (エラー {} 件)",
                    store.platform_errors.len()
                )
            ))
            .section("2-1 (7)")
            .fix(crate::guide::fix("cert.trust_store_empty", &[]))
            .data(data);
    }
    let errors = if store.platform_errors.is_empty() {
        Text::default()
    } else {
        text!(
            ("; {} could not be read", store.platform_errors.len()),
            ("、{} 件は読み込めませんでした", store.platform_errors.len())
        )
    };
    f.info(text!(
        (
            "{} platform roots and {} from --trust loaded{}",
            store.platform_loaded,
            extra,
            errors.en
        ),
        (
            "OS のルート証明書 {} 件、--trust から {} 件を読み込みました{}",
            store.platform_loaded,
            extra,
            errors.ja
        )
    ))
    .data(data)
}

/// `trust.root`: is one of the profile's roots present, and is it still valid?
pub fn root_findings(store: &TrustStore, profile: &Profile, at: OffsetDateTime) -> Vec<Finding> {
    let spec = &profile.client_cert;
    if spec.roots.is_empty() {
        return Vec::new();
    }
    let wanted = spec.roots.join(", ");
    let f = finding(
        "trust.root",
        Text::new("Root CA certificate", "ルート証明書"),
        &wanted,
    );
    let url = profile
        .cas
        .iter()
        .find(|c| matches!(c.role, crate::profile::CaRole::Root))
        .and_then(|c| c.url.clone())
        .unwrap_or_default();
    let found: Vec<&Anchor> = spec
        .roots
        .iter()
        .flat_map(|name| store.by_name(name))
        .collect();
    if found.is_empty() {
        return vec![f
            .fail(text!(
                ("root `{wanted}` is not in the trust store"),
                ("ルート証明書「{wanted}」が信頼されたルート証明書ストアにありません")
            ))
            .section("2-1 (7)")
            .fix(crate::guide::fix(
                "cert.root_missing",
                &[("name", &wanted), ("url", &url)],
            ))];
    }
    let current: Vec<&&Anchor> = found.iter().filter(|a| a.info().valid_at(at)).collect();
    let data = json!({
        "found": found.iter().map(|a| json!({
            "subject": a.info().subject,
            "origin": a.origin.describe(),
            "not_before": a.info().not_before.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "not_after": a.info().not_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "sha256": a.info().sha256,
            "valid": a.info().valid_at(at),
        })).collect::<Vec<_>>(),
    });
    if let Some(a) = current.first() {
        return vec![f
            .pass(text!(
                (
                    "root `{}` is trusted ({}), valid until {}",
                    a.info().subject_name,
                    a.origin.describe(),
                    show_date(a.info().not_after)
                ),
                (
                    "ルート証明書「{}」は信頼されています ({})。有効期限 {}",
                    a.info().subject_name,
                    a.origin.describe(),
                    show_date(a.info().not_after)
                )
            ))
            .data(data)];
    }
    let a = found[0];
    let successors = spec.successor_roots.join(", ");
    let (when, when_ja) = if a.info().not_after < at {
        (
            format!("expired on {}", show_date(a.info().not_after)),
            format!("{} に有効期限が切れています", show_date(a.info().not_after)),
        )
    } else {
        (
            format!("is not valid until {}", show_date(a.info().not_before)),
            format!("{} まで有効になりません", show_date(a.info().not_before)),
        )
    };
    vec![f
        .fail(text!(
            ("root `{}` is in the trust store but {when}: no certificate can be validated through it any more", a.info().subject_name),
            ("ルート証明書「{}」はストアにありますが、{when_ja}。このルートを経由する証明書はもう検証できません", a.info().subject_name)
        ))
        .section("2-1 (7)")
        .fix(crate::guide::fix(
            "cert.root_expired",
            &[("name", &a.info().subject_name), ("date", &show_date(a.info().not_after)), ("successors", &successors)],
        ))
        .data(data)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Status;

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
        // Before its end it was fine.
        let before = crate::cli::parse_time("2023-09-01").unwrap();
        assert_eq!(
            root_findings(&store, &Profile::builtin(), before)[0].status,
            Status::Pass
        );
    }

    #[test]
    fn a_missing_root_fails_with_the_download_address() {
        let store = TrustStore::load(false, &[pki("server-root.pem")]).unwrap();
        let fs = root_findings(&store, &Profile::builtin(), OffsetDateTime::now_utc());
        assert_eq!(fs[0].status, Status::Fail);
        assert!(fs[0].fix.as_ref().unwrap().en.contains("SCRoot1ca.cer"));
    }

    #[test]
    fn the_subject_is_read_without_parsing_and_anchors_are_parsed_on_use() {
        let store = TrustStore::load(false, &[pki("root.pem"), pki("server-root.pem")]).unwrap();
        for a in &store.anchors {
            assert!(a.info.get().is_none(), "parsed at load");
            let info = CertInfo::parse(&a.der).unwrap();
            assert_eq!(subject_of(&a.der), Some(info.subject_der.as_slice()));
        }
        let root = &store.anchors[0];
        let usable = store.usable_for(std::iter::once(root.subject_der.as_slice()));
        assert_eq!(usable.len(), 1);
        assert!(usable[0].webpki().is_some());
        assert!(
            store.anchors[1].info.get().is_none(),
            "an anchor no path uses stays unparsed"
        );
        assert!(store
            .usable_for(std::iter::once(&b"no such name"[..]))
            .is_empty());
        assert_eq!(subject_of(b"\x30\x82\xff"), None, "a truncated certificate");
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
    }
}

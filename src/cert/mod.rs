//! Client identities (PEM, DER, PKCS#12), certificate inspection, and path validation.
//!
//! - [`source`] reads an identity (certificate, companions, key) from where it lives.
//! - [`info`] reads one certificate into plain facts.
//! - [`checks`] turns the leaf and its key into findings against the profile.
//! - [`chain`] validates the path and names the broken link.
//! - [`store`] takes the certificate from the Windows personal store when no `--cert` is given,
//!   and adds where Windows keeps the CAs to the trust findings.

mod anchors;
pub mod chain;
pub mod checks;
pub mod info;
pub mod names;
mod options;
pub mod pkcs12_cost;
pub mod source;
pub mod store;
pub mod strict;
mod walk;

use crate::error::AppError;
use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::profile::Profile;
use crate::trust::TrustStore;
pub use anchors::{AnchorCert, AnchorIssuers};
use chain::{Candidate, ChainInput, ChainReport, Origin};
use info::CertInfo;
pub use options::{parse_time, IdentityOptions, Purpose};
use rustls::pki_types::CertificateDer;
use source::{Identity, IdentitySource, Passwords};
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;

/// What the local probes hand on to the network probes.
#[derive(Clone)]
pub struct LocalOutcome {
    pub findings: Vec<Finding>,
    /// The client certificate chain (leaf first, then the intermediates to send) and its key.
    pub client: Option<Arc<rustls::sign::CertifiedKey>>,
    /// The client certificate's issuer common name (compared with a server's acceptable CAs).
    pub client_issuer: Option<String>,
    /// Anchors for validating servers: platform roots (unless `--no-system-trust`) plus `--trust`;
    /// empty when no network step follows ([`local_probe_for`]).
    pub roots: Arc<rustls::RootCertStore>,
}

/// The time checks are made at: `--at`, else now.
pub fn check_time(args: &IdentityOptions) -> OffsetDateTime {
    args.at.unwrap_or_else(OffsetDateTime::now_utc)
}

pub fn passwords(args: &IdentityOptions) -> Passwords {
    Passwords {
        env: args.password_env.clone(),
        file: args.password_file.clone(),
    }
}

/// The identity named by the flags, if `--cert` was given.
pub fn load_identity(args: &IdentityOptions) -> Result<Option<Identity>, AppError> {
    store::check_store_flags(args)?;
    let Some(cert) = &args.cert else {
        if let Some(key) = &args.key {
            return Err(AppError::catalogued(
                "local.key_without_cert",
                &[("key", &key.display().to_string())],
            ));
        }
        return Ok(None);
    };
    let source = IdentitySource::File {
        cert: cert.clone(),
        key: args.key.clone(),
    };
    source.load(&passwords(args)).map(Some)
}

/// Every intermediate candidate: the identity's companions, then `--ca` files.
pub fn candidates(identity: &Identity, args: &IdentityOptions) -> Result<Vec<Candidate>, AppError> {
    let mut out = Vec::new();
    let mut push = |der: CertificateDer<'static>, origin: Origin| -> Result<(), AppError> {
        let info = CertInfo::parse(&der).map_err(|e| {
            AppError::catalogued(
                "local.unreadable_certificate",
                &[("file", &origin.describe()), ("error", &e)],
            )
        })?;
        out.push(Candidate { der, info, origin });
        Ok(())
    };
    for der in &identity.extra {
        push(der.clone(), Origin::Identity)?;
    }
    for path in &args.ca {
        for der in source::read_certs(path)? {
            push(der, Origin::CaFile(path.display().to_string()))?;
        }
    }
    Ok(out)
}

/// Everything the local probes found, plus what `verify` and the network probes need.
pub struct LocalAnalysis {
    pub identity: Option<Identity>,
    pub leaf: Option<CertInfo>,
    pub chain: Option<ChainReport>,
    pub store: TrustStore,
    pub findings: Vec<Finding>,
}

/// Load and check everything; bad input is an error, a bad certificate is a finding.
pub fn analyse(
    args: &IdentityOptions,
    profile: &Profile,
    purpose: Purpose,
) -> Result<LocalAnalysis, AppError> {
    let at = check_time(args);
    let started = Instant::now();
    let identity = load_identity(args)?;
    let mut findings = Vec::new();
    // Windows, no --cert: the personal store ("MY") is the source.
    #[cfg(windows)]
    let (identity, from_store) = match identity {
        Some(id) => (Some(id), false),
        None if args.no_os_stores => (None, false),
        None => {
            let (id, fs) = store::from_personal_store(args, profile, at)?;
            findings.extend(fs);
            (id, true)
        }
    };
    #[cfg(not(windows))]
    let from_store = false;
    let store = TrustStore::load(!args.no_system_trust, &args.trust)?;

    let Some(identity) = identity else {
        // The store findings already say why there is no certificate.
        if !from_store {
            findings.push(
                Finding::new(
                    "cert.load",
                    Phase::Local,
                    phrase("local.client_cert_title", &[]),
                    "--cert",
                )
                .fail(phrase("local.no_client_cert", &[]))
                .section("2-1 (6)")
                .fix(crate::guide::fix("cert.load_missing", &[])),
            );
        }
        findings.push(crate::trust::store_finding(&store));
        findings.extend(crate::trust::root_findings(&store, profile, at));
        #[cfg(windows)]
        if !args.no_os_stores {
            store::ca_details(&mut findings, profile, None, at);
        }
        return Ok(LocalAnalysis {
            identity: None,
            leaf: None,
            chain: None,
            store,
            findings,
        });
    };

    let target = identity.origin.clone();
    let leaf = CertInfo::parse(&identity.leaf).map_err(|e| {
        AppError::catalogued(
            "local.unreadable_certificate",
            &[("file", &target), ("error", &e)],
        )
    })?;
    let others = identity.extra.len().to_string();
    let mut args_loaded = vec![
        ("name", leaf.subject_name.as_str()),
        ("file", target.as_str()),
        ("format", identity.format),
        ("others", others.as_str()),
    ];
    let loaded = match &identity.key {
        Some(k) => {
            args_loaded.push(("key_format", k.format));
            phrase("local.client_cert_loaded_with_key", &args_loaded)
        }
        None => phrase("local.client_cert_loaded_no_key", &args_loaded),
    };
    findings.push(
        Finding::new(
            "cert.load",
            Phase::Local,
            phrase("local.client_cert_title", &[]),
            &target,
        )
        .pass(loaded)
        .elapsed(started.elapsed())
        .data(serde_json::to_value(&leaf).unwrap_or_default()),
    );
    findings.extend(checks::leaf_findings(
        &leaf,
        &profile.client_cert,
        &target,
        at,
    ));
    findings.push(match &identity.key_unusable {
        Some(k) => Finding::new(
            "cert.key_match",
            Phase::Local,
            phrase("local.private_key_title", &[]),
            &target,
        )
        .status(k.status, k.detail.clone())
        .section("2-1 (6)")
        .fix(k.fix.clone()),
        None => checks::key_finding(&identity.leaf, identity.key.as_ref(), &target),
    });

    let cands = candidates(&identity, args)?;
    let report = chain::validate(&ChainInput {
        leaf: &identity.leaf,
        intermediates: &cands,
        store: &store,
        at,
        purpose,
    });
    findings.push(crate::trust::store_finding(&store));
    findings.extend(crate::trust::root_findings(&store, profile, at));
    findings.push(intermediate_finding(
        &leaf, &cands, &store, &target, profile,
    ));
    findings.push(checks::chain_finding(&report, &target, profile));
    // The strict-mode lints of the path, as `verify` reports them.
    findings.extend(checks::strict_finding(&report, &target));
    findings.push(sent_chain_finding(&report, &leaf, &store, &target));
    #[cfg(windows)]
    if !args.no_os_stores {
        store::ca_details(&mut findings, profile, Some(&leaf.issuer_name), at);
    }

    Ok(LocalAnalysis {
        identity: Some(identity),
        leaf: Some(leaf),
        chain: Some(report),
        store,
        findings,
    })
}

/// `trust.intermediate`: is the leaf's issuer at hand, and where from?
fn intermediate_finding(
    leaf: &CertInfo,
    cands: &[Candidate],
    store: &TrustStore,
    target: &str,
    profile: &Profile,
) -> Finding {
    let name = &leaf.issuer_name;
    let f = Finding::new(
        "trust.intermediate",
        Phase::Local,
        phrase("local.intermediate_title", &[]),
        target,
    );
    if let Some(c) = cands.iter().find(|c| c.info.subject_der == leaf.issuer_der) {
        let o = c.origin.describe();
        return f.pass(phrase(
            "local.intermediate_found",
            &[("name", name), ("origin", &o)],
        ));
    }
    if let Some(a) = store.by_subject(&leaf.issuer_der).next() {
        return f.pass(phrase_with(
            "local.intermediate_found",
            &[("name", name)],
            "origin",
            &a.origin.text(),
        ));
    }
    let url = profile
        .cas
        .iter()
        .find(|c| c.role == crate::profile::CaRole::Intermediate)
        .and_then(|c| c.url.clone());
    let fix = match url {
        Some(url) => crate::guide::fix(
            "cert.intermediate_missing",
            &[("name", name), ("url", &url)],
        ),
        None => {
            let site = phrase("local.issuing_ca_site", &[]);
            crate::guide::fix("cert.intermediate_missing", &[("name", name)])
                .filled(&[("url", &site)])
        }
    };
    f.fail(phrase("local.intermediate_missing", &[("name", name)]))
        .section("2-1 (7)")
        .fix(fix)
}

/// `cert.sent_chain`: what a TLS client would send with this identity.
fn sent_chain_finding(
    report: &ChainReport,
    leaf: &CertInfo,
    store: &TrustStore,
    target: &str,
) -> Finding {
    let names: Vec<String> = report
        .send
        .iter()
        .filter_map(|d| CertInfo::parse(d).ok().map(|i| i.subject_name))
        .collect();
    let f = Finding::new(
        "cert.sent_chain",
        Phase::Local,
        phrase("local.sent_chain_title", &[]),
        target,
    )
    .data(serde_json::json!({ "send": names }));
    let list = names.join(" + ");
    let issuer_is_anchor = store.by_subject(&leaf.issuer_der).next().is_some();
    if report.send.len() > 1 || issuer_is_anchor {
        f.pass(phrase("local.sends_chain", &[("list", &list)]))
    } else {
        f.warn(phrase(
            "local.sends_leaf_alone",
            &[("name", &leaf.issuer_name)],
        ))
        .section("2-1 (7)")
        .fix(crate::guide::fix(
            "cert.intermediate_missing",
            &[("name", &leaf.issuer_name), ("url", "")],
        ))
        .consequence_of("cert.chain")
    }
}

/// A catalogue phrase with one placeholder, `name`, filled with a text of each language (the
/// others are the same in both).
pub(crate) fn phrase_with(key: &str, args: &[(&str, &str)], name: &str, value: &Text) -> Text {
    phrase(key, args).filled(&[(name, value)])
}

/// The local probes: load the identity and trust store, check the certificate, key and chain.
pub fn local_probe(args: &IdentityOptions, profile: &Profile) -> Result<LocalOutcome, AppError> {
    local_probe_for(args, profile, true)
}

/// [`local_probe`]; `servers`: whether a network step will validate servers. Without one the
/// root store for them (every anchor parsed by webpki) is not built and `roots` is empty.
pub fn local_probe_for(
    args: &IdentityOptions,
    profile: &Profile,
    servers: bool,
) -> Result<LocalOutcome, AppError> {
    let analysis = analyse(args, profile, Purpose::Client)?;
    let roots = Arc::new(if servers {
        analysis.store.root_cert_store()
    } else {
        rustls::RootCertStore::empty()
    });
    let mut client = None;
    let mut client_issuer = None;
    if let Some(identity) = &analysis.identity {
        client_issuer = analysis.leaf.as_ref().map(|l| l.issuer_name.clone());
        if let (Some(key), Some(report)) = (&identity.key, &analysis.chain) {
            client = Some(Arc::new(rustls::sign::CertifiedKey::new(
                report.send.clone(),
                key.key.clone(),
            )));
        }
    }
    Ok(LocalOutcome {
        findings: analysis.findings,
        client,
        client_issuer,
        roots,
    })
}

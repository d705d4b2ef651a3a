//! `certprobe fetch-ca --out DIR`: download the profile's CA certificates, check them against
//! their pinned SHA-256 fingerprints, save them, and say which store each one goes into.

use super::Context;
use crate::cli::NetArgs;
use crate::error::AppError;
use crate::finding::{Finding, Status, Text};
use crate::net::NetContext;
use crate::report::Report;
use rustls::pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub fn run(ctx: &Context, out: &Path, replace: bool, net: &NetArgs) -> Result<u8, AppError> {
    let profile = ctx.profile()?;
    if profile.cas.is_empty() {
        return Err(AppError::catalogued(
            "errors.fetch_ca_none",
            &[("profile", &profile.name)],
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| {
        AppError::catalogued(
            "errors.create_folder",
            &[
                ("folder", &out.display().to_string()),
                ("error", &crate::guide::io_reason(&e)),
            ],
        )
    })?;
    // Every file is checked before any download: a link, FIFO or device planted in the folder,
    // or a file already there without --force, ends the run with nothing written.
    for ca in &profile.cas {
        crate::outfile::check_target(&out.join(crate::net::aia::file_name(ca)), replace)?;
    }
    let start = Instant::now();
    let deadline = start + ctx.global.timeout;
    // Downloads over https are checked against the platform's roots; the pinned fingerprint
    // is the real check either way.
    let roots = crate::trust::TrustStore::load(true, &[])
        .map(|t| t.root_cert_store())
        .unwrap_or_else(|_| rustls::RootCertStore::empty());
    let nctx = Arc::new(NetContext::new(
        &profile,
        &net.into(),
        None,
        Arc::new(roots),
        deadline,
    )?);
    let cas = profile.cas.clone();
    let out_dir = out.to_path_buf();
    let findings = super::runtime()?.block_on(async move {
        let tasks = cas.into_iter().enumerate().map(|(i, ca)| {
            let nctx = nctx.clone();
            let out = out_dir.clone();
            async move { crate::net::aia::fetch_one(&nctx, &ca, i + 1, &out, replace).await }
        });
        crate::net::tcp::join_all(tasks).await
    });
    let mut findings = findings;
    for (f, ca) in findings.iter_mut().zip(&profile.cas) {
        warn_if_expired(f, &out.join(crate::net::aia::file_name(ca)), &profile);
    }
    let mut report = Report::new(profile.name.clone());
    report.findings = findings;
    report.duration = start.elapsed();
    ctx.emit_report(&super::diagnosed(report))
}

/// A saved CA certificate that has expired (the real Security Communication RootCA1 ended on
/// 2023-09-30) must not be imported as if it helped: the finding warns, says when it expired
/// and points at the current roots instead of "import it".
fn warn_if_expired(f: &mut Finding, saved: &Path, profile: &crate::profile::Profile) {
    if !matches!(f.status, Status::Pass | Status::Warn) {
        return;
    }
    let Ok(der) = std::fs::read(saved) else {
        return;
    };
    let Ok(info) = crate::cert::info::CertInfo::parse(&CertificateDer::from(der)) else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    if info.not_after >= now {
        return;
    }
    let date = info.not_after.date().to_string();
    let name = info.subject_name.clone();
    let successors = profile.client_cert.successor_roots.join(", ");
    let l = crate::guide::catalogue()
        .label_text("fetch_ca.expired")
        .cloned()
        .unwrap_or_default();
    let fill = |t: &str| {
        t.replace("{file}", &saved.display().to_string())
            .replace("{name}", &name)
            .replace("{date}", &date)
    };
    f.status = Status::Warn;
    f.detail = Text::new(fill(&l.en), fill(&l.ja));
    f.section = Some("2-1 (7)".into());
    f.fix = Some(crate::guide::fix(
        "cert.root_expired",
        &[
            ("name", &name),
            ("date", &date),
            ("successors", &successors),
        ],
    ));
    if let Some(o) = f.data.as_object_mut() {
        o.insert("expired".into(), serde_json::Value::Bool(true));
        o.insert("not_after".into(), serde_json::Value::String(date));
    }
}

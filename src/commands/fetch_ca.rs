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

pub fn run(
    ctx: &Context,
    out: &Path,
    replace: bool,
    keep_expired: bool,
    net: &NetArgs,
) -> Result<u8, AppError> {
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
    // Downloads land in a private folder inside `out` first: a certificate is checked before it
    // is saved, and an expired anchor is only saved when asked for (`--keep-expired`).
    let staging = tempfile::Builder::new()
        .prefix(".certprobe-fetch-")
        .tempdir_in(out)
        .map_err(|e| {
            AppError::catalogued(
                "errors.create_folder",
                &[
                    ("folder", &out.display().to_string()),
                    ("error", &crate::guide::io_reason(&e)),
                ],
            )
        })?;
    let cas = profile.cas.clone();
    let stage_dir = staging.path().to_path_buf();
    let findings = super::runtime()?.block_on(async move {
        let tasks = cas.into_iter().enumerate().map(|(i, ca)| {
            let nctx = nctx.clone();
            let stage = stage_dir.clone();
            async move { crate::net::aia::fetch_one(&nctx, &ca, i + 1, &stage, false).await }
        });
        crate::net::tcp::join_all(tasks).await
    });
    let mut findings = findings;
    for (f, ca) in findings.iter_mut().zip(&profile.cas) {
        let name = crate::net::aia::file_name(ca);
        let place = Placement {
            staged: &staging.path().join(&name),
            target: &out.join(&name),
            replace,
            keep_expired,
        };
        save_checked(f, &place, &profile, time::OffsetDateTime::now_utc());
    }
    let mut report = Report::new(profile.name.clone());
    report.findings = findings;
    report.duration = start.elapsed();
    ctx.emit_report(&super::diagnosed(report))
}

/// Where one downloaded certificate is and where it goes.
struct Placement<'a> {
    staged: &'a Path,
    target: &'a Path,
    replace: bool,
    keep_expired: bool,
}

/// Move a downloaded, fingerprint-checked certificate from the staging folder to its place —
/// unless it is an expired anchor. The real Security Communication RootCA1 ended on 2023-09-30:
/// importing it makes nothing valid, and whether certificates issued under it still work is the
/// service's decision. So the warning comes first and the file is not saved (guide 2-1 (7));
/// with `--keep-expired` it is saved, and the warning stays.
fn save_checked(
    f: &mut Finding,
    place: &Placement,
    profile: &crate::profile::Profile,
    now: time::OffsetDateTime,
) {
    if !matches!(f.status, Status::Pass | Status::Warn) {
        return;
    }
    let Ok(der) = std::fs::read(place.staged) else {
        return;
    };
    let expired = crate::cert::info::CertInfo::parse(&CertificateDer::from(der.clone()))
        .ok()
        .filter(|info| info.not_after < now);
    if let Some(info) = &expired {
        warn_expired(f, info, place, profile);
        if !place.keep_expired {
            return;
        }
    }
    if let Err(e) = crate::outfile::write_new(place.target, &der, place.replace) {
        let (key, args) = e.key_and_args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        f.status = Status::Fail;
        f.detail = crate::guide::fix(key, &args);
        f.section = Some("2-1 (7)".into());
        return;
    }
    if expired.is_none() {
        // The finding names the file where it will be, not the staging folder.
        let (from, to) = (
            place.staged.display().to_string(),
            place.target.display().to_string(),
        );
        f.detail = moved(&f.detail, &from, &to);
        f.fix = f.fix.as_ref().map(|t| moved(t, &from, &to));
        f.target = f.target.replace(&from, &to);
    }
}

/// `t` with the staging path `from` replaced by the final path `to`.
fn moved(t: &Text, from: &str, to: &str) -> Text {
    Text::new(t.en.replace(from, to), t.ja.replace(from, to))
}

/// The warning for an expired anchor: said before anything about importing, with what the
/// expiry means for the service, and never "import it".
fn warn_expired(
    f: &mut Finding,
    info: &crate::cert::info::CertInfo,
    place: &Placement,
    profile: &crate::profile::Profile,
) {
    let date = info.not_after.date().to_string();
    let name = info.subject_name.clone();
    let successors = profile.client_cert.successor_roots.join(", ");
    let file = place.target.display().to_string();
    let key = if place.keep_expired {
        "diagnose.fetch_ca.expired_saved"
    } else {
        "diagnose.fetch_ca.expired_not_saved"
    };
    f.status = Status::Warn;
    f.detail = crate::guide::phrase(key, &[("name", &name), ("date", &date), ("file", &file)]);
    f.section = Some("2-1 (7)".into());
    f.fix = Some(crate::guide::fix(
        "diagnose.fetch_ca.expired",
        &[
            ("name", &name),
            ("date", &date),
            ("successors", &successors),
        ],
    ));
    if let Some(o) = f.data.as_object_mut() {
        o.insert("expired".into(), serde_json::Value::Bool(true));
        o.insert("not_after".into(), serde_json::Value::String(date));
        o.insert("saved".into(), serde_json::Value::Bool(place.keep_expired));
    }
}

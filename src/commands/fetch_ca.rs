//! `certprobe fetch-ca --out DIR`: download the profile's CA certificates, check them against
//! their pinned SHA-256 fingerprints, save them, and say which store each one goes into.

use super::Context;
use crate::cli::NetArgs;
use crate::error::AppError;
use crate::net::NetContext;
use crate::report::Report;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub fn run(ctx: &Context, out: &Path, net: &NetArgs) -> Result<u8, AppError> {
    let profile = ctx.profile()?;
    if profile.cas.is_empty() {
        return Err(AppError::input(format!(
            "profile `{}` lists no CA certificates to download",
            profile.name
        )));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| AppError::input(format!("cannot create the folder {}: {e}", out.display())))?;
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
    let out = out.to_path_buf();
    let findings = super::runtime()?.block_on(async move {
        let tasks = cas.into_iter().enumerate().map(|(i, ca)| {
            let nctx = nctx.clone();
            let out = out.clone();
            async move { crate::net::aia::fetch_one(&nctx, &ca, i + 1, &out).await }
        });
        crate::net::tcp::join_all(tasks).await
    });
    let mut report = Report::new(profile.name.clone());
    report.findings = findings;
    report.duration = start.elapsed();
    ctx.emit_report(&report)
}

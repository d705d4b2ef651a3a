//! `certprobe verify`: path validation only, offline; exit 0 when the path is valid, 1 when not.

use super::Context;
use crate::cert::{self, chain, checks};
use crate::cert::{IdentityOptions, Purpose};
use crate::cli::{IdentityArgs, PurposeArg};
use crate::error::AppError;
use crate::finding::Text;
use crate::report::Report;
use crate::trust::TrustStore;

pub fn run(ctx: &Context, identity: &IdentityArgs, purpose: PurposeArg) -> Result<u8, AppError> {
    let identity = &IdentityOptions::from(identity);
    let purpose = Purpose::from(purpose);
    cert::store::check_store_flags(identity)?;
    let started = std::time::Instant::now();
    let profile = ctx.profile()?;
    let id = match cert::load_identity(identity)? {
        Some(id) => id,
        // No --cert: on Windows the personal store is the source, as for `check`.
        None => match from_store(identity, &profile)? {
            Ok(id) => id,
            Err(findings) => {
                let mut out = Report::new(profile.name.clone());
                out.findings = findings;
                out.duration = started.elapsed();
                return ctx.emit_report(&super::diagnosed(out));
            }
        },
    };
    // The --trust anchors first: a path through one of them needs no platform root, and
    // reading the platform store is most of verify's cost. Only without such a path are the
    // platform's roots added and the path sought again.
    let mut store = TrustStore::load(false, &identity.trust)?;
    let cands = cert::candidates(&id, identity)?;
    let at = cert::check_time(identity);
    let validate = |store: &TrustStore| {
        chain::validate(&chain::ChainInput {
            leaf: &id.leaf,
            intermediates: &cands,
            store,
            at,
            purpose,
        })
    };
    let mut report = validate(&store);
    if !report.valid && !identity.no_system_trust {
        store.add_platform();
        report = validate(&store);
    }
    let mut out = Report::new(profile.name.clone());
    out.findings
        .push(checks::chain_finding(&report, &id.origin, &profile));
    out.findings
        .extend(checks::strict_finding(&report, &id.origin));
    out.ok_verdict = Some(ok_verdict(&report, purpose, at));
    out.duration = started.elapsed();
    ctx.emit_report(&super::diagnosed(out))
}

/// What a passing `verify` checked: the chain, for this purpose, at this time; nothing more.
fn ok_verdict(report: &chain::ChainReport, purpose: Purpose, at: time::OffsetDateTime) -> Text {
    let name = report.path.first().map(|l| l.name.as_str()).unwrap_or("");
    let p = crate::guide::phrase(chain::purpose_key(purpose), &[]);
    let time = crate::cert::info::show_time(at);
    let count = report.path.len().to_string();
    crate::guide::phrase(
        "verify.ok",
        &[("name", name), ("time", &time), ("count", &count)],
    )
    .filled(&[("purpose", &p)])
}

/// The certificate chosen from the personal store, or the findings that say why none could be.
#[cfg(windows)]
fn from_store(
    identity: &IdentityOptions,
    profile: &crate::profile::Profile,
) -> Result<Result<cert::source::Identity, Vec<crate::finding::Finding>>, AppError> {
    let (id, findings) =
        cert::store::from_personal_store(identity, profile, cert::check_time(identity))?;
    Ok(id.ok_or(findings))
}

#[cfg(not(windows))]
fn from_store(
    _identity: &IdentityOptions,
    _profile: &crate::profile::Profile,
) -> Result<Result<cert::source::Identity, Vec<crate::finding::Finding>>, AppError> {
    Err(AppError::catalogued("errors.verify_needs_cert", &[]))
}

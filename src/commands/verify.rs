//! `certprobe verify`: path validation only, offline; exit 0 when the path is valid, 1 when not.

use super::Context;
use crate::cert::{self, chain, checks};
use crate::cli::{IdentityArgs, Purpose};
use crate::error::AppError;
use crate::report::Report;
use crate::trust::TrustStore;

pub fn run(ctx: &Context, identity: &IdentityArgs, purpose: Purpose) -> Result<u8, AppError> {
    cert::store::check_store_flags(identity)?;
    if identity.cert.is_none() {
        return Err(AppError::Usage(
            "certprobe verify needs the certificate: --cert FILE".into(),
        ));
    }
    let started = std::time::Instant::now();
    let profile = ctx.profile()?;
    let Some(id) = cert::load_identity(identity)? else {
        return Err(AppError::Usage("--cert FILE is required".into()));
    };
    let store = TrustStore::load(!identity.no_system_trust, &identity.trust)?;
    let cands = cert::candidates(&id, identity)?;
    let report = chain::validate(&chain::ChainInput {
        leaf: &id.leaf,
        intermediates: &cands,
        store: &store,
        at: cert::check_time(identity),
        purpose,
    });
    let mut out = Report::new(profile.name.clone());
    out.findings
        .push(checks::chain_finding(&report, &id.origin, &profile));
    out.duration = started.elapsed();
    ctx.emit_report(&out)
}

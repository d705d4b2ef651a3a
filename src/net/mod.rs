//! Network probes: DNS, TCP, TLS with the client certificate, HTTP, page reading; proxies.

use crate::cli::NetArgs;
use crate::error::AppError;
use crate::finding::Finding;
use crate::probe::LocalOutcome;
use crate::profile::Profile;
use std::time::Instant;

/// Proxy settings and the clock, before any endpoint is contacted.
pub fn environment_probe(_profile: &Profile, _args: &NetArgs) -> Vec<Finding> {
    Vec::new()
}

/// Every endpoint of the profile, concurrently, finished by `deadline`.
pub async fn probe_endpoints(
    _profile: &Profile,
    _args: &NetArgs,
    _local: &LocalOutcome,
    _deadline: Instant,
) -> Result<Vec<Finding>, AppError> {
    Ok(Vec::new())
}

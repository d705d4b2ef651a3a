//! Network probes: DNS, TCP, TLS with the client certificate, HTTP, page reading; proxies.

pub mod legacy;
pub mod proxy;
pub mod versions;

use crate::cli::NetArgs;
use crate::error::AppError;
use crate::finding::Finding;
use crate::probe::LocalOutcome;
use crate::profile::Profile;
use std::time::Instant;

/// Proxy settings and the clock, before any endpoint is contacted.
pub fn environment_probe(profile: &Profile, args: &NetArgs) -> Vec<Finding> {
    proxy::environment_findings(profile, args)
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

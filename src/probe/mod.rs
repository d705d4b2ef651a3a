//! Plans and runs the steps of a check: local, then environment, then every endpoint
//! concurrently, all under the run's timeout. Returns findings; never prints. What they mean
//! together is decided afterwards by `crate::diagnose`.

use crate::cert::IdentityOptions;
use crate::error::AppError;
use crate::finding::Phase;
use crate::net::NetOptions;
use crate::profile::Profile;
use crate::report::Report;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub mod login;

/// What a check is asked to do, as plain values (the command line builds it in `commands`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOptions {
    pub identity: IdentityOptions,
    pub net: NetOptions,
    /// Run only these groups of probes (all when empty).
    pub only: Vec<Phase>,
    pub login: LoginOptions,
}

/// A real log-in through the profile's form, submitted once (never retried).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// Submit the profile's log-in form once, over the client-certificate connection.
    pub enabled: bool,
    /// The user ID.
    pub user: Option<String>,
    /// Read the log-in password from this environment variable.
    pub password_env: Option<String>,
    /// Read the log-in password from the first line of this file.
    pub password_file: Option<PathBuf>,
}

/// What the local probes hand on to the network probes (built by `cert`, read by `net`).
pub use crate::cert::LocalOutcome;

/// Everything a check needs, resolved from flags and the profile.
pub struct CheckPlan<'a> {
    pub profile: &'a Profile,
    pub args: &'a CheckOptions,
    pub timeout: Duration,
}

impl CheckPlan<'_> {
    fn runs(&self, phase: Phase) -> bool {
        self.args.only.is_empty() || self.args.only.contains(&phase)
    }
}

/// Run the whole check.
pub async fn run(plan: &CheckPlan<'_>) -> Result<Report, AppError> {
    let start = Instant::now();
    let mut report = Report::new(plan.profile.name.clone());

    // Local: certificate, key, chain, trust store. Bad input here ends the run (exit 2).
    // The root store for validating servers is built only when a network step follows.
    let local =
        crate::cert::local_probe_for(&plan.args.identity, plan.profile, plan.runs(Phase::Network))?;
    if plan.runs(Phase::Local) {
        report.findings.extend(local.findings.iter().cloned());
    }

    if plan.runs(Phase::Environment) {
        report
            .findings
            .extend(crate::net::environment_probe(plan.profile, &plan.args.net));
    }

    // `--login`: its inputs are checked before anything is contacted.
    let login = login::prepare(plan.profile, plan.args)?;

    if plan.runs(Phase::Network) {
        // `--timeout` bounds the whole run: it counts from the start of the process (the
        // watchdog's clock, which leaves out time at a password prompt), not from here.
        let deadline = crate::watchdog::origin().unwrap_or(start) + plan.timeout;
        let net =
            crate::net::probe_endpoints(plan.profile, &plan.args.net, &local, deadline).await?;
        report.findings.extend(net);
        if let Some(form) = login {
            let f = login::run(plan.profile, plan.args, &local, form, deadline).await?;
            report.findings.push(f);
        }
    }

    report.duration = start.elapsed();
    Ok(report)
}

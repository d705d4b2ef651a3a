//! Plans and runs the steps of a check: local, then environment, then every endpoint
//! concurrently, all under the run's timeout. Returns findings; never prints.

use crate::cli::{CheckArgs, PhaseArg};
use crate::error::AppError;
use crate::finding::{Finding, Phase, Status};
use crate::profile::Profile;
use crate::report::Report;
use std::time::{Duration, Instant};

pub mod login;

/// What the local probes hand on to the network probes (built by `cert`, read by `net`).
pub use crate::cert::LocalOutcome;

/// Everything a check needs, resolved from flags and the profile.
pub struct CheckPlan<'a> {
    pub profile: &'a Profile,
    pub args: &'a CheckArgs,
    pub timeout: Duration,
}

impl CheckPlan<'_> {
    fn runs(&self, phase: PhaseArg) -> bool {
        self.args.only.is_empty() || self.args.only.contains(&phase)
    }
}

/// Run the whole check.
pub async fn run(plan: &CheckPlan<'_>) -> Result<Report, AppError> {
    let start = Instant::now();
    let mut report = Report::new(plan.profile.name.clone());

    // Local: certificate, key, chain, trust store. Bad input here ends the run (exit 2).
    let local = crate::cert::local_probe(&plan.args.identity, plan.profile)?;
    if plan.runs(PhaseArg::Local) {
        report.findings.extend(local.findings.iter().cloned());
    }

    if plan.runs(PhaseArg::Environment) {
        report.findings.extend(crate::net::environment_probe(
            plan.profile,
            &(&plan.args.net).into(),
        ));
    }

    // `--login`: its inputs are checked before anything is contacted.
    let login = login::prepare(plan.profile, plan.args)?;

    if plan.runs(PhaseArg::Network) {
        let deadline = start + plan.timeout;
        let net =
            crate::net::probe_endpoints(plan.profile, &(&plan.args.net).into(), &local, deadline)
                .await?;
        report.findings.extend(net);
        if let Some(form) = login {
            let f = login::run(plan.profile, plan.args, &local, form, deadline).await?;
            report.findings.push(f);
        }
    }

    link_consequences(&mut report.findings);
    report.duration = start.elapsed();
    Ok(report)
}

/// A failure in the local phase explains network failures of the handshake and after it:
/// mark those as consequences so the verdict names the cause once.
pub fn link_consequences(findings: &mut [Finding]) {
    let Some(cause) = findings
        .iter()
        .find(|f| f.phase == Phase::Local && f.status == Status::Fail)
        .map(|f| f.id.clone())
    else {
        return;
    };
    for f in findings.iter_mut() {
        let downstream =
            f.id.ends_with(".tls") || f.id.ends_with(".http") || f.id.ends_with(".page");
        if f.phase == Phase::Network
            && f.status == Status::Fail
            && downstream
            && f.consequence_of.is_none()
        {
            f.consequence_of = Some(cause.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Text;

    #[test]
    fn network_failures_after_a_local_failure_are_consequences() {
        let mut fs = vec![
            Finding::new("cert.chain", Phase::Local, Text::same("c"), "f").fail(Text::same("x")),
            Finding::new("net.login.dns", Phase::Network, Text::same("d"), "h")
                .fail(Text::same("nx")),
            Finding::new("net.login.tls", Phase::Network, Text::same("t"), "h")
                .fail(Text::same("alert")),
        ];
        link_consequences(&mut fs);
        assert_eq!(
            fs[1].consequence_of, None,
            "DNS is not explained by a certificate"
        );
        assert_eq!(fs[2].consequence_of.as_deref(), Some("cert.chain"));
    }
}

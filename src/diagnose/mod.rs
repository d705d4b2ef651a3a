//! The diagnosis stage (load → probe → **diagnose** → render): reads every finding and the facts
//! it carries, and decides which findings are causes and which are consequences, how severe a
//! finding really is given what else was seen, and the verdict with its first step.
//!
//! Every rule is a small named function in [`severity`], [`links`], [`advice`] or [`verdict`], with a doc line
//! naming the guide section it serves. No rule states a fact the probes did not observe, and the
//! diagnosis adds no network round trip: it reads what the probes already fetched.

use crate::finding::{Finding, Status, Verdict};

pub mod advice;
pub mod links;
pub mod severity;
pub mod verdict;

/// Diagnose a run: adjust severities, record every consequence's cause, choose the verdict.
pub fn decide(findings: &mut [Finding]) -> Verdict {
    for rule in severity::RULES {
        rule(findings);
    }
    for rule in links::RULES {
        for (consequence, cause) in rule(findings) {
            if consequence != cause && findings[consequence].consequence_of.is_none() {
                let id = findings[cause].id.clone();
                findings[consequence].consequence_of = Some(id);
            }
        }
    }
    for rule in advice::RULES {
        rule(findings);
    }
    verdict::choose(findings)
}

/// `net.<endpoint>.<step>` → (endpoint, step).
pub(crate) fn endpoint_step(f: &Finding) -> Option<(&str, &str)> {
    let mut parts = f.id.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("net"), Some(ep), Some(step), None) => Some((ep, step)),
        _ => None,
    }
}

/// Is this a network step `step` (of any endpoint)?
pub(crate) fn is_step(f: &Finding, step: &str) -> bool {
    endpoint_step(f).is_some_and(|(_, s)| s == step)
}

/// A failed TLS or HTTP step that the guide files under a refused client certificate.
pub(crate) fn is_refusal(f: &Finding) -> bool {
    f.status == Status::Fail
        && (is_step(f, "tls") || is_step(f, "http"))
        && f.section
            .as_deref()
            .is_some_and(|s| s == "2-1 (6)" || s == "2-1 (7)")
}

/// The TLS step's server-certificate error, as rustls named it (`data.server_verify_error`).
pub(crate) fn server_verify_error(f: &Finding) -> Option<&str> {
    f.data.get("server_verify_error").and_then(|v| v.as_str())
}

/// How rustls names a date problem of the server's certificate, in either of its forms
/// (`NotValidYet`, `certificate not valid yet: …`; `Expired`, `certificate expired: …`).
fn server_date_error(f: &Finding, not_yet: bool) -> bool {
    if f.status != Status::Fail || !is_step(f, "tls") {
        return false;
    }
    let Some(e) = server_verify_error(f) else {
        return false;
    };
    let e = e.to_ascii_lowercase().replace(' ', "");
    if not_yet {
        e.contains("notvalidyet")
    } else {
        e.contains("expired")
    }
}

/// A server certificate rejected because of its validity dates.
pub(crate) fn server_cert_out_of_date(f: &Finding) -> bool {
    server_date_error(f, true) || server_date_error(f, false)
}

/// A server certificate that is not valid yet (the clock behind is one explanation).
pub(crate) fn server_cert_not_yet_valid(f: &Finding) -> bool {
    server_date_error(f, true)
}

/// A server certificate rejected as expired (the clock ahead is one explanation).
pub(crate) fn server_cert_expired(f: &Finding) -> bool {
    server_date_error(f, false)
}

pub(crate) fn find<'a>(fs: &'a [Finding], id: &str) -> Option<(usize, &'a Finding)> {
    fs.iter().enumerate().find(|(_, f)| f.id == id)
}

#[cfg(test)]
pub(crate) mod sample {
    //! Findings shaped as the probes make them, for the rules' tests.
    use crate::finding::{Finding, Phase, Status, Text};
    use serde_json::json;

    pub fn f(id: &str, status: Status) -> Finding {
        let phase = match id.split('.').next() {
            Some("env") => Phase::Environment,
            Some("net") => Phase::Network,
            _ => Phase::Local,
        };
        let mut f = Finding::new(id, phase, Text::same(id), "t").status(status, Text::same(id));
        if matches!(status, Status::Fail | Status::Warn) {
            f = f.section("2-1").fix(Text::same(format!("fix {id}")));
        }
        f
    }

    pub fn sec(mut f: Finding, s: &str) -> Finding {
        f.section = Some(s.into());
        f
    }

    pub fn with(f: Finding, data: serde_json::Value) -> Finding {
        f.data(data)
    }

    pub fn tls_pass_with_cert() -> Finding {
        with(
            f("net.login.tls", Status::Pass),
            json!({"client_cert_sent": true, "client_cert_requested": true}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::sample::*;
    use super::*;

    #[test]
    fn endpoint_and_step_come_from_the_id() {
        let x = f("net.login.tls", Status::Pass);
        assert_eq!(endpoint_step(&x), Some(("login", "tls")));
        assert_eq!(endpoint_step(&f("net.revocation", Status::Pass)), None);
        assert_eq!(endpoint_step(&f("cert.chain", Status::Pass)), None);
    }

    #[test]
    fn date_errors_are_read_in_both_of_rustls_forms() {
        let tls = |e: &str| {
            with(
                f("net.login.tls", Status::Fail),
                serde_json::json!({ "server_verify_error": e }),
            )
        };
        assert!(server_cert_not_yet_valid(&tls(
            "invalid peer certificate: NotValidYet"
        )));
        assert!(server_cert_not_yet_valid(&tls(
            "invalid peer certificate: certificate not valid yet: verification time 1 (UNIX)"
        )));
        assert!(server_cert_expired(&tls(
            "invalid peer certificate: certificate expired: verification time 1 (UNIX)"
        )));
        assert!(!server_cert_out_of_date(&tls(
            "invalid peer certificate: UnknownIssuer"
        )));
    }

    #[test]
    fn a_link_set_by_a_probe_is_kept() {
        let mut fs = vec![
            f("cert.chain", Status::Fail),
            f("net.login.proxy", Status::Fail),
            sec(f("net.login.tls", Status::Fail), "2-1 (6)").consequence_of("net.login.proxy"),
        ];
        let v = decide(&mut fs);
        assert_eq!(fs[2].consequence_of.as_deref(), Some("net.login.proxy"));
        assert_eq!(v.cause.as_deref(), Some("net.login.proxy"));
        assert_eq!(v.consequences, vec!["net.login.tls".to_string()]);
    }
}

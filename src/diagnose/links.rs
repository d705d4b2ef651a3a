//! Which finding explains which: each rule returns (consequence, cause) pairs of indices. Rules
//! run in this order and a finding keeps the first cause given to it (a link a probe set itself,
//! such as a proxy failure behind a TLS failure, is never replaced).

use super::{endpoint_step, find, is_refusal, is_step, server_cert_out_of_date};
use crate::finding::{Finding, Phase, Status};

/// A link rule: (consequence, cause) pairs of indices into the findings.
pub type LinkRule = fn(&[Finding]) -> Vec<(usize, usize)>;

pub const RULES: &[LinkRule] = &[
    legacy_versions_explain_handshake,
    revocation_explains_refusal,
    clock_explains_validity,
    local_certificate_explains_refusal,
];

/// Guide 2-1 (4): a server that shares no TLS version with this client fails every handshake;
/// the versions finding (which versions it does speak) is the cause of that endpoint's TLS failure.
pub fn legacy_versions_explain_handshake(fs: &[Finding]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (vi, v) in fs.iter().enumerate() {
        let Some((ep, "versions")) = endpoint_step(v) else {
            continue;
        };
        let none_shared = v
            .data
            .get("shared")
            .and_then(|s| s.as_array())
            .is_some_and(|s| s.is_empty());
        let some_accepted = v
            .data
            .get("accepted")
            .and_then(|s| s.as_array())
            .is_some_and(|s| !s.is_empty());
        if v.status != Status::Fail || !none_shared || !some_accepted {
            continue;
        }
        if let Some((ti, t)) = find(fs, &format!("net.{ep}.tls")) {
            if t.status == Status::Fail {
                out.push((ti, vi));
            }
        }
    }
    out
}

/// Guide 2-1 (6): a client certificate its CA has revoked is refused by the server; the
/// revocation finding is the cause of every refusal of the certificate.
pub fn revocation_explains_refusal(fs: &[Finding]) -> Vec<(usize, usize)> {
    let Some((ri, r)) = find(fs, "net.revocation") else {
        return Vec::new();
    };
    if r.status != Status::Fail {
        return Vec::new();
    }
    refusals(fs).map(|i| (i, ri)).collect()
}

/// Guide 2-1: a clock found wrong explains certificates (ours or the server's) that are
/// "expired" or "not valid yet" by it.
pub fn clock_explains_validity(fs: &[Finding]) -> Vec<(usize, usize)> {
    let Some((ci, c)) = find(fs, "env.clock") else {
        return Vec::new();
    };
    if c.status != Status::Fail {
        return Vec::new();
    }
    fs.iter()
        .enumerate()
        .filter(|(_, f)| {
            (f.id == "cert.validity" && f.status == Status::Fail)
                || server_cert_out_of_date(f)
                || (f.status == Status::Fail && only_dates_are_wrong(f))
        })
        .map(|(i, _)| (i, ci))
        .collect()
}

/// `trust.root` whose anchors are all outside their validity, or `cert.chain` whose every
/// problem is a certificate's dates.
fn only_dates_are_wrong(f: &Finding) -> bool {
    let all = |key: &str, pred: &dyn Fn(&serde_json::Value) -> bool| {
        f.data
            .get(key)
            .and_then(|a| a.as_array())
            .is_some_and(|a| !a.is_empty() && a.iter().all(pred))
    };
    match f.id.as_str() {
        "trust.root" => all("found", &|x| {
            x.get("valid").and_then(|v| v.as_bool()) == Some(false)
        }),
        "cert.chain" => all("problems", &|x| {
            x.get("kind")
                .and_then(|k| k.as_str())
                .is_some_and(|k| k.ends_with("_expired") || k.ends_with("_not_yet_valid"))
        }),
        _ => false,
    }
}

/// Guide 2-1 (6)/(7): a client certificate found broken on this computer (expired, wrong key,
/// its intermediate missing…) explains the server refusing it — and nothing else: not a DNS failure, not
/// a protocol version, not an error code on the service's page.
pub fn local_certificate_explains_refusal(fs: &[Finding]) -> Vec<(usize, usize)> {
    let Some(ci) = fs.iter().position(|f| {
        f.phase == Phase::Local
            && f.status == Status::Fail
            && (f.id.starts_with("cert.") || f.id == "trust.intermediate")
            && f.consequence_of.is_none()
    }) else {
        return Vec::new();
    };
    refusals(fs).map(|i| (i, ci)).collect()
}

/// The failed TLS/HTTP steps that the server's refusal of the client certificate explains.
fn refusals(fs: &[Finding]) -> impl Iterator<Item = usize> + '_ {
    fs.iter()
        .enumerate()
        .filter(|(_, f)| is_refusal(f) && (is_step(f, "tls") || is_step(f, "http")))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::decide;
    use super::super::sample::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_legacy_only_server_explains_its_handshake_failure() {
        let fs = vec![
            f("net.login.tls", Status::Fail),
            with(
                f("net.login.versions", Status::Fail),
                json!({"accepted": ["TLSv1"], "shared": []}),
            ),
            f("net.check.tls", Status::Fail),
        ];
        assert_eq!(legacy_versions_explain_handshake(&fs), vec![(0, 1)]);
    }

    #[test]
    fn versions_in_common_explain_nothing() {
        let fs = vec![
            f("net.login.tls", Status::Fail),
            with(
                f("net.login.versions", Status::Warn),
                json!({"accepted": ["TLSv1", "TLSv1.2"], "shared": ["TLSv1.2"]}),
            ),
        ];
        assert!(legacy_versions_explain_handshake(&fs).is_empty());
    }

    #[test]
    fn revocation_explains_only_refusals() {
        let fs = vec![
            sec(f("net.login.http", Status::Fail), "2-1 (6)"),
            sec(f("net.check.dns", Status::Fail), "2-1"),
            sec(f("net.login.page", Status::Fail), "2-2 46"),
            f("net.revocation", Status::Fail),
        ];
        assert_eq!(revocation_explains_refusal(&fs), vec![(0, 3)]);
        let mut fs2 = fs.clone();
        fs2[3].status = Status::Info;
        assert!(revocation_explains_refusal(&fs2).is_empty());
    }

    #[test]
    fn a_wrong_clock_explains_certificates_out_of_date() {
        let fs = vec![
            f("cert.validity", Status::Fail),
            f("env.clock", Status::Fail),
            with(
                f("net.login.tls", Status::Fail),
                json!({"server_verify_error": "invalid peer certificate: NotValidYet"}),
            ),
            with(
                f("net.check.tls", Status::Fail),
                json!({"server_verify_error": "invalid peer certificate: UnknownIssuer"}),
            ),
        ];
        assert_eq!(clock_explains_validity(&fs), vec![(0, 1), (2, 1)]);
    }

    #[test]
    fn a_local_certificate_failure_explains_refusals_not_page_codes() {
        let mut fs = vec![
            f("cert.chain", Status::Fail),
            sec(f("net.login.tls", Status::Fail), "2-1 (6)"),
            sec(f("net.login.page", Status::Fail), "2-2 46"),
            sec(f("net.check.tls", Status::Fail), "2-1 (4)"),
            sec(f("net.issuance.dns", Status::Fail), "2-1"),
        ];
        assert_eq!(local_certificate_explains_refusal(&fs), vec![(1, 0)]);
        decide(&mut fs);
        assert_eq!(fs[1].consequence_of.as_deref(), Some("cert.chain"));
        for f in &fs[2..] {
            assert_eq!(f.consequence_of, None, "{}", f.id);
        }
    }

    #[test]
    fn the_first_specific_cause_wins() {
        let mut fs = vec![
            f("cert.chain", Status::Fail),
            sec(f("net.login.http", Status::Fail), "2-1 (6)"),
            f("net.revocation", Status::Fail),
        ];
        decide(&mut fs);
        assert_eq!(fs[1].consequence_of.as_deref(), Some("net.revocation"));
    }
}

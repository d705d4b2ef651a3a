//! Severity in proportion to the effect: rules that raise or lower a finding's status from what
//! the other findings show. They run before the links, so that a finding lowered to info or
//! warning is no longer a cause.

use super::{
    find, is_refusal, is_step, server_cert_expired, server_cert_not_yet_valid,
    server_cert_out_of_date,
};
use crate::finding::{Finding, Status, Text};

/// A severity rule changes statuses (and, for derived facts, details) in place.
pub type SeverityRule = fn(&mut [Finding]);

pub const RULES: &[SeverityRule] = &[
    clock_from_certificate_validity,
    clock_needs_corroboration,
    expired_root_by_dependence,
    known_interceptor_on_a_completed_handshake,
];

/// Seconds of skew within which one clock source is ordinary (as `env.clock` itself grades it).
const FAIL_SECONDS: f64 = 300.0;

fn catalogue_text(key: &str) -> Text {
    crate::guide::catalogue()
        .label_text(key)
        .cloned()
        .unwrap_or_else(|| Text::same(key))
}

/// Which way the client certificate is out of date by this computer's clock: `Some(true)` not
/// valid yet, `Some(false)` expired, `None` in date (or not looked at).
fn client_cert_out_of_date(fs: &[Finding]) -> Option<bool> {
    let (_, f) = find(fs, "cert.validity")?;
    if f.status != Status::Fail {
        return None;
    }
    let days = f.data.get("days_left").and_then(|d| d.as_i64())?;
    Some(days > 0)
}

/// Does any certificate error on this run follow from the clock (dates out of range)?
fn a_certificate_is_out_of_date(fs: &[Finding]) -> bool {
    fs.iter().any(|f| {
        (f.id == "cert.validity" && f.status == Status::Fail) || server_cert_out_of_date(f)
    })
}

/// Guide 2-1: when no server sent a usable `Date` but both the client certificate and a
/// server's certificate are "not valid yet" (or both "expired"), two independent dates agree
/// that this computer's clock is behind (or ahead); `env.clock` says so (no new round trip:
/// the dates were fetched).
pub fn clock_from_certificate_validity(fs: &mut [Finding]) {
    let key = match client_cert_out_of_date(fs) {
        Some(true) if fs.iter().any(server_cert_not_yet_valid) => "diagnose.clock_behind",
        Some(false) if fs.iter().any(server_cert_expired) => "diagnose.clock_ahead",
        _ => return,
    };
    let Some(i) = fs.iter().position(|f| f.id == "env.clock") else {
        return;
    };
    if fs[i].status == Status::Fail {
        return;
    }
    let c = &mut fs[i];
    c.status = Status::Fail;
    c.detail = catalogue_text(key);
    c.section = Some("2-1".into());
    c.fix = Some(crate::guide::fix("net.clock_skew", &[("skew", "-")]));
    c.data = serde_json::json!({"derived_from": ["cert.validity", "server certificate"]});
}

/// Guide 2-1: a clock reading is evidence only when it is plausible — it explains a certificate
/// that is out of date, or several servers agree on it. One odd `Date` header is not enough
/// (information only); several agreeing sources with nothing broken make a warning, not a failure.
pub fn clock_needs_corroboration(fs: &mut [Finding]) {
    let explains = a_certificate_is_out_of_date(fs);
    let Some(c) = fs.iter_mut().find(|f| f.id == "env.clock") else {
        return;
    };
    if explains || !matches!(c.status, Status::Fail | Status::Warn) {
        return;
    }
    if c.data.get("derived_from").is_some() {
        return;
    }
    let hosts = c.data.get("hosts").and_then(|h| h.as_u64()).unwrap_or(1);
    let spread = c
        .data
        .get("spread_seconds")
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0);
    let agreeing = hosts >= 2 && spread <= FAIL_SECONDS;
    c.status = match (c.status, agreeing) {
        // Large, but one source (or sources that disagree): not evidence.
        (Status::Fail, false) => Status::Info,
        // Large and agreed, but it breaks nothing seen here.
        (Status::Fail, true) => Status::Warn,
        (s, _) => s,
    };
}

/// Guide 2-1 (7): an expired root matters as much as what depends on it — a failure when a
/// refusal of the client certificate may come from it, a warning when the service accepted the
/// chain anyway, information when nothing of the user's depends on it (no client certificate).
pub fn expired_root_by_dependence(fs: &mut [Finding]) {
    // No `cert.load` at all (`certprobe verify`): the certificate is the one being verified.
    let has_client_cert = find(fs, "cert.load").is_none_or(|(_, f)| f.status == Status::Pass);
    let refused = fs.iter().any(is_refusal);
    let accepted = fs.iter().any(|f| {
        is_step(f, "tls")
            && f.status == Status::Pass
            && f.data.get("client_cert_sent").and_then(|v| v.as_bool()) == Some(true)
    });
    let level = if !has_client_cert {
        Status::Info
    } else if accepted && !refused {
        Status::Warn
    } else {
        return;
    };
    for f in fs.iter_mut() {
        if f.status == Status::Fail && is_only_an_expired_root(f) {
            f.status = level;
        }
    }
}

/// Guide 1-3 (5)-(8): a handshake that completed with a certificate issued by a known
/// intercepting product (security software whose root is installed on this computer, an
/// inspecting proxy) is not the service's own, even when the page behind it looks right: the
/// client certificate was never asked for and never reaches the service. With a client
/// certificate at hand that is a failure; without one, a warning.
pub fn known_interceptor_on_a_completed_handshake(fs: &mut [Finding]) {
    let has_client_cert = find(fs, "cert.load").is_some_and(|(_, f)| f.status == Status::Pass);
    for f in fs.iter_mut() {
        if f.status != Status::Pass || !is_step(f, "tls") {
            continue;
        }
        let Some(product) = f.data.get("interceptor").and_then(|v| v.as_str()) else {
            continue;
        };
        if f.data.get("client_cert_sent").and_then(|v| v.as_bool()) == Some(true) {
            continue;
        }
        let product = product.to_string();
        let issuer = f
            .data
            .pointer("/server_chain/0/issuer")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        f.status = if has_client_cert {
            Status::Fail
        } else {
            Status::Warn
        };
        f.detail = crate::guide::phrase(
            "tls.intercepted",
            &[("issuer", &issuer), ("product", &product)],
        );
        f.section = Some("1-3 (5)-(8)".into());
        f.fix = Some(crate::guide::fix(
            "net.tls_intercepted",
            &[("product", &product)],
        ));
        if let Some(o) = f.data.as_object_mut() {
            o.insert("interception".into(), serde_json::Value::Bool(true));
        }
    }
}

/// `trust.root` whose anchors are all expired, or `cert.chain` whose only problem is that.
fn is_only_an_expired_root(f: &Finding) -> bool {
    match f.id.as_str() {
        "trust.root" => f
            .data
            .get("found")
            .and_then(|a| a.as_array())
            .is_some_and(|a| {
                !a.is_empty()
                    && a.iter()
                        .all(|x| x.get("valid").and_then(|v| v.as_bool()) == Some(false))
            }),
        "cert.chain" => f
            .data
            .get("problems")
            .and_then(|a| a.as_array())
            .is_some_and(|a| {
                !a.is_empty()
                    && a.iter()
                        .all(|x| x.get("kind").and_then(|k| k.as_str()) == Some("root_expired"))
            }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::*;
    use super::*;
    use serde_json::json;

    fn expired_root() -> Vec<Finding> {
        vec![
            f("cert.load", Status::Pass),
            with(
                f("trust.root", Status::Fail),
                json!({"found": [{"valid": false}]}),
            ),
            with(
                f("cert.chain", Status::Fail),
                json!({"problems": [{"kind": "root_expired"}]}),
            ),
        ]
    }

    #[test]
    fn a_known_interceptor_on_a_completed_handshake_is_the_cause() {
        let tls = |sent: bool| {
            with(
                f("net.check.tls", Status::Pass),
                serde_json::json!({"interceptor": "Trend Micro", "client_cert_sent": sent,
                    "server_chain": [{"issuer": "CN=Trend Micro Security Root CA"}]}),
            )
        };
        let mut fs = vec![
            f("cert.load", Status::Pass),
            tls(false),
            f("net.check.page", Status::Pass),
        ];
        let v = super::super::decide(&mut fs);
        assert_eq!(fs[1].status, Status::Fail);
        assert_eq!(fs[1].section.as_deref(), Some("1-3 (5)-(8)"));
        assert!(
            fs[1].detail.en.contains("Trend Micro"),
            "{}",
            fs[1].detail.en
        );
        assert_eq!(v.cause.as_deref(), Some("net.check.tls"));
        // Without a client certificate at hand: a warning.
        let mut fs = vec![f("cert.load", Status::Fail), tls(false)];
        known_interceptor_on_a_completed_handshake(&mut fs);
        assert_eq!(fs[1].status, Status::Warn);
        // A certificate that was sent and accepted went to whoever asked: no claim made.
        let mut fs = vec![f("cert.load", Status::Pass), tls(true)];
        known_interceptor_on_a_completed_handshake(&mut fs);
        assert_eq!(fs[1].status, Status::Pass);
    }

    #[test]
    fn expired_root_is_a_warning_when_the_service_accepted_the_chain() {
        let mut fs = expired_root();
        fs.push(tls_pass_with_cert());
        expired_root_by_dependence(&mut fs);
        assert_eq!(fs[1].status, Status::Warn);
        assert_eq!(fs[2].status, Status::Warn);
    }

    #[test]
    fn expired_root_is_information_without_a_client_certificate() {
        let mut fs = expired_root();
        fs[0].status = Status::Skip;
        expired_root_by_dependence(&mut fs);
        assert_eq!(fs[1].status, Status::Info);
        assert_eq!(fs[2].status, Status::Info);
    }

    #[test]
    fn expired_root_stays_a_failure_for_a_chain_being_verified() {
        let mut fs = expired_root();
        fs.remove(0);
        expired_root_by_dependence(&mut fs);
        assert_eq!(fs[0].status, Status::Fail);
        assert_eq!(fs[1].status, Status::Fail);
    }

    #[test]
    fn expired_root_stays_a_failure_when_the_certificate_is_refused() {
        let mut fs = expired_root();
        fs.push(sec(f("net.login.tls", Status::Fail), "2-1 (6)"));
        expired_root_by_dependence(&mut fs);
        assert_eq!(fs[1].status, Status::Fail);
        // A chain with another problem besides the root is not lowered.
        let mut fs = expired_root();
        fs[2].data =
            json!({"problems": [{"kind": "root_expired"}, {"kind": "intermediate_missing"}]});
        fs.push(tls_pass_with_cert());
        expired_root_by_dependence(&mut fs);
        assert_eq!(fs[2].status, Status::Fail);
    }

    #[test]
    fn one_odd_date_header_is_not_evidence() {
        let mut fs = vec![with(
            f("env.clock", Status::Fail),
            json!({"skew_seconds": 818208000.0, "hosts": 1, "spread_seconds": 0.0}),
        )];
        clock_needs_corroboration(&mut fs);
        assert_eq!(fs[0].status, Status::Info);
    }

    #[test]
    fn agreeing_servers_with_nothing_broken_make_a_warning() {
        let mut fs = vec![with(
            f("env.clock", Status::Fail),
            json!({"skew_seconds": 900.0, "hosts": 2, "spread_seconds": 3.0}),
        )];
        clock_needs_corroboration(&mut fs);
        assert_eq!(fs[0].status, Status::Warn);
    }

    #[test]
    fn a_clock_that_explains_a_certificate_error_stays_a_failure() {
        let mut fs = vec![
            with(
                f("env.clock", Status::Fail),
                json!({"skew_seconds": 900.0, "hosts": 1}),
            ),
            f("cert.validity", Status::Fail),
        ];
        clock_needs_corroboration(&mut fs);
        assert_eq!(fs[0].status, Status::Fail);
    }

    #[test]
    fn both_certificates_not_yet_valid_mean_the_clock_is_behind() {
        let mut fs = vec![
            with(f("cert.validity", Status::Fail), json!({"days_left": 700})),
            f("env.clock", Status::Skip),
            with(
                f("net.login.tls", Status::Fail),
                json!({"server_verify_error": "invalid peer certificate: NotValidYet"}),
            ),
        ];
        clock_from_certificate_validity(&mut fs);
        assert_eq!(fs[1].status, Status::Fail);
        assert_eq!(fs[1].section.as_deref(), Some("2-1"));
        // Only the client certificate: it may simply be issued for later; the clock is not blamed.
        let mut fs2 = fs.clone();
        fs2[1].status = Status::Skip;
        fs2[2].data = json!({"server_verify_error": "invalid peer certificate: UnknownIssuer"});
        clock_from_certificate_validity(&mut fs2);
        assert_eq!(fs2[1].status, Status::Skip);
    }

    #[test]
    fn both_certificates_expired_mean_the_clock_is_ahead() {
        let mut fs = vec![
            with(f("cert.validity", Status::Fail), json!({"days_left": -30})),
            f("env.clock", Status::Skip),
            with(
                f("net.login.tls", Status::Fail),
                json!({"server_verify_error": "invalid peer certificate: Expired"}),
            ),
        ];
        clock_from_certificate_validity(&mut fs);
        assert_eq!(fs[1].status, Status::Fail);
        assert!(fs[1].detail.en.contains("ahead"), "{}", fs[1].detail.en);
    }
}

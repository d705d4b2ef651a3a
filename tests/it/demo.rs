//! `certprobe demo`: every scenario, run through the real binary, must produce exactly the
//! finding and guide section it is named for (and exit 0 only when healthy).

use crate::support::certprobe;
use serde_json::Value;

/// Run a scenario with JSON output; returns the exit code and the document.
fn run(scenario: &str) -> (i32, Value) {
    let out = certprobe()
        .args(["demo", "--scenario", scenario, "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{scenario}: output is not JSON ({e}); stdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings array")
}

fn finding<'a>(doc: &'a Value, id: &str) -> Option<&'a Value> {
    findings(doc).iter().find(|f| f["id"] == id)
}

fn listing(doc: &Value) -> String {
    findings(doc)
        .iter()
        .map(|f| {
            format!(
                "  {} {} {} — {}",
                f["id"].as_str().unwrap_or("?"),
                f["status"].as_str().unwrap_or("?"),
                f["section"].as_str().unwrap_or("-"),
                f["detail"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scenario exits 1 and shows `id` with `status` and `section`.
fn expect(scenario: &str, id: &str, status: &str, section: &str) -> Value {
    let (code, doc) = run(scenario);
    let f = finding(&doc, id).unwrap_or_else(|| {
        panic!(
            "{scenario}: no finding `{id}`; findings:\n{}",
            listing(&doc)
        )
    });
    assert_eq!(
        (f["status"].as_str(), f["section"].as_str()),
        (Some(status), Some(section)),
        "{scenario}: `{id}` is not {status} \"{section}\"; findings:\n{}",
        listing(&doc)
    );
    assert_eq!(
        code,
        1,
        "{scenario}: exit code; findings:\n{}",
        listing(&doc)
    );
    assert_eq!(doc["profile"], "demo");
    doc
}

/// A local cause is named by the verdict, with the scenario's guide section (the verdict may
/// name an equivalent local finding, e.g. `trust.intermediate` for a missing intermediate).
fn verdict_is_local(doc: &Value, section: &str) {
    let v = &doc["verdict"];
    let id = v["cause"].as_str().unwrap_or("");
    assert!(
        (id.starts_with("cert.") || id.starts_with("trust.")) && v["section"] == section,
        "verdict {v}; findings:\n{}",
        listing(doc)
    );
}

#[test]
fn healthy_passes_every_step_and_exits_0() {
    let (code, doc) = run("healthy");
    let failing: Vec<_> = findings(&doc)
        .iter()
        .filter(|f| f["status"] == "fail")
        .collect();
    assert!(failing.is_empty(), "findings:\n{}", listing(&doc));
    assert_eq!(code, 0, "findings:\n{}", listing(&doc));
    // The real probes ran: the certificate, its chain, and the log-in site end to end.
    for id in [
        "cert.load",
        "cert.chain",
        "net.check.tls",
        "net.login.tls",
        "net.login.http",
        "net.login.page",
    ] {
        let f = finding(&doc, id)
            .unwrap_or_else(|| panic!("no finding `{id}`; findings:\n{}", listing(&doc)));
        assert_eq!(f["status"], "pass", "`{id}`; findings:\n{}", listing(&doc));
    }
}

#[test]
fn missing_intermediate() {
    let doc = expect("missing-intermediate", "cert.chain", "fail", "2-1 (7)");
    verdict_is_local(&doc, "2-1 (7)");
}

#[test]
fn expired_certificate() {
    let doc = expect("expired-certificate", "cert.validity", "fail", "2-1 (6)");
    verdict_is_local(&doc, "2-1 (6)");
}

#[test]
fn wrong_issuer() {
    let doc = expect("wrong-issuer", "cert.issuer", "fail", "2-1 (6)");
    verdict_is_local(&doc, "2-1 (6)");
}

#[test]
fn no_certificate() {
    let doc = expect("no-certificate", "cert.load", "fail", "2-1 (6)");
    verdict_is_local(&doc, "2-1 (6)");
}

#[test]
fn account_locked() {
    expect("account-locked", "net.login.page", "fail", "2-2 46");
}

#[test]
fn signup_incomplete() {
    expect("signup-incomplete", "net.login.page", "fail", "2-2 53");
}

#[test]
fn proxy_intercepts() {
    let doc = expect("proxy-intercepts", "net.login.tls", "fail", "1-3 (5)-(8)");
    // The proxy in the path of the certificate hosts is itself a warning with the same section.
    let proxy_warn = findings(&doc).iter().any(|f| {
        (f["id"] == "env.proxy" || f["id"] == "net.login.proxy")
            && f["status"] == "warn"
            && f["section"] == "1-3 (5)-(8)"
    });
    assert!(
        proxy_warn,
        "no env.proxy / net.login.proxy warning \"1-3 (5)-(8)\"; findings:\n{}",
        listing(&doc)
    );
}

#[test]
fn legacy_tls() {
    expect("legacy-tls", "net.login.versions", "fail", "2-1 (4)");
}

#[test]
fn list_names_every_scenario_and_its_expected_finding() {
    let out = certprobe().args(["demo", "--list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "healthy",
        "missing-intermediate",
        "expired-certificate",
        "wrong-issuer",
        "no-certificate",
        "account-locked",
        "signup-incomplete",
        "proxy-intercepts",
        "legacy-tls",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(text.contains("net.login.page fail \"2-2 46\""), "{text}");
}

#[test]
fn unknown_scenario_is_a_usage_error() {
    let out = certprobe()
        .args(["demo", "--scenario", "meltdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown demo scenario `meltdown`"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn table_output_introduces_the_demo_in_japanese() {
    let out = certprobe()
        .args(["demo", "--lang", "ja", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("certprobe デモ"), "{text}");
    assert!(text.contains("診断:"), "{text}");
}

/// A Python with PyPI `prometheus-client`: `$CERTPROBE_PROMETHEUS_PYTHON`, else the venv
/// `/tmp/certprobe-prom` (python3 -m venv /tmp/certprobe-prom &&
/// /tmp/certprobe-prom/bin/pip install prometheus-client).
fn prometheus_python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("CERTPROBE_PROMETHEUS_PYTHON") {
        return p.into();
    }
    let venv = std::path::Path::new("/tmp/certprobe-prom/bin/python");
    assert!(
        venv.is_file(),
        "this test needs PyPI `prometheus-client`: python3 -m venv /tmp/certprobe-prom && \
         /tmp/certprobe-prom/bin/pip install prometheus-client (or set CERTPROBE_PROMETHEUS_PYTHON)"
    );
    venv.to_path_buf()
}

/// The monitoring output of a real check parses with Prometheus' own text parser, and says
/// what the check found (one series per finding, the failing one marked).
#[test]
fn prometheus_output_parses_with_the_prometheus_client_parser() {
    let python = prometheus_python();
    for (scenario, failing) in [
        ("healthy", None),
        ("account-locked", Some("net.login.page")),
    ] {
        let out = certprobe()
            .args(["demo", "--scenario", scenario, "--format", "prometheus"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let script = r#"
import sys, json
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
print(json.dumps([[s.name, s.labels, s.value] for f in fams for s in f.samples]))
"#;
        let parsed = std::process::Command::new(&python)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(text.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(
            parsed.status.success(),
            "{scenario}: the parser refused the output: {}\n{text}",
            String::from_utf8_lossy(&parsed.stderr)
        );
        let samples: Vec<(String, serde_json::Map<String, Value>, f64)> =
            serde_json::from_slice(&parsed.stdout).unwrap();
        assert!(samples.len() > 10, "{scenario}: {samples:?}");
        let fails_for = |id: &str| {
            samples.iter().any(|(_, labels, v)| {
                *v == 1.0
                    && labels.values().any(|l| l == id)
                    && labels.values().any(|l| l == "fail")
            })
        };
        if let Some(id) = failing {
            assert!(
                fails_for(id),
                "{scenario}: no failing series for {id}:\n{text}"
            );
        } else {
            assert!(!fails_for("net.login.page"), "{text}");
        }
    }
}

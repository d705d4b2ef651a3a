//! Networks where only the proxy gets out, end to end. The service's name is `login.test`; a
//! real proxy (mitmproxy relaying TLS untouched, tests/it/support/mitm.rs) reaches it, because
//! an addon maps `login.test` to the server on 127.0.0.1. certprobe's own direct path fails the
//! way it does on such networks: either the name does not resolve here (the test's dnsmasq
//! answers NXDOMAIN to everything), or it resolves to an address that refuses direct
//! connections (127.0.0.2, where nothing listens). Behind the proxy something is broken; the
//! verdict must name it, and no text in any format may advise going around the proxy (proxy
//! exceptions, NO_PROXY, DIRECT) — on such a network that breaks the log-in.

use crate::support::dnsmasq::Dnsmasq;
use crate::support::mitm::Mitm;
use crate::support::openssl::SServer;
use crate::support::scenario::{expand, listing, openssl_req, profile};
use crate::support::{certprobe, repo};
use serde_json::Value;
use std::path::Path;

/// The addon: connections the proxy opens to `login.test` go to 127.0.0.1 instead (as the
/// proxy's own DNS would send them to the service), the port kept.
/// With `CERTPROBE_REFUSE_CONNECT` set, the proxy refuses every tunnel (403), as a proxy does
/// for a port it does not allow.
const REMAP: &str = r#"
import os
from mitmproxy import http

def http_connect(flow):
    if os.environ.get("CERTPROBE_REFUSE_CONNECT"):
        flow.response = http.Response.make(403, b"CONNECT to this port is not allowed")

def server_connect(data):
    address = data.server.address
    if address and address[0] == "login.test":
        data.server.address = ("127.0.0.1", address[1])
"#;

/// How certprobe's own direct path fails.
#[derive(Clone, Copy, Debug)]
enum Direct {
    /// The name does not resolve here.
    NoDns,
    /// The name resolves, to an address that refuses the connection.
    Refused,
}

struct Case {
    /// `openssl s_server -www` arguments (after the `login.test` certificate); `@PKI@`.
    server: &'static [&'static str],
    /// certprobe's identity flags; `@PKI@`.
    client: &'static [&'static str],
    direct: Direct,
    /// The proxy refuses to open the tunnel.
    refuse_connect: bool,
    /// The proxy inspects TLS (mitmproxy's own CA) instead of relaying it.
    intercept: bool,
    /// The verdict: cause (finding id), guide section, exit code.
    cause: &'static str,
    section: &'static str,
    exit: i32,
}

const GOOD: &[&str] = &[
    "--cert",
    "@PKI@/client-chain.pem",
    "--key",
    "@PKI@/client.key",
];

/// A server certificate for `login.test` from the trusted test server root.
fn login_test_cert(dir: &Path) {
    openssl_req(
        dir,
        &[
            "-keyout",
            "login.key",
            "-out",
            "login.pem",
            "-subj",
            "/CN=login.test",
            "-addext",
            "subjectAltName=DNS:login.test",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-CA",
            "@PKI@/server-root.pem",
            "-CAkey",
            "@PKI@/server-root.key",
        ],
    );
}

/// Literal pieces of every piece of advice that takes the service out of the proxy, taken
/// from the catalogue (the longest text between two placeholders of each bypass fix), plus
/// the words the proxy findings use for it.
fn bypass_words() -> Vec<String> {
    let cat = certprobe::guide::catalogue();
    let mut words = vec![
        "add the exception".to_string(),
        "例外 login.test".to_string(),
        "NO_PROXY=".to_string(),
        // proxy.refused, proxy.target_unreachable, proxy.unreachable: their bypass halves.
        "or to exempt".to_string(),
        "and connect directly".to_string(),
        "をプロキシの例外にする".to_string(),
        "を例外にして直接接続".to_string(),
        "例外にしている場合は直接接続".to_string(),
    ];
    for key in [
        "proxy.exception_env",
        "proxy.exception_windows",
        "proxy.exception_flag",
        "proxy.pac_via",
        "proxy.interception",
    ] {
        let t = cat.fix_text(key).unwrap_or_else(|| panic!("no fix {key}"));
        for text in [&t.en, &t.ja] {
            let longest = text
                .split(['{', '}'])
                .step_by(2)
                .max_by_key(|s| s.chars().count())
                .unwrap_or_default();
            assert!(longest.chars().count() > 20, "{key}: {longest}");
            words.push(longest.to_string());
        }
    }
    words
}

fn run_case(name: &str, c: &Case) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    login_test_cert(dir);
    let mut args: Vec<String> = [
        "-cert",
        "@TMP@/login.pem",
        "-key",
        "@TMP@/login.key",
        "-www",
    ]
    .iter()
    .chain(c.server)
    .map(|a| expand(a, dir))
    .collect();
    args.retain(|a| !a.is_empty());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = SServer::start(&refs);
    let dns = match c.direct {
        Direct::NoDns => Dnsmasq::start(&["--address=/#/"]),
        Direct::Refused => Dnsmasq::start(&["--host-record=login.test,127.0.0.2", "--address=/#/"]),
    };
    let script = dir.join("remap.py");
    std::fs::write(&script, REMAP).unwrap();
    let env = if c.refuse_connect {
        vec![("CERTPROBE_REFUSE_CONNECT", "1".to_string())]
    } else {
        vec![]
    };
    let proxy = if c.intercept {
        Mitm::intercepting(&repo().join("fixtures/pki/server-root.pem"), &script, &env)
    } else {
        Mitm::passthrough(&script, &env)
    };
    let prof = profile(dir, "login.test", server.port, server.port, "/", "/", false);
    let forbidden = bypass_words();
    let runs: &[(&str, &str, bool)] = &[
        ("json", "en", false),
        ("json", "ja", false),
        ("table", "en", true),
        ("table", "ja", true),
        ("table", "en", false),
        ("markdown", "en", false),
        ("markdown", "ja", false),
        ("html", "en", false),
    ];
    for (format, lang, details) in runs {
        let mut cmd = certprobe();
        cmd.arg("--profile").arg(&prof).args([
            "--format",
            format,
            "--lang",
            lang,
            "--timeout",
            "8s",
        ]);
        if *details {
            cmd.arg("--details");
        }
        cmd.arg("check")
            .args(c.client.iter().map(|a| expand(a, dir)))
            .args(["--trust", &expand("@PKI@/root.pem", dir)])
            .args(["--trust", &expand("@PKI@/server-root.pem", dir)])
            .args(["--no-system-trust", "--resolver", &dns.addr()])
            .args(["--proxy", &proxy.url()]);
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let what = format!("{name} ({format} {lang} details={details})");
        assert_eq!(
            out.status.code(),
            Some(c.exit),
            "{what}: exit\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for w in &forbidden {
            assert!(
                !text.contains(w.as_str()),
                "{what}: advises going around the proxy (`{w}`):\n{text}"
            );
        }
        if *format == "json" {
            let doc: Value = serde_json::from_str(&text).unwrap();
            let v = &doc["verdict"];
            let why = format!("{what}: verdict {v:#}\n{}", listing(&doc));
            assert_eq!(v["cause"], c.cause, "cause: {why}");
            assert_eq!(v["section"], c.section, "section: {why}");
            // A certificate that was given is never to be reinstalled.
            let first = v["first_action"].as_str().unwrap_or_default();
            assert!(!first.contains("reinstall"), "{why}");
            // The probes did see the direct path fail, and the diagnosis read it.
            assert!(
                doc["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["data"]["proxy_only"] == true),
                "no finding was told this is a proxy-only network: {why}"
            );
        }
    }
    drop(proxy);
    drop(server);
}

/// The server accepts only certificates of another CA and refuses ours (TLS 1.3: the alert
/// comes at the first read). Guide 2-1 (6).
#[test]
fn the_server_behind_the_proxy_refuses_the_certificate_no_dns_here() {
    run_case(
        "refused-cert/no-dns",
        &Case {
            server: &[
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/unknown-ca.pem",
            ],
            client: GOOD,
            refuse_connect: false,
            intercept: false,
            direct: Direct::NoDns,
            cause: "net.check.tls",
            section: "2-1 (6)",
            exit: 1,
        },
    );
}

/// The same refusal inside a TLS 1.2 handshake, on a network whose firewall refuses direct
/// connections (the name resolves).
#[test]
fn the_server_behind_the_proxy_refuses_the_certificate_tls12_firewall() {
    run_case(
        "refused-cert/tls1.2/firewall",
        &Case {
            server: &[
                "-tls1_2",
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/unknown-ca.pem",
            ],
            client: GOOD,
            refuse_connect: false,
            intercept: false,
            direct: Direct::Refused,
            cause: "net.check.tls",
            section: "2-1 (6)",
            exit: 1,
        },
    );
}

/// An expired client certificate, refused by the server behind the proxy: the cause is the
/// certificate (guide 2-1 (6)), not the proxy.
#[test]
fn an_expired_client_certificate_behind_the_proxy() {
    run_case(
        "expired-cert/firewall",
        &Case {
            server: &[
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/root.pem",
            ],
            client: &[
                "--cert",
                "@PKI@/client-expired.pem",
                "--key",
                "@PKI@/client.key",
                "--ca",
                "@PKI@/inter.pem",
            ],
            refuse_connect: false,
            intercept: false,
            direct: Direct::Refused,
            cause: "cert.validity",
            section: "2-1 (6)",
            exit: 1,
        },
    );
}

/// Everything works through the proxy: the proxy warning stays (the certificate must pass it
/// untouched), and it never says to bypass it.
#[test]
fn a_healthy_log_in_through_the_only_proxy() {
    run_case(
        "healthy/no-dns",
        &Case {
            server: &[
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/root.pem",
            ],
            client: GOOD,
            refuse_connect: false,
            intercept: false,
            direct: Direct::NoDns,
            cause: "env.proxy",
            section: "1-3 (5)-(8)",
            exit: 0,
        },
    );
}

/// The proxy refuses the tunnel to the service's port: the proxy is the cause, and the advice
/// is to have it allow the port — not to go around it.
#[test]
fn the_only_proxy_refuses_the_port() {
    run_case(
        "connect-refused/no-dns",
        &Case {
            server: &[],
            client: GOOD,
            refuse_connect: true,
            intercept: false,
            direct: Direct::NoDns,
            cause: "net.check.proxy",
            section: "1-3 (5)-(8)",
            exit: 1,
        },
    );
}

/// The only proxy inspects TLS: the client certificate cannot pass it. The cause is the
/// interception (1-3 (5)-(8)); the advice is to have the proxy pass the service unchanged —
/// never to bypass it, never to reinstall the certificate.
#[test]
fn the_only_proxy_inspects_tls() {
    run_case(
        "intercepting/no-dns",
        &Case {
            server: &[
                "-tls1_2",
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/root.pem",
            ],
            client: GOOD,
            refuse_connect: false,
            intercept: true,
            direct: Direct::NoDns,
            cause: "net.check.tls",
            section: "1-3 (5)-(8)",
            exit: 1,
        },
    );
}

#[test]
fn the_bypass_words_are_found_in_ordinary_proxy_advice() {
    // The check above is only worth something if it catches the advice it forbids.
    let words = bypass_words();
    let cat = certprobe::guide::catalogue();
    let t = cat.fix_text("proxy.exception_windows").unwrap();
    let filled = t.en.replace("{windows}", "login.test");
    assert!(
        words.iter().any(|w| filled.contains(w.as_str())),
        "{words:?}"
    );
    // The advice given instead is not caught.
    let keep = cat.fix_text("diagnose.proxy_only").unwrap();
    for w in &words {
        assert!(
            !keep.en.contains(w.as_str()) && !keep.ja.contains(w.as_str()),
            "{w}"
        );
    }
}

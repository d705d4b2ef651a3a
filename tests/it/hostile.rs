//! Hostile and broken servers on 127.0.0.0/8 (tests/it/support/hostile.rs), against the real
//! binary. For every case: the run ends within its `--timeout` (+10 %, plus a fixed allowance
//! for starting the process), reports a classified finding, keeps its peak memory (the child's
//! max RSS from `wait4`) bounded, and prints no raw control character in any output format.

use crate::support::hostile::{Behavior, FullBacklog, HostileServer, Http, ServerCert, TestCa};
use crate::support::measure::{self, Measured as Run};
use crate::support::pki;
use rcgen::DnType;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The `--timeout` every case runs with.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Starting the process and loading the identity happen outside the probes' deadline.
const START_ALLOWANCE: Duration = Duration::from_millis(1500);
/// Peak resident memory allowed to one run (a run against a friendly server takes ~20 MiB).
const MAX_RSS_KIB: i64 = 160 * 1024;

/// Any raw control character (C0 but newline, DEL, C1), a bidirectional or zero-width
/// formatting character, or bytes that are not UTF-8.
fn raw_controls(bytes: &[u8]) -> Option<String> {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => return Some(format!("not UTF-8: {e}")),
    };
    for (i, c) in s.char_indices() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        if bad {
            let ctx: String = s[i.saturating_sub(40)..]
                .chars()
                .take(80)
                .collect::<String>();
            return Some(format!("U+{:04X} at byte {i}: {ctx:?}", c as u32));
        }
    }
    None
}

/// A profile for one hostile case: endpoint `login` (client certificate) at `login_url`, and
/// optionally a second endpoint `other` (no certificate) at `other_url`.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(login_url: &str, other_url: Option<&str>, ca_pem: Option<&str>) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let mut p = format!(
            r#"name = "hostile"
title = "hostile servers on 127.0.0.1"

[client_cert]
subject_pattern = "S47*"
issuers = ["SECOM Passport for Member PUB CA1"]
roots = ["Security Communication RootCA1"]

[certificate_hosts]
allow = ["127.0.0.1"]

[[endpoint]]
id = "login"
title = {{ en = "Log-in site", ja = "ログインサイト" }}
url = "{login_url}"
client_cert = true
section = "2-1"

[[page]]
pattern = "エラーコード\\s*[:：]?\\s*46"
section = "2-2 46"
"#
        );
        if let Some(o) = other_url {
            p.push_str(&format!(
                r#"
[[endpoint]]
id = "other"
title = {{ en = "Other site", ja = "別サイト" }}
url = "{o}"
client_cert = false
section = "1-6"
"#
            ));
        }
        std::fs::write(dir.path().join("profile.toml"), p).unwrap();
        let ca = ca_pem.unwrap_or("");
        std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
        Case { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `certprobe check` of endpoint `login` in `format`, measured.
    fn check(&self, format: &str, extra: &[&str]) -> Run {
        let profile = self.path("profile.toml");
        let ca = self.path("ca.pem");
        let cert = pki("client-chain.pem");
        let key = pki("client.key");
        let timeout = format!("{}ms", TIMEOUT.as_millis());
        let mut args: Vec<&str> = vec![
            "check",
            "--profile",
            profile.to_str().unwrap(),
            "--only",
            "network",
            "--endpoint",
            "login",
            "--no-proxy",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--no-system-trust",
            "--timeout",
            &timeout,
            "--format",
            format,
            "--lang",
            "en",
            "--color",
            "never",
        ];
        let has_ca = std::fs::metadata(&ca).map(|m| m.len() > 0).unwrap_or(false);
        if has_ca {
            args.push("--trust");
            args.push(ca.to_str().unwrap());
        }
        args.extend_from_slice(extra);
        measure::run(&args, None, TIMEOUT * 4 + Duration::from_secs(10))
    }
}

/// The bounds every hostile case must keep, for one run.
fn assert_bounded(name: &str, format: &str, r: &Run) {
    let limit = TIMEOUT.mul_f64(1.1) + START_ALLOWANCE;
    eprintln!(
        "[hostile] {name:<24} {format:<8} exit {:?} in {:>5} ms, max RSS {:>6} KiB",
        r.code,
        r.elapsed.as_millis(),
        r.max_rss_kib
    );
    assert!(
        r.elapsed <= limit,
        "{name} ({format}): took {:?}, more than --timeout {:?} +10 % (+{:?} to start)\nstdout:\n{}\nstderr:\n{}",
        r.elapsed,
        TIMEOUT,
        START_ALLOWANCE,
        r.out(),
        r.err()
    );
    assert!(
        r.max_rss_kib > 0 && r.max_rss_kib <= MAX_RSS_KIB,
        "{name} ({format}): peak RSS {} KiB (limit {MAX_RSS_KIB} KiB)",
        r.max_rss_kib
    );
    assert!(
        matches!(r.code, Some(0..=2)),
        "{name} ({format}): exit {:?} (a crash or internal error?)\nstderr:\n{}",
        r.code,
        r.err()
    );
    assert!(
        !r.err().contains("panicked"),
        "{name} ({format}): panic\n{}",
        r.err()
    );
    for (what, bytes) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if let Some(bad) = raw_controls(bytes) {
            panic!("{name} ({format}): raw control character in {what}: {bad}");
        }
    }
}

/// Run a case in JSON and in table format; check the bounds of both and return the JSON
/// findings.
fn run_case(name: &str, case: &Case) -> Vec<Value> {
    let json = case.check("json", &[]);
    assert_bounded(name, "json", &json);
    let table = case.check("table", &[]);
    assert_bounded(name, "table", &table);
    if std::env::var_os("HOSTILE_SHOW").is_some() {
        eprintln!("---- {name} (table)\n{}{}", table.out(), table.err());
    }
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            json.out(),
            json.err()
        )
    });
    doc["findings"].as_array().cloned().unwrap_or_default()
}

fn finding<'a>(fs: &'a [Value], id: &str) -> &'a Value {
    fs.iter().find(|f| f["id"] == id).unwrap_or_else(|| {
        panic!(
            "no finding {id}; have {:?}",
            fs.iter().map(|f| f["id"].clone()).collect::<Vec<_>>()
        )
    })
}

/// The finding failed, with a guide section and a detail — a classified failure.
fn assert_classified(name: &str, fs: &[Value], id: &str, statuses: &[&str]) -> String {
    let f = finding(fs, id);
    let st = f["status"].as_str().unwrap_or("");
    assert!(
        statuses.contains(&st),
        "{name}: {id} is {st}, expected one of {statuses:?}: {f:#}"
    );
    assert!(
        f["section"].as_str().is_some_and(|s| !s.is_empty()),
        "{name}: {id} names no guide section: {f:#}"
    );
    assert!(
        f["fix"].as_str().is_some_and(|s| !s.is_empty()),
        "{name}: {id} gives no fix: {f:#}"
    );
    f["detail"].as_str().unwrap_or("").to_string()
}

fn url(s: &HostileServer, path: &str) -> String {
    format!("https://{}{path}", s.addr)
}

fn tls_server(
    ca: &TestCa,
    ip: &str,
    subject: &[(DnType, String)],
    extra: usize,
    request_cert: bool,
    http: Http,
) -> HostileServer {
    let mut cert: ServerCert = ca.server(&[ip, "localhost"], subject, extra);
    cert.request_client_cert = request_cert;
    HostileServer::start(
        ip,
        Behavior::Tls {
            cert: Arc::new(cert),
            http,
        },
    )
}

fn cn(s: &str) -> Vec<(DnType, String)> {
    vec![(DnType::CommonName, s.to_string())]
}

// ------------------------------------------------------------------ transport-level cases

#[test]
fn accept_and_never_send() {
    let s = HostileServer::start("127.0.0.1", Behavior::Silent);
    let case = Case::new(&url(&s, "/"), None, None);
    let fs = run_case("silent", &case);
    let d = assert_classified("silent", &fs, "net.login.tls", &["fail"]);
    assert!(d.contains("no TLS handshake within"), "{d}");
}

#[test]
fn one_byte_per_second() {
    let s = HostileServer::start("127.0.0.1", Behavior::TrickleTls);
    let case = Case::new(&url(&s, "/"), None, None);
    let fs = run_case("trickle-tls", &case);
    assert_classified("trickle-tls", &fs, "net.login.tls", &["fail"]);
    assert!(finding(&fs, "net.login.versions")["status"] != "pass");
}

#[test]
fn random_bytes_instead_of_server_hello() {
    let s = HostileServer::start("127.0.0.1", Behavior::RandomBytes);
    let case = Case::new(&url(&s, "/"), None, None);
    let fs = run_case("random-bytes", &case);
    assert_classified("random-bytes", &fs, "net.login.tls", &["fail"]);
}

#[test]
fn close_after_client_hello() {
    let s = HostileServer::start("127.0.0.1", Behavior::CloseAfterHello);
    let case = Case::new(&url(&s, "/"), None, None);
    let fs = run_case("close-after-hello", &case);
    assert_classified("close-after-hello", &fs, "net.login.tls", &["fail"]);
}

#[test]
fn connect_that_never_completes() {
    let b = FullBacklog::start();
    let case = Case::new(&format!("https://{}/", b.addr), None, None);
    let fs = run_case("full-backlog", &case);
    let d = assert_classified("full-backlog", &fs, "net.login.tcp", &["fail"]);
    assert!(d.contains("timed out"), "{d}");
}

// ------------------------------------------------------------------ certificate cases

#[test]
fn two_mebibyte_certificate_chain() {
    let ca = TestCa::new("Hostile CA");
    let one = ca.der.len();
    let copies = (2 * 1024 * 1024) / one + 1;
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        copies,
        false,
        Http::Silent,
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("chain-2mib", &case);
    assert_classified("chain-2mib", &fs, "net.login.tls", &["fail"]);
}

#[test]
fn certificate_with_a_100_kb_subject() {
    let ca = TestCa::new("Hostile CA");
    let subject = vec![
        (DnType::CommonName, "127.0.0.1".to_string()),
        (DnType::OrganizationalUnitName, "X".repeat(100 * 1024)),
    ];
    let s = tls_server(&ca, "127.0.0.1", &subject, 0, false, Http::Silent);
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("subject-100kb", &case);
    assert_classified("subject-100kb", &fs, "net.login.tls", &["fail"]);
}

/// The escapes a hostile server hides in text: CSI colour and clear-screen, an OSC title and
/// an OSC 8 hyperlink, BEL, backspace, carriage return, a C1 CSI, a right-to-left override.
const EVIL: &str = "ev\u{1b}[31mil\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}]8;;http://x/\u{1b}\\l\u{8}\r\u{9b}1m\u{202e}gnp.exe\u{7f}";

#[test]
fn escapes_in_certificate_subject() {
    let ca = TestCa::new(&format!("CA {EVIL}"));
    let subject = vec![
        (DnType::CommonName, format!("127.0.0.1 {EVIL}")),
        (DnType::OrganizationName, EVIL.to_string()),
    ];
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &subject,
        0,
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html; charset=utf-8".to_vec()],
            body: b"<title>ok</title>".to_vec(),
        },
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("escapes-subject", &case);
    let tls = finding(&fs, "net.login.tls");
    assert_eq!(tls["status"], "pass", "{tls:#}");
    let d = tls["detail"].as_str().unwrap();
    assert!(d.contains("\\u{1b}[31m"), "escaped, not dropped: {d}");
    // Markdown and the `tls` command's own table see the same names.
    let md = case.check("markdown", &[]);
    assert_bounded("escapes-subject", "markdown", &md);
    let ca_path = case.path("ca.pem");
    let r = measure::run(
        &[
            "tls",
            &s.addr.to_string(),
            "--profile",
            case.path("profile.toml").to_str().unwrap(),
            "--no-proxy",
            "--no-system-trust",
            "--trust",
            ca_path.to_str().unwrap(),
            "--timeout",
            "3s",
            "--color",
            "never",
        ],
        None,
        Duration::from_secs(30),
    );
    assert_bounded("escapes-subject", "tls", &r);
    // Shown, escaped: as `\u{1b}`, or as the RFC 4514 `\1b` of a distinguished name.
    assert!(
        r.out().contains("\\u{1b}") || r.out().contains("\\1b[31m"),
        "{}",
        r.out()
    );
}

#[test]
fn escapes_in_http_headers() {
    let ca = TestCa::new("Hostile CA");
    let mut server = b"Server: nginx".to_vec();
    server.extend_from_slice(EVIL.replace(['\r'], "").as_bytes());
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::Page {
            status: 200,
            headers: vec![
                server,
                "X-Note: \u{9b}31m\u{202e}txt.exe".as_bytes().to_vec(),
                b"Content-Type: text/html; charset=\x1b[31mutf-8".to_vec(),
                b"Date: Wed, 25 Nov 2026 16:00:00 GMT\x1b]0;x\x07".to_vec(),
            ],
            body: b"<title>headers</title>".to_vec(),
        },
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("escapes-headers", &case);
    // Either the answer is refused as invalid HTTP, or read with the escapes neutralised.
    let http = finding(&fs, "net.login.http");
    assert!(
        ["pass", "fail"].contains(&http["status"].as_str().unwrap()),
        "{http:#}"
    );
    if http["status"] == "fail" {
        assert_classified("escapes-headers", &fs, "net.login.http", &["fail"]);
    }
}

#[test]
fn c1_and_bidi_in_http_headers() {
    // Bytes of 0x80 and above are legal in header values (obs-text): the answer is valid HTTP.
    let ca = TestCa::new("Hostile CA");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::Page {
            status: 200,
            headers: vec![
                "Server: nginx\u{9b}31m\u{202e}exe.txt".as_bytes().to_vec(),
                "Content-Type: text/html; charset=utf-8\u{2066}\u{85}"
                    .as_bytes()
                    .to_vec(),
                "Location: /\u{202e}\u{9b}2J".as_bytes().to_vec(),
            ],
            body: "<title>\u{9b}2J\u{202e}</title>".as_bytes().to_vec(),
        },
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("c1-bidi-headers", &case);
    let http = finding(&fs, "net.login.http");
    assert_eq!(http["status"], "pass", "{http:#}");
}

#[test]
fn escapes_in_page_text() {
    let ca = TestCa::new("Hostile CA");
    let body = format!(
        "<html><head><title>Log-in {EVIL}</title></head><body><p>{EVIL}</p>\
         <p>エラーコード：46</p><p>{EVIL}</p></body></html>"
    );
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html; charset=utf-8".to_vec()],
            body: body.into_bytes(),
        },
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("escapes-page", &case);
    assert_classified("escapes-page", &fs, "net.login.page", &["fail"]);
    assert_eq!(finding(&fs, "net.login.page")["section"], "2-2 46");
    let md = case.check("markdown", &[]);
    assert_bounded("escapes-page", "markdown", &md);
    let junit = case.check("junit", &[]);
    assert_bounded("escapes-page", "junit", &junit);
}

#[test]
fn escapes_in_page_title_without_error_code() {
    let ca = TestCa::new("Hostile CA");
    let body = format!("<title>{EVIL}</title><h1>{EVIL}</h1>");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html".to_vec()],
            body: body.into_bytes(),
        },
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("escapes-title", &case);
    let page = finding(&fs, "net.login.page");
    assert!(
        page["detail"].as_str().unwrap().contains("\\u{1b}"),
        "{page:#}"
    );
}

// ------------------------------------------------------------------ HTTP cases

#[test]
fn endless_http_body() {
    let ca = TestCa::new("Hostile CA");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::EndlessBody,
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("endless-body", &case);
    let http = finding(&fs, "net.login.http");
    assert_eq!(http["data"]["body_truncated"], true, "{http:#}");
    assert!(
        http["data"]["body_bytes"].as_u64().unwrap() <= 1024 * 1024,
        "{http:#}"
    );
    assert_classified("endless-body", &fs, "net.login.page", &["warn", "fail"]);
}

#[test]
fn endless_http_headers() {
    let ca = TestCa::new("Hostile CA");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::EndlessHeaders,
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("endless-headers", &case);
    assert_classified("endless-headers", &fs, "net.login.http", &["fail"]);
}

#[test]
fn http_head_one_byte_per_second() {
    let ca = TestCa::new("Hostile CA");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::TrickleHead,
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("trickle-http", &case);
    assert_classified("trickle-http", &fs, "net.login.http", &["fail"]);
}

#[test]
fn redirect_loop() {
    let ca = TestCa::new("Hostile CA");
    let s = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        false,
        Http::Redirect("/again".into()),
    );
    let case = Case::new(&url(&s, "/"), None, Some(&ca.pem));
    let fs = run_case("redirect-loop", &case);
    let d = assert_classified("redirect-loop", &fs, "net.login.http", &["fail"]);
    assert!(d.contains("redirect"), "{d}");
}

#[test]
fn redirect_to_another_host_of_the_profile_gets_no_certificate() {
    let ca = TestCa::new("Hostile CA");
    // The other host: in the profile (so the redirect is followed), not in certificate_hosts.
    let other = tls_server(
        &ca,
        "127.0.0.2",
        &cn("127.0.0.2"),
        0,
        true,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html".to_vec()],
            body: b"<title>elsewhere</title>".to_vec(),
        },
    );
    let first = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        true,
        Http::Redirect(url(&other, "/landing")),
    );
    let case = Case::new(&url(&first, "/"), Some(&url(&other, "/")), Some(&ca.pem));
    let fs = run_case("redirect-other-host", &case);
    let http = finding(&fs, "net.login.http");
    assert_eq!(http["status"], "pass", "{http:#}");
    assert_eq!(http["data"]["redirects"].as_array().unwrap().len(), 1);
    let st = &first.stats;
    assert!(
        st.get(&st.client_certs) >= 1,
        "the certificate host itself was offered the certificate"
    );
    let so = &other.stats;
    assert!(
        so.get(&so.handshakes) >= 2,
        "the redirect was followed (two runs)"
    );
    assert_eq!(
        so.get(&so.client_certs),
        0,
        "the client certificate was presented to a host outside certificate_hosts"
    );
}

#[test]
fn redirect_to_a_host_outside_the_profile_is_not_followed() {
    let ca = TestCa::new("Hostile CA");
    let outside = tls_server(
        &ca,
        "127.0.0.3",
        &cn("127.0.0.3"),
        0,
        true,
        Http::Page {
            status: 200,
            headers: vec![],
            body: b"x".to_vec(),
        },
    );
    let first = tls_server(
        &ca,
        "127.0.0.1",
        &cn("127.0.0.1"),
        0,
        true,
        Http::Redirect(url(&outside, "/steal")),
    );
    let case = Case::new(&url(&first, "/"), None, Some(&ca.pem));
    let fs = run_case("redirect-outside", &case);
    assert_classified("redirect-outside", &fs, "net.login.http", &["warn"]);
    let so = &outside.stats;
    assert_eq!(
        so.get(&so.connections),
        0,
        "a host outside the profile was contacted"
    );
}

// ------------------------------------------------------------------ malformed local input

/// Bad input of every kind: exit code 2, one clear line on stderr, no panic, no raw control
/// characters. Prints a Markdown table row per case (for the README's reliability section).
#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let k = |n: &str| pki(n).display().to_string();
    std::fs::write(d("empty.pem"), b"").unwrap();
    std::fs::write(d("huge.pem"), vec![b'A'; 5 * 1024 * 1024]).unwrap();
    std::fs::write(d("escape\u{1b}[2J.pem"), b"x").unwrap();
    std::fs::write(d("bad.toml"), "name = \"x\"\n[[endpoint]\nid = 1\n").unwrap();
    std::fs::write(
        d("regex.toml"),
        std::fs::read_to_string(crate::support::repo().join("tests/it/support/local_profile.toml"))
            .unwrap()
            .replace("過去1年間ログインされていません", "(unclosed"),
    )
    .unwrap();
    std::fs::write(d("pw.txt"), "wrong\n").unwrap();
    let profile = crate::support::repo()
        .join("tests/it/support/local_profile.toml")
        .display()
        .to_string();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "missing certificate file",
            vec!["inspect".into(), d("nope.pem")],
        ),
        ("a folder instead of a file", vec!["inspect".into(), d("")]),
        ("empty file", vec!["inspect".into(), d("empty.pem")]),
        ("file over 4 MiB", vec!["inspect".into(), d("huge.pem")]),
        ("random bytes", vec!["inspect".into(), k("garbage.bin")]),
        (
            "PEM cut short",
            vec!["inspect".into(), k("client-truncated.pem")],
        ),
        (
            "PKCS#12 cut short",
            vec!["inspect".into(), k("client-truncated.p12")],
        ),
        (
            "PKCS#12 without a password (no terminal)",
            vec!["inspect".into(), k("client.p12")],
        ),
        (
            "PKCS#12 with a wrong password",
            vec![
                "inspect".into(),
                k("client.p12"),
                "--password-file".into(),
                d("pw.txt"),
            ],
        ),
        (
            "encrypted key without a password",
            vec![
                "verify".into(),
                "--cert".into(),
                k("client.pem"),
                "--key".into(),
                k("client-enc.key"),
            ],
        ),
        (
            "file name with escapes",
            vec!["inspect".into(), d("escape\u{1b}[2J.pem")],
        ),
        (
            "profile: TOML syntax",
            vec!["profile".into(), "check".into(), d("bad.toml")],
        ),
        (
            "profile: bad page pattern",
            vec!["profile".into(), "check".into(), d("regex.toml")],
        ),
        (
            "--timeout 0s",
            vec![
                "explain".into(),
                "46".into(),
                "--timeout".into(),
                "0s".into(),
            ],
        ),
        (
            "--at yesterday",
            vec![
                "verify".into(),
                "--cert".into(),
                k("client.pem"),
                "--at".into(),
                "yesterday".into(),
            ],
        ),
        (
            "--endpoint unknown",
            vec![
                "check".into(),
                "--profile".into(),
                profile.clone(),
                "--only".into(),
                "network".into(),
                "--endpoint".into(),
                "nope".into(),
            ],
        ),
        (
            "--resolver not an address",
            vec![
                "check".into(),
                "--profile".into(),
                profile.clone(),
                "--only".into(),
                "network".into(),
                "--resolver".into(),
                "dns.example".into(),
            ],
        ),
        (
            "--proxy not a URL",
            vec![
                "check".into(),
                "--profile".into(),
                profile.clone(),
                "--only".into(),
                "network".into(),
                "--proxy".into(),
                "::::".into(),
            ],
        ),
        (
            "tls with an empty target",
            vec!["tls".into(), "".into(), "--profile".into(), profile.clone()],
        ),
        (
            "explain an unknown section",
            vec!["explain".into(), "9-9".into()],
        ),
    ];
    let mut rows = Vec::new();
    for (name, args) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = measure::run(&argv, None, Duration::from_secs(30));
        let err = r.err();
        assert_eq!(r.code, Some(2), "{name}: exit {:?}\n{err}", r.code);
        assert!(!err.contains("panicked"), "{name}: {err}");
        if let Some(bad) = raw_controls(&r.stderr) {
            panic!("{name}: raw control character on stderr: {bad}");
        }
        let first = err.lines().next().unwrap_or("").to_string();
        assert!(
            first.starts_with("certprobe: ") || first.starts_with("error: "),
            "{name}: {err}"
        );
        let shown = first.replace(&dir.path().display().to_string(), "DIR");
        let shown = shown.replace(&crate::support::repo().display().to_string(), ".");
        rows.push(format!(
            "| {name} | {} | {} |",
            r.code.unwrap(),
            shown.replace('|', "\\|")
        ));
    }
    eprintln!(
        "| bad input | exit | message |\n| --- | --- | --- |\n{}",
        rows.join("\n")
    );
}

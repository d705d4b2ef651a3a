//! Secrets never leave the process: every command and output format, with `-vvv` logging, run
//! with fixtures whose private key, PKCS#12 password, key password, proxy password, sign-up code
//! and issuance token are known markers (fixtures/secrets/README.md). A marker — or its base64,
//! or a line of the private key — in stdout, stderr or a written report fails the test.
//!
//! The servers echo what they are sent: a redirect to `/landing?<query>` and a page whose title
//! repeats the query, as real sites do with per-user codes.

use crate::support::hostile::{Behavior, HostileServer, Http, TestCa};
use crate::support::tinyproxy::Tinyproxy;
use base64::Engine;
use rcgen::DnType;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const P12_PW: &str = "MARKER-P12-PASSWORD-7q1x";
const KEY_PW: &str = "MARKER-KEY-PASSWORD-3k9z";
pub(crate) const PROXY_USER: &str = "certprobe";
pub(crate) const PROXY_PW: &str = "MARKER-PROXY-PASSWORD-5m2w";
pub(crate) const SIGNUP: &str = "MARKER-SIGNUP-CODE-8r4t";
pub(crate) const TOKEN: &str = "MARKER-TOKEN-6h0v";
const WRONG_PW: &str = "MARKER-WRONG-PASSWORD-1a2b";

fn secrets(name: &str) -> PathBuf {
    crate::support::repo().join("fixtures/secrets").join(name)
}

/// Everything that must never appear.
fn needles() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [P12_PW, KEY_PW, PROXY_PW, SIGNUP, TOKEN, WRONG_PW]
        .iter()
        .map(|m| (m.to_string(), m.to_string()))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    v.push((
        "proxy credentials (base64)".into(),
        b64.encode(format!("{PROXY_USER}:{PROXY_PW}")),
    ));
    for m in [P12_PW, KEY_PW, SIGNUP, TOKEN] {
        v.push((format!("{m} (base64)"), b64.encode(m)));
    }
    // The private key: each base64 line of its PEM, and its DER in hex.
    let pem = std::fs::read_to_string(secrets("client.key")).unwrap();
    for line in pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
    {
        v.push(("private key (PEM line)".into(), line.to_string()));
    }
    let der: Vec<u8> = b64
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    // Any 32-hex-digit run of the key's DER past its fixed header.
    for i in (16..hex.len().saturating_sub(32)).step_by(32) {
        v.push(("private key (hex)".into(), hex[i..i + 32].to_string()));
    }
    v
}

pub(crate) fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let lower = text.to_lowercase();
    for (name, needle) in needles() {
        let found = text.contains(&needle)
            || (needle.chars().all(|c| c.is_ascii_hexdigit()) && lower.contains(&needle));
        if found {
            let at = lower.find(&needle.to_lowercase()).unwrap_or(0);
            let around: String = lower[..at]
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .chain(lower[at..].chars().take(300))
                .collect();
            panic!(
                "{what}: contains a secret ({name}: {needle})\n--- around it:\n{}",
                around
            );
        }
    }
}

pub(crate) struct Env {
    _dir: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    pub(crate) profile: PathBuf,
    pub(crate) ca: PathBuf,
    pub(crate) server: HostileServer,
}

/// A service on 127.0.0.1 that echoes, and a profile for it with every per-user URL part.
pub(crate) fn service() -> Env {
    let ca = TestCa::new("Secrets Test CA");
    let mut cert = ca.server(
        &["127.0.0.1", "localhost"],
        &[(DnType::CommonName, "127.0.0.1".to_string())],
        0,
    );
    cert.request_client_cert = true;
    let server = HostileServer::start(
        "127.0.0.1",
        Behavior::Tls {
            cert: Arc::new(cert),
            http: Http::Echo,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let a = server.addr;
    let profile = format!(
        r#"name = "secrets"
title = "secret markers on 127.0.0.1"

[client_cert]
subject_pattern = "S47*"
issuers = ["SECOM Passport for Member PUB CA1"]
roots = ["Security Communication RootCA1"]

[certificate_hosts]
allow = ["127.0.0.1"]

[[endpoint]]
id = "issuance"
title = {{ en = "Issuance", ja = "発行" }}
url = "https://{a}/Entrance.jsp?{{token}}"
client_cert = false
section = "1-6"
optional_param = "token"

[[endpoint]]
id = "signup"
title = {{ en = "Sign-up", ja = "登録" }}
url = "https://{a}/SignUp.do?cd={{signup_code}}"
client_cert = true
section = "2-4"
optional_param = "signup_code"

[[endpoint]]
id = "login"
title = {{ en = "Log-in", ja = "ログイン" }}
url = "https://{a}/login?x=1"
client_cert = true
section = "2-1"

[[ca]]
role = "intermediate"
name = "SECOM Passport for Member PUB CA1"
url = "https://{a}/ca.cer"
"#
    );
    let pp = dir.path().join("profile.toml");
    std::fs::write(&pp, profile).unwrap();
    let cap = dir.path().join("ca.pem");
    std::fs::write(&cap, &ca.pem).unwrap();
    Env {
        dir: dir.path().to_path_buf(),
        _dir: dir,
        profile: pp,
        ca: cap,
        server,
    }
}

const FORMATS: [&str; 6] = ["table", "json", "nagios", "prometheus", "junit", "markdown"];

/// Run the binary with `args` and `env`; check stdout and stderr; return stdout.
pub(crate) fn run(label: &str, args: &[String], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_certprobe"));
    c.args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("CP_P12_PW", P12_PW)
        .env("CP_WRONG_PW", WRONG_PW)
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run certprobe");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{label}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_clean(&format!("{label}: stdout"), &out.stdout);
    assert_clean(&format!("{label}: stderr"), &out.stderr);
    out
}

pub(crate) fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

pub(crate) fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The identity flags: the PKCS#12 with its password from the environment, or the encrypted
/// key with its password from a file.
pub(crate) fn identities() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "p12",
            s(&[
                "--cert",
                &p(&secrets("client.p12")),
                "--password-env",
                "CP_P12_PW",
            ]),
        ),
        (
            "enc-key",
            s(&[
                "--cert",
                &p(&secrets("chain.pem")),
                "--key",
                &p(&secrets("client-enc.key")),
                "--password-file",
                &p(&secrets("key-password.txt")),
            ]),
        ),
    ]
}

#[test]
fn check_and_report_in_every_format_through_an_authenticating_proxy() {
    let e = service();
    let proxy = Tinyproxy::start(Some((PROXY_USER, PROXY_PW)));
    let proxy_url = format!("http://{PROXY_USER}:{PROXY_PW}@127.0.0.1:{}", proxy.port);
    let common = s(&[
        "--profile",
        &p(&e.profile),
        "--trust",
        &p(&e.ca),
        "--trust",
        &p(&crate::support::pki("root.pem")),
        "--timeout",
        "8s",
        "-vvv",
        "--color",
        "never",
    ]);
    let secrets_flags = s(&["--signup-code", SIGNUP, "--token", TOKEN]);
    for (id_name, id) in identities() {
        for fmt in FORMATS {
            // The proxy given as a flag.
            let mut a = s(&["check", "--format", fmt, "--proxy", &proxy_url]);
            a.extend(common.clone());
            a.extend(id.clone());
            a.extend(secrets_flags.clone());
            let out = run(&format!("check {id_name} {fmt} --proxy"), &a, &[]);
            // -vvv logged (so the check above looked at log lines, not at silence): step
            // boundaries and route decisions, TLS details and wire summaries.
            let log = String::from_utf8_lossy(&out.stderr);
            for (level, what) in [
                ("INFO", "route: via proxy"),
                ("INFO", "step done"),
                ("DEBUG", "tls: handshake"),
                ("TRACE", "wire: CONNECT sent"),
                ("TRACE", "wire: response"),
            ] {
                assert!(
                    log.lines().any(|l| l.contains(level) && l.contains(what)),
                    "check {id_name} {fmt}: no {level} line `{what}` in stderr:\n{log}"
                );
            }
            if fmt == "json" {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let ids: Vec<&str> = v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|f| f["id"].as_str())
                    .collect();
                assert!(ids.contains(&"net.signup.page"), "{ids:?}");
            }
            // The proxy and the per-user codes from the environment.
            let mut a = s(&["check", "--format", fmt]);
            a.extend(common.clone());
            a.extend(id.clone());
            run(
                &format!("check {id_name} {fmt} env"),
                &a,
                &[
                    ("HTTPS_PROXY", &proxy_url),
                    ("CERTPROBE_SIGNUP_CODE", SIGNUP),
                    ("CERTPROBE_TOKEN", TOKEN),
                ],
            );
        }
        // The support report: stdout, stderr and the file it writes.
        let out_file = e.dir.join(format!("report-{id_name}.md"));
        let mut a = s(&["report", "--out", &p(&out_file), "--proxy", &proxy_url]);
        a.extend(common.clone());
        a.extend(id.clone());
        a.extend(secrets_flags.clone());
        a.extend(s(&["--message", "error 46", "--user-id", "u123"]));
        run(&format!("report {id_name}"), &a, &[]);
        let written = std::fs::read(&out_file).expect("the report file was written");
        assert!(!written.is_empty());
        assert_clean(&format!("report file {id_name}"), &written);
    }
    // The server saw the per-user codes (they were used), but no output repeats them.
    assert!(e.server.stats.get(&e.server.stats.requests) > 0);
}

#[test]
fn a_wrong_proxy_password_is_not_repeated() {
    let e = service();
    let proxy = Tinyproxy::start(Some((PROXY_USER, "the-right-one")));
    let proxy_url = format!("http://{PROXY_USER}:{PROXY_PW}@127.0.0.1:{}", proxy.port);
    for fmt in FORMATS {
        let mut a = s(&[
            "check",
            "--format",
            fmt,
            "--proxy",
            &proxy_url,
            "--profile",
            &p(&e.profile),
            "--timeout",
            "5s",
            "-vvv",
            "--signup-code",
            SIGNUP,
        ]);
        a.extend(identities()[0].1.clone());
        run(&format!("check {fmt} wrong proxy password"), &a, &[]);
    }
    // `tls` through the proxy, and fetch-ca through it.
    let mut a = s(&[
        "tls",
        &e.server.addr.to_string(),
        "--proxy",
        &proxy_url,
        "--profile",
        &p(&e.profile),
        "-vvv",
        "--timeout",
        "5s",
    ]);
    a.extend(identities()[0].1.clone());
    run("tls wrong proxy password", &a, &[]);
    let a = s(&[
        "fetch-ca",
        "--out",
        &p(&e.dir.join("cas")),
        "--proxy",
        &proxy_url,
        "--profile",
        &p(&e.profile),
        "-vvv",
        "--timeout",
        "5s",
    ]);
    run("fetch-ca wrong proxy password", &a, &[]);
}

#[test]
fn local_commands_in_every_format() {
    let e = service();
    for (id_name, id) in identities() {
        for fmt in FORMATS {
            // inspect takes the files positionally.
            let mut a = s(&["inspect", "--format", fmt, "-vvv"]);
            if id_name == "p12" {
                a.extend(s(&[
                    &p(&secrets("client.p12")),
                    "--password-env",
                    "CP_P12_PW",
                ]));
            } else {
                a.extend(s(&[
                    &p(&secrets("chain.pem")),
                    "--key",
                    &p(&secrets("client-enc.key")),
                    "--password-file",
                    &p(&secrets("key-password.txt")),
                ]));
            }
            run(&format!("inspect {id_name} {fmt}"), &a, &[]);

            let mut a = s(&[
                "verify",
                "--format",
                fmt,
                "-vvv",
                "--trust",
                &p(&crate::support::pki("root.pem")),
                "--no-system-trust",
            ]);
            a.extend(id.clone());
            run(&format!("verify {id_name} {fmt}"), &a, &[]);

            let mut a = s(&[
                "tls",
                &e.server.addr.to_string(),
                "--format",
                fmt,
                "-vvv",
                "--no-proxy",
                "--profile",
                &p(&e.profile),
                "--trust",
                &p(&e.ca),
                "--timeout",
                "5s",
            ]);
            a.extend(id.clone());
            run(&format!("tls {id_name} {fmt}"), &a, &[]);

            let mut a = s(&[
                "check",
                "--only",
                "local",
                "--format",
                fmt,
                "-vvv",
                "--profile",
                &p(&e.profile),
            ]);
            a.extend(id.clone());
            run(&format!("check --only local {id_name} {fmt}"), &a, &[]);
        }
    }
    // Wrong passwords: the error names the file, never the password tried.
    for (label, a) in [
        (
            "inspect wrong p12 password",
            s(&[
                "inspect",
                &p(&secrets("client.p12")),
                "--password-env",
                "CP_WRONG_PW",
                "-vvv",
            ]),
        ),
        (
            "verify wrong key password",
            s(&[
                "verify",
                "--cert",
                &p(&secrets("chain.pem")),
                "--key",
                &p(&secrets("client-enc.key")),
                "--password-env",
                "CP_WRONG_PW",
                "-vvv",
            ]),
        ),
    ] {
        let out = run(label, &a, &[]);
        assert_eq!(out.status.code(), Some(2), "{label}");
    }
    // Commands that take no secret, run with the secrets in the environment.
    let env = [
        ("CERTPROBE_SIGNUP_CODE", SIGNUP),
        ("CERTPROBE_TOKEN", TOKEN),
        ("CERTPROBE_CERT", "/nonexistent"),
    ];
    for a in [
        s(&["profile", "show", &p(&e.profile)]),
        s(&["profile", "check", &p(&e.profile)]),
        s(&["explain", "2-4", "-vvv"]),
        s(&["demo", "--scenario", "healthy", "--format", "json", "-vvv"]),
        s(&["--help"]),
    ] {
        run(&a.join(" "), &a, &env);
    }
}

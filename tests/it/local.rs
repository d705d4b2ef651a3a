//! End-to-end tests of the local probes with the real binary: `check --only local`, `verify`,
//! `inspect`, bad input, and `openssl verify` as an oracle for every fixture chain.
//!
//! Needs `openssl` on PATH (Debian package `openssl`); the oracle tests fail when it is absent.

use crate::support::certprobe;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

const PASSWORD: &str = "certprobe-test";

fn pki(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pki")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn profile() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/support/local_profile.toml")
        .to_string_lossy()
        .into_owned()
}

/// `certprobe --profile TEST check --only local --format json ARGS…` → (exit code, findings).
fn check_local(args: &[&str]) -> (i32, Vec<Value>) {
    let out = certprobe()
        .args([
            "--profile",
            &profile(),
            "--format",
            "json",
            "check",
            "--only",
            "local",
        ])
        .args(args)
        .env("CERTPROBE_TEST_PW", PASSWORD)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        code == 0 || code == 1,
        "check exited {code}: {stderr}\n{stdout}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let findings = doc["findings"].as_array().unwrap().clone();
    for f in &findings {
        assert_eq!(f["phase"], "local", "only local findings: {f}");
    }
    (code, findings)
}

fn find<'a>(findings: &'a [Value], id: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {findings:#?}"))
}

fn assert_status(findings: &[Value], id: &str, status: &str, section: Option<&str>) {
    let f = find(findings, id);
    assert_eq!(f["status"], status, "{id}: {f:#}");
    if let Some(s) = section {
        assert_eq!(f["section"], s, "{id}: {f:#}");
        assert!(
            f["fix"].as_str().is_some_and(|x| !x.is_empty()),
            "{id} has no fix: {f:#}"
        );
    }
}

fn trust_root() -> Vec<String> {
    vec![
        "--no-system-trust".into(),
        "--trust".into(),
        pki("root.pem"),
    ]
}

fn with_trust<'a>(args: &'a [&'a str], trust: &'a [String]) -> Vec<&'a str> {
    let mut v: Vec<&str> = args.to_vec();
    v.extend(trust.iter().map(String::as_str));
    v
}

// ---------------------------------------------------------------------------------------------
// check --only local: every scenario of ids.md
// ---------------------------------------------------------------------------------------------

#[test]
fn healthy_pkcs12_in_every_encryption_passes_everything() {
    let t = trust_root();
    for file in ["client.p12", "client-legacy.p12", "client-3des.p12"] {
        let p = pki(file);
        let (code, fs) = check_local(&with_trust(
            &["--cert", &p, "--password-env", "CERTPROBE_TEST_PW"],
            &t,
        ));
        assert_eq!(code, 0, "{file}: {fs:#?}");
        for id in [
            "cert.load",
            "cert.subject",
            "cert.issuer",
            "cert.validity",
            "cert.eku",
            "cert.key_usage",
            "cert.key",
            "cert.signature",
            "cert.key_match",
            "trust.root",
            "trust.intermediate",
            "cert.chain",
            "cert.sent_chain",
        ] {
            assert_status(&fs, id, "pass", None);
        }
        let chain = find(&fs, "cert.chain");
        assert_eq!(
            chain["detail"],
            "S47000001 → SECOM Passport for Member PUB CA1 → Security Communication RootCA1"
        );
        assert_eq!(
            find(&fs, "cert.sent_chain")["data"]["send"],
            serde_json::json!(["S47000001", "SECOM Passport for Member PUB CA1"])
        );
    }
}

#[test]
fn no_client_certificate_says_how_to_export_one() {
    let t = trust_root();
    let (code, fs) = check_local(&with_trust(&[], &t));
    assert_eq!(code, 1);
    assert_status(&fs, "cert.load", "fail", Some("2-1 (6)"));
    let fix = find(&fs, "cert.load")["fix"].as_str().unwrap().to_string();
    for word in [".p12", "--cert", "certmgr", "Keychain", "Firefox"] {
        assert!(fix.contains(word), "fix lacks {word}: {fix}");
    }
}

#[test]
fn expired_and_not_yet_valid_leaves_fail_validity() {
    let t = trust_root();
    let inter = pki("inter.pem");
    for (file, word) in [
        ("client-expired.pem", "expired on 2021-01-01"),
        ("client-notyet.pem", "not valid until 2046-01-01"),
    ] {
        let p = pki(file);
        let k = pki("client.key");
        let (code, fs) = check_local(&with_trust(
            &["--cert", &p, "--key", &k, "--ca", &inter],
            &t,
        ));
        assert_eq!(code, 1);
        assert_status(&fs, "cert.validity", "fail", Some("2-1 (6)"));
        assert!(find(&fs, "cert.validity")["detail"]
            .as_str()
            .unwrap()
            .contains(word));
        assert_status(&fs, "cert.chain", "fail", Some("2-1 (6)"));
    }
}

#[test]
fn expiring_soon_warns() {
    let t = trust_root();
    let p = pki("client-chain.pem");
    let k = pki("client.key");
    let (code, fs) = check_local(&with_trust(
        &["--cert", &p, "--key", &k, "--at", "2044-12-20"],
        &t,
    ));
    assert_eq!(code, 0, "a warning alone does not fail");
    assert_status(&fs, "cert.validity", "warn", Some("2-1 (6)"));
    assert_eq!(find(&fs, "cert.validity")["data"]["days_left"], 12);
}

#[test]
fn wrong_issuer_fails_issuer() {
    let t = trust_root();
    let p = pki("client-wrong-issuer-chain.pem");
    let k = pki("client.key");
    let (code, fs) = check_local(&with_trust(&["--cert", &p, "--key", &k], &t));
    assert_eq!(code, 1);
    assert_status(&fs, "cert.issuer", "fail", Some("2-1 (6)"));
    assert!(find(&fs, "cert.issuer")["detail"]
        .as_str()
        .unwrap()
        .contains("SECOM Web Server CA1"));
    // The chain itself is sound: the failure is the issuer, not the path.
    assert_status(&fs, "cert.chain", "pass", None);
}

#[test]
fn missing_intermediate_is_named() {
    let t = trust_root();
    let p = pki("client.p12");
    let leafonly = pki("client-leafonly.p12");
    for file in [pki("client.pem"), leafonly] {
        let k = pki("client.key");
        let mut args = vec!["--cert", &file, "--password-env", "CERTPROBE_TEST_PW"];
        if file.ends_with(".pem") {
            args.extend(["--key", &k]);
        }
        let (code, fs) = check_local(&with_trust(&args, &t));
        assert_eq!(code, 1);
        assert_status(&fs, "cert.chain", "fail", Some("2-1 (7)"));
        assert_eq!(
            find(&fs, "cert.chain")["detail"],
            "intermediate `SECOM Passport for Member PUB CA1` (issuer of `S47000001`) not found"
        );
        assert_status(&fs, "trust.intermediate", "fail", Some("2-1 (7)"));
        assert_status(&fs, "cert.sent_chain", "warn", Some("2-1 (7)"));
    }
    // The same leaf with the intermediate from --ca passes, and the intermediate is sent.
    let inter = pki("inter.pem");
    let leaf = pki("client.pem");
    let k = pki("client.key");
    let (code, fs) = check_local(&with_trust(
        &["--cert", &leaf, "--key", &k, "--ca", &inter],
        &t,
    ));
    assert_eq!(code, 0, "{fs:#?}");
    assert_eq!(
        find(&fs, "cert.sent_chain")["data"]["send"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let _ = p;
}

#[test]
fn expired_intermediate_is_named() {
    let t = trust_root();
    let leaf = pki("client.pem");
    let k = pki("client.key");
    let inter = pki("inter-expired.pem");
    let (code, fs) = check_local(&with_trust(
        &["--cert", &leaf, "--key", &k, "--ca", &inter],
        &t,
    ));
    assert_eq!(code, 1);
    assert_status(&fs, "cert.chain", "fail", Some("2-1 (7)"));
    assert_eq!(
        find(&fs, "cert.chain")["detail"],
        "intermediate `SECOM Passport for Member PUB CA1` expired on 2024-01-01"
    );
}

#[test]
fn expired_root_fails_trust_root_and_chain() {
    let p = pki("client-chain.pem");
    let k = pki("client.key");
    let root = pki("root-expired.pem");
    let (code, fs) = check_local(&[
        "--cert",
        &p,
        "--key",
        &k,
        "--no-system-trust",
        "--trust",
        &root,
    ]);
    assert_eq!(code, 1);
    assert_status(&fs, "trust.root", "fail", Some("2-1 (7)"));
    assert_status(&fs, "cert.chain", "fail", Some("2-1 (7)"));
    assert!(find(&fs, "cert.chain")["detail"]
        .as_str()
        .unwrap()
        .starts_with("root `Security Communication RootCA1` expired on 2023-09-30"));
}

#[test]
fn missing_root_is_named() {
    let p = pki("client-chain.pem");
    let k = pki("client.key");
    let other = pki("server-root.pem");
    let (code, fs) = check_local(&[
        "--cert",
        &p,
        "--key",
        &k,
        "--no-system-trust",
        "--trust",
        &other,
    ]);
    assert_eq!(code, 1);
    assert_status(&fs, "trust.root", "fail", Some("2-1 (7)"));
    assert_status(&fs, "cert.chain", "fail", Some("2-1 (7)"));
    assert_eq!(
        find(&fs, "cert.chain")["detail"],
        "root `Security Communication RootCA1` not trusted (not in the trust store)"
    );
}

/// The genuine RootCA1 from Debian, as the platform store (SSL_CERT_FILE), must show as expired.
#[test]
fn the_real_root_ca1_in_the_platform_store_is_reported_expired() {
    let out = certprobe()
        .args([
            "--profile",
            &profile(),
            "--format",
            "json",
            "check",
            "--only",
            "local",
        ])
        .env(
            "SSL_CERT_FILE",
            pki("real/Security_Communication_Root_CA.pem"),
        )
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fs = doc["findings"].as_array().unwrap();
    assert_eq!(find(fs, "trust.store")["data"]["platform_roots"], 1);
    // No client certificate is given, so nothing of the user's depends on the expired root:
    // information, still explained plainly (src/diagnose, expired_root_by_dependence).
    assert_status(fs, "trust.root", "info", Some("2-1 (7)"));
    let detail = find(fs, "trust.root")["detail"].as_str().unwrap();
    assert!(
        detail.contains("expired on 2023-09-30"),
        "plain explanation expected: {detail}"
    );
    let fix = find(fs, "trust.root")["fix"].as_str().unwrap();
    assert!(fix.contains("Security Communication RootCA2"), "{fix}");
}

#[test]
fn usages_key_and_signature() {
    let t = trust_root();
    let inter = pki("inter.pem");
    let k = pki("client.key");
    let run = |file: &str| {
        let p = pki(file);
        check_local(&with_trust(
            &["--cert", &p, "--key", &k, "--ca", &inter],
            &t,
        ))
        .1
    };
    let fs = run("client-noeku.pem");
    assert_status(&fs, "cert.eku", "pass", None);
    assert_status(&fs, "cert.chain", "pass", None);
    let fs = run("client-servereku.pem");
    assert_status(&fs, "cert.eku", "fail", Some("2-1 (6)"));
    let fs = run("client-nodigsig.pem");
    assert_status(&fs, "cert.key_usage", "fail", Some("2-1 (6)"));
    let fs = run("client-sha1.pem");
    assert_status(&fs, "cert.signature", "fail", Some("2-1 (6)"));
    assert!(find(&fs, "cert.chain")["detail"]
        .as_str()
        .unwrap()
        .contains("SHA1"));
    let fs = run("client-badname.pem");
    assert_status(&fs, "cert.subject", "fail", Some("2-1 (6)"));
}

#[test]
fn private_key_forms_and_mismatch() {
    let t = trust_root();
    let chain = pki("client-chain.pem");
    let inter = pki("inter.pem");
    let rsa = pki("client-rsa.pem");
    for (cert, key) in [
        (&chain, pki("client.key")),
        (&chain, pki("client-sec1.key")),
        (&chain, pki("client-enc.key")),
        (&rsa, pki("client-rsa.key")),
        (&rsa, pki("client-rsa-pkcs1.key")),
    ] {
        let (_, fs) = check_local(&with_trust(
            &[
                "--cert",
                cert,
                "--key",
                &key,
                "--ca",
                &inter,
                "--password-env",
                "CERTPROBE_TEST_PW",
            ],
            &t,
        ));
        assert_status(&fs, "cert.key_match", "pass", None);
    }
    let wrong = pki("client-wrong.key");
    let (code, fs) = check_local(&with_trust(&["--cert", &chain, "--key", &wrong], &t));
    assert_eq!(code, 1);
    assert_status(&fs, "cert.key_match", "fail", Some("2-1 (6)"));
    // The RSA key against the EC certificate: a different algorithm is a mismatch, not an error.
    let rsa_key = pki("client-rsa.key");
    let (_, fs) = check_local(&with_trust(&["--cert", &chain, "--key", &rsa_key], &t));
    assert_status(&fs, "cert.key_match", "fail", Some("2-1 (6)"));
    // No key at all.
    let (_, fs) = check_local(&with_trust(&["--cert", &chain], &t));
    assert_status(&fs, "cert.key_match", "fail", Some("2-1 (6)"));
}

#[test]
fn japanese_output() {
    let out = certprobe()
        .args([
            "--profile",
            &profile(),
            "--lang",
            "ja",
            "--format",
            "json",
            "check",
            "--only",
            "local",
        ])
        .args(trust_root())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = find(doc["findings"].as_array().unwrap(), "cert.load");
    assert!(f["detail"].as_str().unwrap().contains("クライアント証明書"));
}

// ---------------------------------------------------------------------------------------------
// verify and inspect
// ---------------------------------------------------------------------------------------------

#[test]
fn verify_exit_codes_and_json_path() {
    let out = certprobe()
        .args([
            "--format",
            "json",
            "verify",
            "--cert",
            &pki("client-chain.pem"),
        ])
        .args(trust_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let chain = find(doc["findings"].as_array().unwrap(), "cert.chain");
    let path: Vec<&str> = chain["data"]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["role"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["leaf", "intermediate", "root"]);

    let out = certprobe()
        .args(["verify", "--cert", &pki("client.pem")])
        .args(trust_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("intermediate `SECOM Passport for Member PUB CA1`"));
}

#[test]
fn inspect_shows_every_certificate_and_key_match() {
    let out = certprobe()
        .args([
            "--format",
            "json",
            "inspect",
            &pki("client-legacy.p12"),
            &pki("root.der"),
        ])
        .args(["--password-env", "CERTPROBE_TEST_PW"])
        .env("CERTPROBE_TEST_PW", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let certs = files[0]["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0]["subject_name"], "S47000001");
    assert_eq!(certs[0]["key_matches"], true);
    assert_eq!(certs[1]["key_matches"], false);
    assert_eq!(certs[0]["eku"], serde_json::json!(["clientAuth"]));
    assert_eq!(certs[0]["key_type"], "ECDSA P-256");
    assert_eq!(files[1]["format"], "DER");
    assert_eq!(
        files[1]["certificates"][0]["subject_name"],
        "Security Communication RootCA1"
    );
    let real = certprobe()
        .args([
            "--format",
            "json",
            "inspect",
            &pki("real/Security_Communication_Root_CA.pem"),
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&real.stdout).unwrap();
    let c = &doc["files"][0]["certificates"][0];
    assert_eq!(c["key_type"], "RSA");
    assert_eq!(c["key_bits"], 2048);
    assert_eq!(c["signature_algorithm"], "sha1WithRSAEncryption");
    assert_eq!(c["not_after"], "2023-09-30T04:20:49Z");
    assert!(c["days_left"].as_i64().unwrap() < 0);
    // Table output names the fields.
    let table = certprobe()
        .args([
            "inspect",
            &pki("client-rsa.pem"),
            "--key",
            &pki("client-rsa-pkcs1.key"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    for word in ["S47000009", "RSA 2048 bits", "SHA-256", "clientAuth", "yes"] {
        assert!(text.contains(word), "{word} missing: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: one clear line, exit 2, never a panic
// ---------------------------------------------------------------------------------------------

fn assert_input_error(args: &[&str], env: &[(&str, &str)], expect: &str) {
    let mut cmd = certprobe();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("certprobe: "), "{stderr}");
    assert!(
        stderr.contains(expect),
        "{args:?}: expected `{expect}` in {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "password leaked: {stderr}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.bin");
    let mut bytes = vec![0u8; 10 * 1024 * 1024];
    let mut x: u32 = 0x1234_5678;
    for b in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(&random, &bytes).unwrap();
    let small_random = dir.path().join("small.bin");
    std::fs::write(&small_random, &bytes[..200_000]).unwrap();
    let wrong_pw = dir.path().join("wrong.txt");
    std::fs::write(&wrong_pw, "not-the-password\n").unwrap();
    let random_s = random.to_string_lossy().into_owned();
    let small_s = small_random.to_string_lossy().into_owned();
    let wrong_s = wrong_pw.to_string_lossy().into_owned();
    let dir_s = dir.path().to_string_lossy().into_owned();
    let pw_file = pki("password.txt");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--cert".into(), pki("empty.pem")], "is empty"),
        (vec!["--cert".into(), dir_s.clone()], "is a folder"),
        (
            vec!["--cert".into(), pki("garbage.bin")],
            "not a certificate file",
        ),
        (
            vec!["--cert".into(), small_s.clone()],
            "not a certificate file",
        ),
        (vec!["--cert".into(), random_s.clone()], "4 MiB"),
        (vec!["--cert".into(), pki("nocert.pem")], "no certificate"),
        (
            vec!["--cert".into(), pki("client-truncated.pem")],
            "damaged or cut short",
        ),
        (
            vec!["--cert".into(), pki("client-truncated.p12")],
            "damaged",
        ),
        (
            vec!["--cert".into(), pki("does-not-exist.pem")],
            "no such file",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.p12"),
                "--password-file".into(),
                wrong_s.clone(),
            ],
            "wrong password",
        ),
        (
            vec![
                "--cert".into(),
                pki("client-legacy.p12"),
                "--password-file".into(),
                wrong_s.clone(),
            ],
            "wrong password",
        ),
        (
            vec!["--cert".into(), pki("client.p12")],
            "protected by a password",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.p12"),
                "--password-env".into(),
                "CERTPROBE_UNSET_VAR".into(),
            ],
            "is not set",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.pem"),
                "--key".into(),
                pki("client-enc.key"),
                "--password-file".into(),
                wrong_s.clone(),
            ],
            "wrong password",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.pem"),
                "--key".into(),
                pki("client.pem"),
            ],
            "no private key",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.pem"),
                "--ca".into(),
                pki("garbage.bin"),
            ],
            "not a certificate file",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.pem"),
                "--trust".into(),
                pki("nocert.pem"),
            ],
            "no certificate",
        ),
        (
            vec![
                "--cert".into(),
                pki("client.p12"),
                "--password-file".into(),
                dir_s.clone(),
            ],
            "is a folder",
        ),
    ];
    let _ = pw_file;
    for (args, expect) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        // The same input through `verify` and through `check --only local`.
        let mut v = vec!["verify", "--no-system-trust"];
        v.extend(&a);
        assert_input_error(&v, &[], expect);
        let p = profile();
        let mut c = vec![
            "--profile",
            &p,
            "check",
            "--only",
            "local",
            "--no-system-trust",
        ];
        c.extend(&a);
        assert_input_error(&c, &[], expect);
    }
    // inspect, too.
    assert_input_error(&["inspect", &random_s], &[], "4 MiB");
    assert_input_error(
        &["inspect", &pki("garbage.bin")],
        &[],
        "not a certificate file",
    );
    assert_input_error(
        &["inspect", &pki("client.p12"), "--password-env", "PW"],
        &[("PW", "wrong")],
        "wrong password",
    );
}

// ---------------------------------------------------------------------------------------------
// openssl as an oracle: `certprobe verify` must agree with `openssl verify` on every chain
// ---------------------------------------------------------------------------------------------

struct Case {
    leaf: &'static str,
    untrusted: &'static [&'static str],
    trusted: &'static [&'static str],
    /// `--at` / `-attime` (RFC 3339).
    at: Option<&'static str>,
    /// A documented difference: certprobe is stricter than openssl here, for the reason given.
    known: Option<&'static str>,
    server: bool,
    /// What we expect both to say (a guard against both being wrong the same way).
    valid: bool,
}

const fn case(
    leaf: &'static str,
    untrusted: &'static [&'static str],
    trusted: &'static [&'static str],
    valid: bool,
) -> Case {
    Case {
        leaf,
        untrusted,
        trusted,
        at: None,
        server: false,
        valid,
        known: None,
    }
}

const ROOT: &[&str] = &["root.pem"];
const INTER: &[&str] = &["inter.pem"];

const CASES: &[Case] = &[
    case("client.pem", INTER, ROOT, true),
    case("client.pem", &[], ROOT, false),
    case("client.pem", &["inter-expired.pem"], ROOT, false),
    case("client.pem", &["inter-expired.pem", "inter.pem"], ROOT, true),
    case("client.pem", INTER, &["root-expired.pem"], false),
    case("client.pem", INTER, &["root-expired.pem", "root.pem"], true),
    case("client.pem", INTER, &["real/Security_Communication_Root_CA.pem"], false),
    case("client.pem", INTER, &["server-root.pem"], false),
    case("client.pem", &[], &["inter.pem"], true),
    case("client-expired.pem", INTER, ROOT, false),
    case("client-notyet.pem", INTER, ROOT, false),
    case("client-noeku.pem", INTER, ROOT, true),
    case("client-servereku.pem", INTER, ROOT, false),
    case("client-nodigsig.pem", INTER, ROOT, false),
    case("client-wrong-issuer.pem", &["other-inter.pem"], ROOT, true),
    case("client-wrong-issuer.pem", INTER, ROOT, false),
    case("client-badname.pem", INTER, ROOT, true),
    case("client-rsa.pem", INTER, ROOT, true),
    case("client-sha1.pem", INTER, ROOT, false),
    // RSA-2048 throughout, as the real service's chain.
    case("client-allrsa.pem", &["rsa-inter.pem"], &["rsa-root.pem"], true),
    case("client-allrsa.pem", &[], &["rsa-root.pem"], false),
    case("client-allrsa.pem", INTER, ROOT, false),
    Case {
        known: Some("a CA certificate used as the client certificate: webpki refuses it (CaUsedAsEndEntity), openssl accepts it"),
        ..case("inter.pem", &[], ROOT, false)
    },
    case("server-unknown.pem", &[], &["unknown-ca.pem"], false),
    Case {
        at: Some("2044-12-31T00:00:00Z"),
        ..case("client.pem", INTER, ROOT, true)
    },
    Case {
        at: Some("2045-01-02T00:00:00Z"),
        ..case("client.pem", INTER, ROOT, false)
    },
    Case {
        at: Some("2024-12-31T00:00:00Z"),
        ..case("client.pem", INTER, ROOT, false)
    },
    Case {
        at: Some("2020-06-01T00:00:00Z"),
        ..case("client-expired.pem", INTER, ROOT, false)
    },
    Case {
        at: Some("2023-06-01T00:00:00Z"),
        ..case("client.pem", INTER, &["root-expired.pem"], false)
    },
    Case {
        server: true,
        ..case("server.pem", &[], &["server-root.pem"], true)
    },
    Case {
        server: true,
        ..case("server-unknown.pem", &[], &["server-root.pem"], false)
    },
    Case {
        server: true,
        ..case("server-unknown.pem", &[], &["unknown-ca.pem"], true)
    },
    Case {
        server: true,
        ..case("client.pem", INTER, ROOT, false)
    },
];

fn openssl_present() -> bool {
    StdCommand::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn concat(dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut all = String::new();
    for f in files {
        all.push_str(&std::fs::read_to_string(pki(f)).unwrap());
    }
    std::fs::write(&path, all).unwrap();
    path
}

/// `openssl verify` at the same security level a TLS server runs at (`-auth_level 1`: no SHA-1,
/// no keys under 80 bits of strength), with only the given anchors.
fn openssl_verdict(c: &Case, dir: &Path) -> (bool, String) {
    let trusted = concat(dir, "trusted.pem", c.trusted);
    let mut cmd = StdCommand::new("openssl");
    // -partial_chain: every --trust certificate is an anchor, self-signed or not, as in certprobe.
    cmd.args([
        "verify",
        "-no-CApath",
        "-no-CAstore",
        "-auth_level",
        "1",
        "-partial_chain",
    ])
    .args(["-purpose", if c.server { "sslserver" } else { "sslclient" }])
    .arg("-CAfile")
    .arg(&trusted)
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR");
    if !c.untrusted.is_empty() {
        cmd.arg("-untrusted")
            .arg(concat(dir, "untrusted.pem", c.untrusted));
    }
    if let Some(at) = c.at {
        let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .unwrap();
        cmd.args(["-attime", &t.unix_timestamp().to_string()]);
    }
    cmd.arg(pki(c.leaf));
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn certprobe_verdict(c: &Case) -> (bool, String) {
    let mut cmd = certprobe();
    cmd.args([
        "--format",
        "json",
        "verify",
        "--no-system-trust",
        "--cert",
        &pki(c.leaf),
    ]);
    for u in c.untrusted {
        cmd.args(["--ca", &pki(u)]);
    }
    for t in c.trusted {
        cmd.args(["--trust", &pki(t)]);
    }
    if let Some(at) = c.at {
        cmd.args(["--at", at]);
    }
    if c.server {
        cmd.args(["--purpose", "server"]);
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        code == 0 || code == 1,
        "verify exited {code}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let detail = find(doc["findings"].as_array().unwrap(), "cert.chain")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    (code == 0, detail)
}

#[test]
fn verify_agrees_with_openssl_on_every_fixture_chain() {
    assert!(
        openssl_present(),
        "this test needs the `openssl` command (Debian package `openssl`)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for c in CASES {
        let (ours, why) = certprobe_verdict(c);
        let (theirs, ossl) = openssl_verdict(c, dir.path());
        let label = format!(
            "{} untrusted={:?} trusted={:?} at={:?} server={}",
            c.leaf, c.untrusted, c.trusted, c.at, c.server
        );
        if let Some(reason) = c.known {
            if ours == theirs || ours != c.valid {
                disagreements.push(format!(
                    "KNOWN DIFFERENCE GONE {label} ({reason})\n  certprobe: {ours} ({why})\n  openssl: {theirs}"
                ));
            }
        } else if ours != theirs {
            disagreements.push(format!(
                "DISAGREE {label}\n  certprobe: {ours} ({why})\n  openssl:   {theirs} ({})",
                ossl.trim()
            ));
        } else if ours != c.valid {
            disagreements.push(format!(
                "BOTH {ours}, expected {} — {label}\n  certprobe: {why}\n  openssl: {}",
                c.valid,
                ossl.trim()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "certprobe verify and openssl verify disagree:\n{}",
        disagreements.join("\n")
    );
}

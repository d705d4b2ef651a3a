//! The strict-chain rules in `check`: the local chain check applies the same second pass as
//! `verify` (src/cert/strict.rs), so a rule a chain breaks shows in `check --only local` as it
//! does in `verify`: a failure in `cert.chain`, a strict-mode lint as the `cert.strict` warning
//! (a failure for the exit code with `--strict`), each naming the certificate and its place.

use crate::support::certprobe;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose as Ku,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Made {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn make(params: CertificateParams, issuer: Option<&Made>) -> Made {
    let key = KeyPair::generate().unwrap();
    let cert = match issuer {
        Some(i) => params
            .signed_by(&key, &Issuer::from_params(&i.params, &i.key))
            .unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    Made {
        pem: cert.pem(),
        params,
        key,
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

const ROOT: &str = "Strict Check Root";
const INTER: &str = "Strict Check Intermediate";
const LEAF: &str = "S47990002";

/// root → intermediate → leaf (written to `dir`), each with a tweak applied; returns the
/// files (leaf, key, intermediates, root).
fn chain(
    dir: &Path,
    root: impl FnOnce(&mut CertificateParams),
    inter: impl FnOnce(&mut CertificateParams),
    leaf: impl FnOnce(&mut CertificateParams),
) -> [PathBuf; 4] {
    let mut r = ca_params(ROOT);
    root(&mut r);
    let root = make(r, None);
    let mut i = ca_params(INTER);
    inter(&mut i);
    let inter = make(i, Some(&root));
    let mut l = CertificateParams::new(Vec::<String>::new()).unwrap();
    l.distinguished_name.push(DnType::CommonName, LEAF);
    l.is_ca = IsCa::ExplicitNoCa;
    l.key_usages = vec![Ku::DigitalSignature];
    l.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    l.use_authority_key_identifier_extension = true;
    leaf(&mut l);
    let leaf = make(l, Some(&inter));
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    [
        write("leaf.pem", &leaf.pem),
        write("leaf.key", &leaf.key.serialize_pem()),
        write("inter.pem", &inter.pem),
        write("root.pem", &root.pem),
    ]
}

/// A profile that asks nothing of the chain beyond the leaf's name: the chain's own findings
/// decide the exit code.
const PROFILE: &str = r#"name = "strict-check"
title = "strict chains in check"

[client_cert]
subject_pattern = "S47*"

[certificate_hosts]
allow = ["localhost"]

[[endpoint]]
id = "login"
title = { en = "Log-in", ja = "ログイン" }
url = "https://localhost:9/"
client_cert = true
section = "2-1"
"#;

/// `certprobe [--strict] --format json check --only local …` → (exit code, document).
fn check_local(files: &[PathBuf; 4], strict: bool) -> (i32, Value) {
    let profile = files[0].with_file_name("profile.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let mut cmd = certprobe();
    cmd.arg("--profile").arg(&profile);
    cmd.args(["--format", "json"]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd
        .args(["check", "--only", "local", "--no-system-trust", "--cert"])
        .arg(&files[0])
        .arg("--key")
        .arg(&files[1])
        .arg("--ca")
        .arg(&files[2])
        .arg("--trust")
        .arg(&files[3])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "check exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

/// `certprobe --format json verify …` on the same files → its document.
fn verify(files: &[PathBuf; 4]) -> Value {
    let out = certprobe()
        .args(["--format", "json", "verify", "--no-system-trust", "--cert"])
        .arg(&files[0])
        .arg("--ca")
        .arg(&files[2])
        .arg("--trust")
        .arg(&files[3])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn finding<'a>(doc: &'a Value, id: &str) -> Option<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

/// The named rule among the `cert.strict` finding's warnings, with the certificate it names.
fn lint<'a>(strict: &'a Value, rule: &str) -> &'a Value {
    strict["data"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["rule"] == rule)
        .unwrap_or_else(|| panic!("no warning {rule}: {strict}"))
}

fn none(_: &mut CertificateParams) {}

#[test]
fn a_strict_lint_is_a_warning_in_check_with_the_certificate_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = chain(
        dir.path(),
        none,
        |p| p.use_authority_key_identifier_extension = false,
        |p| p.key_usages = vec![Ku::DigitalSignature, Ku::KeyCertSign],
    );
    let (code, doc) = check_local(&files, false);
    let chain = finding(&doc, "cert.chain").unwrap();
    assert_eq!(chain["status"], "pass", "{chain}");
    let strict = finding(&doc, "cert.strict").expect("a cert.strict finding in check");
    assert_eq!(strict["status"], "warn", "{strict}");
    let failed: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(code, 0, "a warning alone does not fail the run");

    let aki = lint(strict, "chain.lint.aki_missing");
    assert_eq!(aki["name"], INTER);
    assert_eq!(aki["role"], "intermediate");
    assert_eq!(aki["pos"], 2);
    let ku = lint(strict, "chain.lint.leaf_key_cert_sign");
    assert_eq!(ku["name"], LEAF);
    assert_eq!(ku["pos"], 1);
    let detail = strict["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("`{INTER}`")), "{detail}");
    assert!(detail.contains(&format!("`{LEAF}`")), "{detail}");

    // The path the lints are about: leaf, intermediate, root.
    let path: Vec<&str> = strict["data"]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, [LEAF, INTER, ROOT]);

    // The same findings as `verify` reports for the same chain.
    let v = verify(&files);
    let v_strict = finding(&v, "cert.strict").expect("verify's cert.strict");
    assert_eq!(v_strict["data"]["warnings"], strict["data"]["warnings"]);
    assert_eq!(v_strict["detail"], strict["detail"]);

    // With --strict the warning fails the run.
    let (code, _) = check_local(&files, true);
    assert_eq!(code, 1, "--strict turns the lint into a failure");
}

#[test]
fn anchor_lints_are_checked_in_check() {
    let dir = tempfile::tempdir().unwrap();
    // A v3 root without basic constraints, and an intermediate without AKI.
    let files = chain(
        dir.path(),
        |p| p.is_ca = IsCa::NoCa,
        |p| p.use_authority_key_identifier_extension = false,
        none,
    );
    let (_, doc) = check_local(&files, false);
    let chain = finding(&doc, "cert.chain").unwrap();
    // webpki reads no basic constraints in an anchor: the path is valid, the lint warns.
    assert_eq!(chain["status"], "pass", "{chain}");
    let strict = finding(&doc, "cert.strict").expect("cert.strict");
    let w = lint(strict, "chain.lint.anchor_no_bc");
    assert_eq!(w["name"], ROOT);
    assert_eq!(w["role"], "root");
    assert_eq!(w["pos"], 3);
    let v = verify(&files);
    assert_eq!(
        finding(&v, "cert.strict").unwrap()["data"]["warnings"],
        strict["data"]["warnings"],
        "check and verify agree"
    );
}

#[test]
fn a_ca_without_key_cert_sign_fails_check_as_it_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let files = chain(
        dir.path(),
        none,
        |p| p.key_usages = vec![Ku::DigitalSignature],
        none,
    );
    let (code, doc) = check_local(&files, false);
    assert_eq!(code, 1);
    let chain = finding(&doc, "cert.chain").unwrap();
    assert_eq!(chain["status"], "fail", "{chain}");
    let detail = chain["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("`{INTER}`")) && detail.contains("of the path"),
        "{detail}"
    );
    let problem = &chain["data"]["problems"][0];
    assert_eq!(problem["rule"], "chain.ca_no_key_cert_sign", "{chain}");
    assert_eq!(problem["name"], INTER);
    assert_eq!(problem["pos"], 2);
    assert!(
        !chain["data"]["path"].as_array().unwrap().is_empty(),
        "path filled: {chain}"
    );
    let v = verify(&files);
    assert_eq!(
        finding(&v, "cert.chain").unwrap()["detail"],
        chain["detail"]
    );
}

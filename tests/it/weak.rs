//! A weak but intact client certificate (an RSA key under 2048 bits, a SHA-1 signature on the
//! leaf or on an intermediate) is reported as weak — ask for a new certificate — with exit 1,
//! never as damaged and never as an input error (exit 2), in English and in Japanese.
//!
//! The certificates are made here with `openssl` (Debian package `openssl`; rcgen cannot make
//! RSA keys): a fresh RSA root, intermediates named like the service's, leaves `S47…`.

use crate::support::{certprobe, need};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "weak-test";

/// Words that would call an intact key or certificate damaged.
const DAMAGED: [&str; 6] = ["damaged", "corrupt", "broken", "破損", "壊れ", "不正な形式"];

/// A PKI made with openssl in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        pki.write(
            "ca.cnf",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        );
        pki.write(
            "leaf.cnf",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        );
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "3650",
            "-sha256",
            "-subj",
            "/C=JP/O=certprobe weak test/CN=Weak Test Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new(need("openssl", "openssl"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A key `name.key` (`rsa:1024`, `rsa:2048`) and a certificate `name.pem` for `subject`,
    /// signed by `issuer` (`issuer.pem`/`issuer.key`) with `digest`.
    fn issue(&self, name: &str, key: &str, subject: &str, issuer: &str, digest: &str, ca: bool) {
        let (k, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        self.openssl(&[
            "req", "-new", "-newkey", key, "-nodes", "-keyout", &k, "-subj", subject, "-out", &csr,
        ]);
        let (ca_pem, ca_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
        let ext = if ca { "ca.cnf" } else { "leaf.cnf" };
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "3650",
            &format!("-{digest}"),
            "-extfile",
            ext,
            "-out",
            &pem,
        ]);
    }

    /// The service's intermediate name under the root, with `key` and `digest`.
    fn intermediate(&self, name: &str, key: &str, digest: &str) {
        self.issue(
            name,
            key,
            "/C=JP/O=certprobe weak test/CN=SECOM Passport for Member PUB CA1",
            "root",
            digest,
            true,
        );
    }
}

fn profile() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/support/local_profile.toml")
        .to_string_lossy()
        .into_owned()
}

/// `certprobe --lang LANG --format json check --only local ARGS…`: (exit code, whole output,
/// findings).
fn check(lang: &str, pki: &Pki, args: &[&str]) -> (i32, String, Vec<Value>) {
    let (code, all, doc) = check_doc(lang, pki, args);
    (code, all, doc["findings"].as_array().unwrap().clone())
}

/// The same, with the whole JSON document.
fn check_doc(lang: &str, pki: &Pki, args: &[&str]) -> (i32, String, Value) {
    let out = certprobe()
        .args(["--profile", &profile(), "--lang", lang, "--format", "json"])
        .args(["check", "--only", "local", "--no-system-trust"])
        .args(["--trust", &pki.arg("root.pem")])
        .args(args)
        .env("WEAK_TEST_PW", PASSWORD)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("exit {code}, {e}: {stderr}\n{stdout}"));
    (code, format!("{stdout}\n{stderr}"), doc)
}

fn find<'a>(findings: &'a [Value], id: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {findings:#?}"))
}

fn assert_not_damaged(all: &str) {
    let lower = all.to_lowercase();
    for w in DAMAGED {
        assert!(!lower.contains(w), "`{w}` in the output:\n{all}");
    }
}

/// Exit 1 (a finding, not an input error); `id` fails with `en_words` / `ja_words` in its
/// text and fix; no output speaks of damage.
fn assert_weak(pki: &Pki, args: &[&str], id: &str, en_words: &[&str], ja_words: &[&str]) {
    for (lang, words) in [("en", en_words), ("ja", ja_words)] {
        let (code, all, doc) = check_doc(lang, pki, args);
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(code, 1, "{lang}: exit code\n{all}");
        let f = find(findings, id);
        assert_eq!(f["status"], "fail", "{lang}: {f}");
        // The weakness is the verdict; the failed path is its consequence.
        assert_eq!(doc["verdict"]["cause"], id, "{lang}: {all}");
        assert_eq!(find(findings, "cert.chain")["consequence_of"], id, "{lang}");
        assert_eq!(f["section"], "2-1 (6)", "{lang}: {f}");
        let text = format!("{} {}", f["detail"], f["fix"]);
        for w in words {
            assert!(text.contains(w), "{lang}: `{w}` not in {text}");
        }
        assert_not_damaged(&all);
        if lang == "en" {
            assert!(
                !text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "{text}"
            );
        }
    }
}

#[test]
fn an_rsa_1024_client_certificate_is_weak_not_an_input_error() {
    let pki = Pki::new();
    pki.intermediate("inter", "rsa:2048", "sha256");
    pki.issue(
        "leaf",
        "rsa:1024",
        "/CN=S47000201",
        "inter",
        "sha256",
        false,
    );
    let (cert, key, ca) = (
        pki.arg("leaf.pem"),
        pki.arg("leaf.key"),
        pki.arg("inter.pem"),
    );
    let args = ["--cert", &cert, "--key", &key, "--ca", &ca];
    assert_weak(
        &pki,
        &args,
        "cert.key",
        &["RSA 1024 bits", "too short", "Ask for a new certificate"],
        &["RSA 1024 ビット", "短すぎ", "証明書を新たに依頼"],
    );
    // The key is intact and belongs to the certificate: said so, compared by public key.
    let (_, _, findings) = check("en", &pki, &args);
    let m = find(&findings, "cert.key_match");
    assert_eq!(m["status"], "pass", "{m}");
    assert!(m["detail"].as_str().unwrap().contains("1024 bits"), "{m}");
    // Everything else about the certificate is fine: the weak key is the verdict.
    assert_eq!(find(&findings, "cert.validity")["status"], "pass");
    assert_eq!(find(&findings, "cert.signature")["status"], "pass");

    // The same identity as PKCS#12 and as a DER key file: still weak, still exit 1.
    pki.openssl(&[
        "pkcs12",
        "-export",
        "-in",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-certfile",
        "inter.pem",
        "-out",
        "leaf.p12",
        "-passout",
        &format!("pass:{PASSWORD}"),
    ]);
    let p12 = pki.arg("leaf.p12");
    let (code, all, findings) = check(
        "en",
        &pki,
        &["--cert", &p12, "--password-env", "WEAK_TEST_PW"],
    );
    assert_eq!(code, 1, "{all}");
    assert_eq!(find(&findings, "cert.key")["status"], "fail");
    assert_eq!(find(&findings, "cert.key_match")["status"], "pass");
    assert!(!all.contains(PASSWORD));
    assert_not_damaged(&all);

    pki.openssl(&[
        "pkey",
        "-in",
        "leaf.key",
        "-outform",
        "DER",
        "-out",
        "leaf.key.der",
    ]);
    let der = pki.arg("leaf.key.der");
    let (code, all, findings) = check("en", &pki, &["--cert", &cert, "--key", &der, "--ca", &ca]);
    assert_eq!(code, 1, "{all}");
    assert_eq!(find(&findings, "cert.key_match")["status"], "pass");

    // inspect reads it and says the key matches.
    let out = certprobe()
        .args(["--format", "json", "inspect", &cert, "--key", &key])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &doc["files"][0]["certificates"][0];
    assert_eq!(c["key_bits"], 1024, "{c}");
    assert_eq!(c["key_matches"], true, "{c}");
}

#[test]
fn a_weak_key_of_another_certificate_is_the_wrong_key() {
    let pki = Pki::new();
    pki.intermediate("inter", "rsa:2048", "sha256");
    pki.issue(
        "leaf",
        "rsa:1024",
        "/CN=S47000202",
        "inter",
        "sha256",
        false,
    );
    pki.openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        "other.key",
    ]);
    let (cert, key, ca) = (
        pki.arg("leaf.pem"),
        pki.arg("other.key"),
        pki.arg("inter.pem"),
    );
    let (code, all, findings) = check("en", &pki, &["--cert", &cert, "--key", &key, "--ca", &ca]);
    assert_eq!(code, 1, "{all}");
    let m = find(&findings, "cert.key_match");
    assert_eq!(m["status"], "fail", "{m}");
    assert!(
        m["detail"].as_str().unwrap().contains("does not belong"),
        "{m}"
    );
    assert_not_damaged(&all);
}

#[test]
fn a_sha1_signed_client_certificate_is_weak() {
    let pki = Pki::new();
    pki.intermediate("inter", "rsa:2048", "sha256");
    pki.issue("leaf", "rsa:2048", "/CN=S47000203", "inter", "sha1", false);
    let (cert, key, ca) = (
        pki.arg("leaf.pem"),
        pki.arg("leaf.key"),
        pki.arg("inter.pem"),
    );
    let args = ["--cert", &cert, "--key", &key, "--ca", &ca];
    assert_weak(
        &pki,
        &args,
        "cert.signature",
        &["sha1WithRSAEncryption", "weak algorithm", "Ask the issuer"],
        &["sha1WithRSAEncryption", "弱い署名方式", "発行者に依頼"],
    );
    let (_, _, findings) = check("en", &pki, &args);
    assert_eq!(find(&findings, "cert.key")["status"], "pass");
    assert_eq!(find(&findings, "cert.key_match")["status"], "pass");
}

/// A weak intermediate is named in the chain finding, with the advice to ask the issuer.
#[test]
fn a_weak_intermediate_is_named_in_the_chain() {
    for (inter_key, inter_digest, en, ja) in [
        (
            "rsa:2048",
            "sha1",
            "sha1WithRSAEncryption",
            "sha1WithRSAEncryption",
        ),
        ("rsa:1024", "sha256", "RSA-1024", "RSA-1024"),
    ] {
        let pki = Pki::new();
        pki.intermediate("inter", inter_key, inter_digest);
        pki.issue(
            "leaf",
            "rsa:2048",
            "/CN=S47000204",
            "inter",
            "sha256",
            false,
        );
        let (cert, key, ca) = (
            pki.arg("leaf.pem"),
            pki.arg("leaf.key"),
            pki.arg("inter.pem"),
        );
        let args = ["--cert", &cert, "--key", &key, "--ca", &ca];
        for (lang, word, ask) in [("en", en, "issuer"), ("ja", ja, "依頼")] {
            let (code, all, findings) = check(lang, &pki, &args);
            assert_eq!(code, 1, "{inter_key} {inter_digest} {lang}: {all}");
            let c = find(&findings, "cert.chain");
            assert_eq!(c["status"], "fail", "{c}");
            let detail = c["detail"].as_str().unwrap();
            assert!(detail.contains("SECOM Passport for Member PUB CA1"), "{c}");
            assert!(detail.contains(word), "{lang}: {c}");
            assert!(c["fix"].as_str().unwrap().contains(ask), "{lang}: {c}");
            // The leaf itself is sound.
            assert_eq!(find(&findings, "cert.key")["status"], "pass");
            assert_eq!(find(&findings, "cert.signature")["status"], "pass");
            assert_not_damaged(&all);
        }
    }
}

/// Against a real OpenSSL server that requires a client certificate: the server refuses, and
/// the verdict is the weak key, with the refusals as its consequences.
#[test]
fn a_real_server_refuses_the_weak_certificate_and_the_verdict_is_the_key() {
    use crate::support::openssl::SServer;
    let pki = Pki::new();
    pki.intermediate("inter", "rsa:2048", "sha256");
    pki.issue(
        "leaf",
        "rsa:1024",
        "/CN=S47000205",
        "inter",
        "sha256",
        false,
    );
    let cas = format!(
        "{}{}",
        std::fs::read_to_string(pki.path("inter.pem")).unwrap(),
        std::fs::read_to_string(pki.path("root.pem")).unwrap()
    );
    pki.write("cas.pem", &cas);
    let server_pem = crate::support::pki("server.pem");
    let server_key = crate::support::pki("server.key");
    let server = SServer::start(&[
        "-cert",
        &server_pem.to_string_lossy(),
        "-key",
        &server_key.to_string_lossy(),
        "-Verify",
        "2",
        "-verify_return_error",
        "-CAfile",
        &pki.arg("cas.pem"),
        "-www",
    ]);
    let profile = std::fs::read_to_string(profile())
        .unwrap()
        .replace("localhost:9", &format!("localhost:{}", server.port));
    pki.write("profile.toml", &profile);
    let (cert, key, ca) = (
        pki.arg("leaf.pem"),
        pki.arg("leaf.key"),
        pki.arg("inter.pem"),
    );
    let server_root = crate::support::pki("server-root.pem");
    let out = certprobe()
        .args(["--profile", &pki.arg("profile.toml"), "--format", "json"])
        .args(["check", "--no-system-trust", "--timeout", "10"])
        .args(["--cert", &cert, "--key", &key, "--ca", &ca])
        .args(["--trust", &pki.arg("root.pem")])
        .args(["--trust", &server_root.to_string_lossy()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["verdict"]["cause"], "cert.key", "{}", doc["verdict"]);
    let refused: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().ends_with(".tls") && f["status"] == "fail")
        .collect();
    assert!(!refused.is_empty(), "the server refused: {stdout}");
    for f in refused {
        assert_eq!(f["consequence_of"], "cert.key", "{f}");
    }
    assert_not_damaged(&stdout);
}

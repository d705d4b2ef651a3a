//! Chain validation as strict as OpenSSL's: rcgen-made chains, one per rule, each run through
//! `certprobe verify` (and `certprobe --strict verify`) and `openssl verify` (and
//! `openssl verify -x509_strict`); the verdicts must agree, and every failure must name the
//! certificate at fault.

use crate::support::certprobe;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose as Ku, NameConstraints, SanType,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

/// One certificate to make: its parameters and the key that signs the next one down.
struct Made {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

fn leaf_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    p
}

fn make(params: CertificateParams, issuer: Option<&Made>) -> Made {
    make_with_key(params, KeyPair::generate().unwrap(), issuer)
}

fn make_with_key(params: CertificateParams, key: KeyPair, issuer: Option<&Made>) -> Made {
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

/// A chain: the anchor, the intermediates (nearest the anchor first), the leaf.
struct Chain {
    root: Made,
    inters: Vec<Made>,
    leaf: Made,
}

/// root → intermediate → leaf, each with a tweak applied to its parameters.
fn chain(
    root: impl FnOnce(&mut CertificateParams),
    inter: impl FnOnce(&mut CertificateParams),
    leaf: impl FnOnce(&mut CertificateParams),
) -> Chain {
    let mut r = ca_params("Strict Test Root");
    root(&mut r);
    let root = make(r, None);
    let mut i = ca_params("Strict Test Intermediate");
    inter(&mut i);
    let inter = make(i, Some(&root));
    let mut l = leaf_params("S47990001");
    leaf(&mut l);
    let leaf = make(l, Some(&inter));
    Chain {
        root,
        inters: vec![inter],
        leaf,
    }
}

struct Files {
    root: PathBuf,
    inters: PathBuf,
    leaf: PathBuf,
}

fn write(dir: &Path, c: &Chain) -> Files {
    let f = |n: &str, s: &str| {
        let p = dir.join(n);
        std::fs::write(&p, s).unwrap();
        p
    };
    let inters: String = c.inters.iter().map(|m| m.pem.as_str()).collect();
    Files {
        root: f("root.pem", &c.root.pem),
        inters: f("inters.pem", &inters),
        leaf: f("leaf.pem", &c.leaf.pem),
    }
}

fn openssl(files: &Files, strict: bool) -> (bool, String) {
    let mut cmd = StdCommand::new("openssl");
    cmd.args([
        "verify",
        "-no-CApath",
        "-no-CAstore",
        "-partial_chain",
        "-auth_level",
        "1",
        "-purpose",
        "sslclient",
    ])
    .arg("-CAfile")
    .arg(&files.root)
    .arg("-untrusted")
    .arg(&files.inters)
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR");
    if strict {
        cmd.arg("-x509_strict");
    }
    let out = cmd
        .arg(&files.leaf)
        .output()
        .expect("this test needs the `openssl` command (Debian package `openssl`)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// certprobe's verdict and its JSON document.
fn ours(files: &Files, strict: bool) -> (bool, Value) {
    let mut cmd = certprobe();
    cmd.args(["--format", "json"]);
    if strict {
        cmd.arg("--strict");
    }
    cmd.args(["verify", "--no-system-trust", "--cert"])
        .arg(&files.leaf)
        .arg("--ca")
        .arg(&files.inters)
        .arg("--trust")
        .arg(&files.root);
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "verify exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code == 0, serde_json::from_slice(&out.stdout).unwrap())
}

fn finding<'a>(doc: &'a Value, id: &str) -> Option<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

/// Run one case: both modes agree with openssl's, match the expectation, and a failure or
/// warning names `at_fault` (a certificate's CN) with its place in the path.
fn check(label: &str, c: &Chain, default_ok: bool, strict_ok: bool, at_fault: &str) {
    let dir = tempfile::tempdir().unwrap();
    let files = write(dir.path(), c);
    let (ossl, ossl_text) = openssl(&files, false);
    let (ossl_strict, ossl_strict_text) = openssl(&files, true);
    let (cp, doc) = ours(&files, false);
    let (cp_strict, _) = ours(&files, true);
    let chain = finding(&doc, "cert.chain").unwrap();
    let detail = chain["detail"].as_str().unwrap();
    assert_eq!(
        (cp, cp_strict),
        (ossl, ossl_strict),
        "{label}: certprobe (default, --strict) disagrees with openssl (default, -x509_strict)\n\
         certprobe: {detail}\nopenssl: {ossl_text}\nopenssl -x509_strict: {ossl_strict_text}"
    );
    assert_eq!(
        (cp, cp_strict),
        (default_ok, strict_ok),
        "{label}: both say {cp}/{cp_strict}, expected {default_ok}/{strict_ok}: {detail}"
    );
    if !cp {
        assert_eq!(chain["status"], "fail", "{label}");
        assert!(
            detail.contains(&format!("`{at_fault}`")) && detail.contains("of the path"),
            "{label}: the failure does not name `{at_fault}` and its place: {detail}"
        );
        assert!(
            !chain["data"]["path"].as_array().unwrap().is_empty(),
            "{label}: JSON path is empty"
        );
    } else if !cp_strict {
        let lint = finding(&doc, "cert.strict").expect("a cert.strict warning");
        assert_eq!(lint["status"], "warn", "{label}");
        let d = lint["detail"].as_str().unwrap();
        assert!(
            d.contains(&format!("`{at_fault}`")) && d.contains("of the path"),
            "{label}: the warning does not name `{at_fault}`: {d}"
        );
    } else {
        assert!(finding(&doc, "cert.strict").is_none(), "{label}: {doc}");
    }
    for word in [
        "UnknownIssuer",
        "BadDer",
        "EndEntityUsedAsCa",
        "InvalidSignatureForPublicKey",
    ] {
        assert!(
            !detail.contains(word),
            "{label}: raw webpki name in {detail}"
        );
    }
}

fn none(_: &mut CertificateParams) {}

#[test]
fn a_sound_chain_passes_everywhere() {
    check("sound", &chain(none, none, none), true, true, "");
}

#[test]
fn a_ca_without_key_cert_sign_fails_as_in_openssl() {
    let c = chain(none, |p| p.key_usages = vec![Ku::DigitalSignature], none);
    check(
        "intermediate KU digitalSignature only",
        &c,
        false,
        false,
        "Strict Test Intermediate",
    );
    let c = chain(none, |p| p.key_usages = vec![Ku::CrlSign], none);
    check(
        "intermediate KU cRLSign only",
        &c,
        false,
        false,
        "Strict Test Intermediate",
    );
    let c = chain(|p| p.key_usages = vec![Ku::CrlSign], none, none);
    check(
        "root KU without keyCertSign",
        &c,
        false,
        false,
        "Strict Test Root",
    );
}

#[test]
fn an_unknown_critical_extension_in_the_anchor_fails() {
    let c = chain(
        |p| {
            let mut e =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55738, 1], vec![5, 0]);
            e.set_criticality(true);
            p.custom_extensions.push(e);
        },
        none,
        none,
    );
    check(
        "anchor with unknown critical extension",
        &c,
        false,
        false,
        "Strict Test Root",
    );
}

#[test]
fn strict_lints_warn_and_fail_only_with_strict() {
    let c = chain(
        none,
        |p| p.use_authority_key_identifier_extension = false,
        none,
    );
    check(
        "intermediate without AKI",
        &c,
        true,
        false,
        "Strict Test Intermediate",
    );
    let c = chain(none, none, |p| {
        p.use_authority_key_identifier_extension = false
    });
    check("leaf without AKI", &c, true, false, "S47990001");
    let c = chain(none, none, |p| {
        p.key_usages = vec![Ku::DigitalSignature, Ku::KeyCertSign]
    });
    check("keyCertSign on the leaf", &c, true, false, "S47990001");
}

fn email_constrained(permitted: &str, leaf_email: &str) -> Chain {
    let permitted = permitted.to_string();
    let email = leaf_email.to_string();
    chain(
        none,
        move |p| {
            p.name_constraints = Some(NameConstraints {
                permitted_subtrees: vec![GeneralSubtree::Rfc822Name(permitted)],
                excluded_subtrees: vec![],
            })
        },
        move |p| p.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())],
    )
}

#[test]
fn e_mail_name_constraints_are_evaluated() {
    for (constraint, email, ok) in [
        ("example.jp", "taro@example.jp", true),
        (".example.jp", "taro@mail.example.jp", true),
        ("taro@example.jp", "taro@example.jp", true),
        ("example.jp", "taro@example.com", false),
        (".example.jp", "taro@example.jp", false),
    ] {
        check(
            &format!("rfc822 constraint {constraint} / {email}"),
            &email_constrained(constraint, email),
            ok,
            ok,
            "Strict Test Intermediate",
        );
    }
}

#[test]
fn a_self_issued_intermediate_does_not_count_toward_path_len() {
    // Root with pathLen 0 → a key-rollover certificate (same name, new key) → leaf.
    let mut r = ca_params("Strict Test Root");
    r.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = make(r, None);
    let rollover = make(ca_params("Strict Test Root"), Some(&root));
    let leaf = make(leaf_params("S47990001"), Some(&rollover));
    let c = Chain {
        root,
        inters: vec![rollover],
        leaf,
    };
    check(
        "self-issued intermediate under pathLen 0",
        &c,
        true,
        true,
        "",
    );

    // A real second intermediate under pathLen 0 is one too many, and named.
    let mut r = ca_params("Strict Test Root");
    r.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = make(r, None);
    let inter = make(ca_params("Strict Test Intermediate"), Some(&root));
    let leaf = make(leaf_params("S47990001"), Some(&inter));
    let c = Chain {
        root,
        inters: vec![inter],
        leaf,
    };
    check(
        "intermediate under pathLen 0",
        &c,
        false,
        false,
        "Strict Test Root",
    );
}

//! Broken set-ups as a field engineer meets them, each on real servers started here (nginx,
//! `openssl s_server`, tinyproxy, dnsmasq), and the verdict certprobe must give: the finding that
//! is the root cause, the guide section a person reads, and the exit code. The expected section
//! and cause are written from the guide (/work/shared/guide, MAP.md), not from certprobe's output.
//!
//! Adding a set-up is a few lines: one [`Scenario`] in a `#[test]` below.

use crate::support::hostile::{Behavior, Http};
use crate::support::openssl::SServer;
use crate::support::scenario::*;
use crate::support::{certprobe, repo};
use serde_json::Value;
use std::path::Path;

// ------------------------------------------------------------------------- healthy set-ups

#[test]
fn healthy_log_in_utf8() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        guide_cause: "everything in place",
        exit: 0,
        ..Default::default()
    });
}

#[test]
fn healthy_log_in_shift_jis() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/sjis/login.html",
        },
        guide_cause: "everything in place",
        exit: 0,
        ..Default::default()
    });
}

// ------------------------------------------------------------- what the service's page says

macro_rules! page {
    ($name:ident, $path:expr, $section:expr, $cause:expr) => {
        #[test]
        fn $name() {
            check(Scenario {
                peer: Peer::Nginx { login: $path },
                section: $section,
                guide_cause: $cause,
                cause: Some("net.login.page"),
                ..Default::default()
            });
        }
    };
}

page!(
    code_42_utf8,
    "/utf8/error-42.html",
    "2-2 42",
    "user status is invalid"
);
page!(
    code_42_sjis,
    "/sjis/error-42.html",
    "2-2 42",
    "user status is invalid"
);
page!(code_44_utf8, "/utf8/error-44.html", "2-2 44", "wrong URL");
page!(code_44_sjis, "/sjis/error-44.html", "2-2 44", "wrong URL");
page!(
    code_46_utf8,
    "/utf8/error-46.html",
    "2-2 46",
    "locked after wrong passwords"
);
page!(
    code_46_sjis,
    "/sjis/error-46.html",
    "2-2 46",
    "locked after wrong passwords"
);
page!(
    code_53_utf8,
    "/utf8/error-53.html",
    "2-2 53",
    "sign-up not completed"
);
page!(
    code_53_sjis,
    "/sjis/error-53.html",
    "2-2 53",
    "sign-up not completed"
);
page!(
    code_61_other,
    "/utf8/error-61.html",
    "2-2 other",
    "another code: report it"
);
page!(
    code_61_other_sjis,
    "/sjis/error-61.html",
    "2-2 other",
    "another code: report it"
);
page!(
    no_log_in_for_a_year,
    "/utf8/year.html",
    "2-3",
    "no log-in for a year"
);
page!(
    no_log_in_for_a_year_sjis,
    "/sjis/year.html",
    "2-3",
    "no log-in for a year"
);
page!(
    unsupported_browser,
    "/utf8/browser.html",
    "1-1",
    "unsupported browser"
);

// ------------------------------------------------------------ the client certificate

#[test]
fn no_client_certificate_nginx_answers_400() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        client: &[],
        section: "2-1 (6)",
        guide_cause: "the client certificate is not in the personal store",
        cause: Some("cert.load"),
        ..Default::default()
    });
}

#[test]
fn expired_client_certificate() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        client: &[
            "--cert",
            "@PKI@/client-expired.pem",
            "--key",
            "@PKI@/client.key",
        ],
        section: "2-1 (6)",
        guide_cause: "the client certificate is no longer valid: ask for a new one",
        cause: Some("cert.validity"),
        ..Default::default()
    });
}

#[test]
fn client_certificate_not_valid_yet() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        client: &[
            "--cert",
            "@PKI@/client-notyet.pem",
            "--key",
            "@PKI@/client.key",
        ],
        section: "2-1 (6)",
        guide_cause: "the client certificate is not valid (yet)",
        cause: Some("cert.validity"),
        ..Default::default()
    });
}

#[test]
fn client_certificate_without_its_intermediate() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        client: &["--cert", "@PKI@/client.pem", "--key", "@PKI@/client.key"],
        section: "2-1 (7)",
        guide_cause: "the intermediate SECOM Passport for Member PUB CA1 is not installed",
        cause: Some("trust.intermediate"),
        ..Default::default()
    });
}

#[test]
fn root_not_installed() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        trust: Some(&["@PKI@/server-root.pem"]),
        section: "2-1 (7)",
        guide_cause: "the root Security Communication RootCA1 is not installed",
        cause: Some("trust.root"),
        ..Default::default()
    });
}

#[test]
fn expired_root_while_the_service_accepts_the_chain_is_a_warning() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        trust: Some(&["@PKI@/root-expired.pem", "@PKI@/server-root.pem"]),
        section: "2-1 (7)",
        guide_cause: "RootCA1 expired; the service still accepts the chain",
        cause: Some("trust.root"),
        exit: 0,
        ..Default::default()
    });
}

#[test]
fn server_requires_a_certificate_from_another_ca() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/unknown-ca.pem",
        ]),
        section: "2-1 (6)",
        guide_cause: "the server does not accept this certificate's issuer",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

#[test]
fn s_server_tls13_requires_a_certificate_none_given() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/root.pem",
        ]),
        client: &[],
        section: "2-1 (6)",
        guide_cause: "no client certificate in the personal store",
        cause: Some("cert.load"),
        ..Default::default()
    });
}

#[test]
fn s_server_tls12_requires_a_certificate_none_given() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-tls1_2",
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/root.pem",
        ]),
        client: &[],
        section: "2-1 (6)",
        guide_cause: "no client certificate in the personal store",
        cause: Some("cert.load"),
        ..Default::default()
    });
}

// ------------------------------------------------------------------ TLS versions and suites

#[test]
fn server_speaks_only_tls_1_0() {
    check(Scenario {
        peer: Peer::SServer(&["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        section: "2-1 (4)",
        guide_cause: "TLS settings: the server speaks only TLS 1.0 (fix on the service side)",
        cause: Some("net.check.versions"),
        ..Default::default()
    });
}

#[test]
fn server_speaks_only_tls_1_1() {
    check(Scenario {
        peer: Peer::SServer(&["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        section: "2-1 (4)",
        guide_cause: "TLS settings: the server speaks only TLS 1.1 (fix on the service side)",
        cause: Some("net.check.versions"),
        ..Default::default()
    });
}

#[test]
fn server_with_tls_1_2_but_only_legacy_cipher_suites() {
    check(Scenario {
        peer: Peer::SServer(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"]),
        section: "2-1 (4)",
        guide_cause: "no cipher suite in common (fix on the service side)",
        cause: Some("net.check.versions"),
        ..Default::default()
    });
}

// ---------------------------------------------------------------- the server's certificate

#[test]
fn server_certificate_from_an_unknown_ca() {
    check(Scenario {
        peer: Peer::NginxUntrusted,
        section: "1-3 (5)-(8)",
        guide_cause: "a proxy or security software answers in the server's place",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

// ------------------------------------------------------------------------- the network

#[test]
fn nothing_listens_on_the_port() {
    check(Scenario {
        peer: Peer::Refused,
        section: "2-1 (5)",
        guide_cause: "the certificate check page cannot be opened",
        cause: Some("net.check.tcp"),
        ..Default::default()
    });
}

#[test]
fn the_server_never_answers() {
    check(Scenario {
        peer: Peer::Silent,
        section: "2-1 (5)",
        guide_cause: "the certificate check page cannot be opened",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

#[test]
fn the_name_does_not_resolve() {
    check(Scenario {
        peer: Peer::NxDomain,
        section: "2-1 (5)",
        guide_cause: "the certificate check page cannot be opened (name not found)",
        cause: Some("net.check.dns"),
        ..Default::default()
    });
}

#[test]
fn proxy_asks_for_credentials_none_given() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::ProxyAuthMissing,
        section: "1-3 (5)-(8)",
        guide_cause: "the LAN proxy refuses the connection",
        cause: Some("net.check.proxy"),
        ..Default::default()
    });
}

#[test]
fn proxy_refuses_the_port() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::ProxyPort443Only,
        section: "1-3 (5)-(8)",
        guide_cause: "the LAN proxy refuses the connection to this port",
        cause: Some("net.check.proxy"),
        first_do_excludes: &["port 443"],
        ..Default::default()
    });
}

#[test]
fn server_certificate_for_another_name() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: other_name_cert,
            args: &["-cert", "@TMP@/other.pem", "-key", "@TMP@/other.key"],
        },
        section: "2-1",
        guide_cause: "the name leads to another server (hosts file, DNS, captive portal)",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

#[test]
fn server_does_not_send_its_intermediate() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: leaf_under_intermediate,
            args: &["-cert", "@TMP@/leaf.pem", "-key", "@TMP@/leaf.key"],
        },
        section: "2-4",
        guide_cause: "the server's chain is incomplete: the service must fix it (not interception)",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

#[test]
fn server_with_its_full_chain_is_healthy() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: leaf_under_intermediate,
            args: &[
                "-cert",
                "@TMP@/leaf.pem",
                "-key",
                "@TMP@/leaf.key",
                "-cert_chain",
                "@TMP@/inter.pem",
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/root.pem",
            ],
        },
        guide_cause: "everything in place",
        exit: 0,
        ..Default::default()
    });
}

fn eset_no_certificate_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "ESET SSL Filter CA",
        false,
        Http::Page {
            status: 400,
            headers: vec![],
            body: b"<html><head><title>400 No required SSL certificate was sent</title></head><body><center><h1>400 Bad Request</h1></center><center>No required SSL certificate was sent</center></body></html>".to_vec(),
        },
    )
}

#[test]
fn security_software_intercepts_tls_on_this_computer() {
    check(Scenario {
        peer: Peer::Hostile(eset_no_certificate_page),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        section: "1-3 (5)-(8)",
        guide_cause: "security software inspects TLS: exclude the service from it",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

fn unnamed_interceptor_no_certificate_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "Corporate Inspection CA",
        false,
        Http::Page {
            status: 400,
            headers: vec![],
            body: b"<html><body>No required SSL certificate was sent</body></html>".to_vec(),
        },
    )
}

#[test]
fn an_unnamed_interceptor_never_asks_for_the_certificate_that_was_given() {
    check(Scenario {
        peer: Peer::Hostile(unnamed_interceptor_no_certificate_page),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        section: "1-3 (5)-(8)",
        guide_cause: "something answers in the service's place: never asks for the certificate",
        cause: Some("net.check.tls"),
        ..Default::default()
    });
}

fn control_byte_in_a_header(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        true,
        Http::Page {
            status: 200,
            headers: vec![b"X-Broken: a\x01b".to_vec()],
            body: b"<html><title>x</title></html>".to_vec(),
        },
    )
}

#[test]
fn malformed_http_after_a_tls13_handshake_that_asked_for_a_certificate() {
    check(Scenario {
        peer: Peer::Hostile(control_byte_in_a_header),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        section: "2-1 (5)",
        guide_cause: "the server's answer is broken — not the certificate",
        cause: Some("net.check.http"),
        ..Default::default()
    });
}

fn welcome_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![],
            body:
                b"<html><head><title>Welcome to nginx!</title></head><body>It works</body></html>"
                    .to_vec(),
        },
    )
}

#[test]
fn a_page_that_is_neither_expected_nor_an_error_is_a_warning() {
    check(Scenario {
        peer: Peer::Hostile(welcome_page),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        expect_login: true,
        section: "2-1",
        guide_cause: "the page cannot be displayed as expected: another page answers",
        cause: Some("net.login.page"),
        exit: 0,
        ..Default::default()
    });
}

fn full_width_code_46(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html; charset=utf-8".to_vec()],
            body: "<html><title>エラー</title><p>エラーコード：<span>４６</span></p></html>"
                .as_bytes()
                .to_vec(),
        },
    )
}

#[test]
fn an_error_code_in_full_width_digits() {
    check(Scenario {
        peer: Peer::Hostile(full_width_code_46),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        section: "2-2 46",
        guide_cause: "locked after wrong passwords",
        cause: Some("net.check.page"),
        ..Default::default()
    });
}

fn shift_jis_code_46_without_charset(dir: &Path) -> Behavior {
    let html = "<html><head><title>エラー</title></head><body><p>ただいまアカウントがロックされています。エラーコード：46</p><p>管理者にお問い合わせください。</p></body></html>";
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html".to_vec()],
            body: encoding_rs::SHIFT_JIS.encode(html).0.into_owned(),
        },
    )
}

#[test]
fn a_shift_jis_page_that_declares_no_charset() {
    check(Scenario {
        peer: Peer::Hostile(shift_jis_code_46_without_charset),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        section: "2-2 46",
        guide_cause: "locked after wrong passwords",
        cause: Some("net.check.page"),
        ..Default::default()
    });
}

fn odd_date_header(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Date: Mon, 01 Jan 2001 00:00:00 GMT".to_vec()],
            body: "<html><head><title>ログイン</title></head><body>ユーザーID</body></html>"
                .as_bytes()
                .to_vec(),
        },
    )
}

#[test]
fn one_odd_date_header_is_not_a_wrong_clock() {
    check(Scenario {
        peer: Peer::Hostile(odd_date_header),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        expect_login: true,
        guide_cause: "nothing is wrong: one server's Date header is not evidence",
        exit: 0,
        ..Default::default()
    });
}

/// `certprobe tls HOST` is what a field engineer types: it names the versions the server speaks.
#[test]
fn the_tls_command_enumerates_the_versions_a_legacy_server_accepts() {
    let srv = SServer::start(&[
        "-tls1_1",
        "-cipher",
        "DEFAULT:@SECLEVEL=0",
        "-cert",
        &format!("{}/server.pem", pki_dir()),
        "-key",
        &format!("{}/server.key", pki_dir()),
        "-www",
    ]);
    let out = certprobe()
        .args(["--format", "json", "--timeout", "6s", "tls"])
        .arg(format!("localhost:{}", srv.port))
        .arg("--trust")
        .arg(format!("{}/server-root.pem", pki_dir()))
        .arg("--no-system-trust")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "net.server.versions")
        .unwrap_or_else(|| panic!("no versions finding:\n{}", listing(&doc)));
    assert_eq!(versions["data"]["accepted"], serde_json::json!(["TLSv1.1"]));
    assert_eq!(
        doc["verdict"]["cause"],
        "net.server.versions",
        "{}",
        listing(&doc)
    );
    assert_eq!(doc["verdict"]["section"], "2-1 (4)");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn revoked_client_certificate_refused_by_the_server() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: revoked_client,
            args: &[
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                "@PKI@/root.pem",
                "-crl_check_all",
                "-CRL",
                "@TMP@/crls.pem",
            ],
        },
        serve_crl: true,
        client: &[
            "--cert",
            "@TMP@/revoked-chain.pem",
            "--key",
            "@TMP@/revoked.key",
        ],
        section: "2-1 (6)",
        guide_cause: "the client certificate has been revoked: ask for a new one",
        cause: Some("net.revocation"),
        ..Default::default()
    });
}

#[test]
fn this_computers_clock_is_far_behind() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        faketime: Some("-800d"),
        section: "2-1",
        guide_cause: "the PC's clock is wrong: certificates look not valid yet",
        cause: Some("env.clock"),
        ..Default::default()
    });
}

#[test]
fn this_computers_clock_is_far_ahead() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        faketime: Some("+7000d"),
        section: "2-1",
        guide_cause: "the PC's clock is wrong: certificates look expired",
        cause: Some("env.clock"),
        ..Default::default()
    });
}

/// `fetch-ca` with the genuine Security Communication RootCA1 (expired 2023-09-30) served by a
/// test server, beside a current intermediate. The warning comes before anything is saved: the
/// expired root is not written (importing it makes nothing valid), the finding says what the
/// expiry means for the service and never "import it"; the intermediate is saved as usual.
/// With `--keep-expired` the root is saved and the warning stays.
#[test]
fn fetch_ca_warns_before_saving_an_expired_anchor() {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let real = repo().join("fixtures/pki/real/Security_Communication_Root_CA.pem");
    let der = CertificateDer::from_pem_file(&real).unwrap().to_vec();
    let inter = CertificateDer::from_pem_file(repo().join("fixtures/pki/inter.pem"))
        .unwrap()
        .to_vec();
    let dir = tempfile::tempdir().unwrap();
    let sha = |b: &[u8]| {
        ring::digest::digest(&ring::digest::SHA256, b)
            .as_ref()
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let mut src =
        std::fs::read_to_string(profile(dir.path(), "localhost", 1, 1, "/", "/", false)).unwrap();
    for (file, body, role, name) in [
        ("root.cer", &der, "root", "Security Communication RootCA1"),
        (
            "inter.cer",
            &inter,
            "intermediate",
            "SECOM Passport for Member PUB CA1",
        ),
    ] {
        std::fs::write(dir.path().join(file), body).unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        serve_file(l, dir.path().join(file));
        src.push_str(&format!(
            "\n[[ca]]\nrole = \"{role}\"\nname = \"{name}\"\nurl = \"http://127.0.0.1:{port}/{file}\"\nsha256 = \"{}\"\n",
            sha(body)
        ));
    }
    let prof = dir.path().join("fetch.toml");
    std::fs::write(&prof, src).unwrap();
    let root_file = "Security_Communication_RootCA1.cer";
    let inter_file = "SECOM_Passport_for_Member_PUB_CA1.cer";
    for (keep, lang) in [(false, "en"), (false, "ja"), (true, "en")] {
        let out_dir = dir.path().join(format!("cas-{keep}-{lang}"));
        let mut cmd = certprobe();
        cmd.arg("--profile")
            .arg(&prof)
            .args(["--lang", lang, "--format", "json", "fetch-ca", "--out"])
            .arg(&out_dir);
        if keep {
            cmd.arg("--keep-expired");
        }
        let out = cmd.output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        let case = format!("keep={keep} lang={lang}\n{}", listing(&doc));
        let f = &doc["findings"][0];
        assert_eq!(f["status"], "warn", "{case}");
        assert_eq!(f["data"]["expired"], true, "{case}");
        assert_eq!(f["data"]["saved"], keep, "{case}");
        let detail = f["detail"].as_str().unwrap();
        let fix = f["fix"].as_str().unwrap();
        if lang == "en" {
            assert!(detail.contains("expired on 2023-09-30"), "{case}");
            // The expiry comes first: nothing about saving or importing precedes it.
            let warned = detail.find("expired on").unwrap();
            assert!(!detail[..warned].contains("saved to"), "{case}");
            assert!(fix.contains("decided by the service"), "{case}");
            assert!(fix.contains("Do not import"), "{case}");
            assert!(!fix.contains("import it as a trusted root"), "{case}");
            assert!(!detail.contains("import it into"), "{case}");
        } else {
            assert!(
                detail.contains("2023-09-30 に有効期限が切れています"),
                "{case}"
            );
            assert!(fix.contains("サービス側が決めます"), "{case}");
        }
        assert_eq!(out_dir.join(root_file).exists(), keep, "{case}");
        // The current intermediate is saved as before, and its finding names where it is.
        let i = &doc["findings"][1];
        assert_eq!(i["status"], "pass", "{case}");
        assert_eq!(std::fs::read(out_dir.join(inter_file)).unwrap(), inter);
        assert!(
            i["detail"]
                .as_str()
                .unwrap()
                .contains(&out_dir.join(inter_file).display().to_string()),
            "{case}"
        );
        // No staging folder is left behind.
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1 + usize::from(keep), "{left:?}");
        assert_eq!(doc["verdict"]["cause"], "fetch_ca.1", "{case}");
        assert_eq!(doc["verdict"]["section"], "2-1 (7)");
        assert_eq!(out.status.code(), Some(0), "{case}");
    }
}

#[test]
fn proxy_asks_for_the_windows_sign_in() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::ProxyNtlm,
        section: "1-3 (5)-(8)",
        guide_cause: "the LAN proxy wants NTLM/Negotiate: no credentials in a URL can answer it",
        cause: Some("net.check.proxy"),
        first_do_excludes: &["user:password"],
        ..Default::default()
    });
}

// ------------------------------------------------- more client certificates from the test PKI

macro_rules! client_cert {
    ($name:ident, $cert:expr, $cause:expr, $section:expr, $why:expr) => {
        #[test]
        fn $name() {
            check(Scenario {
                peer: Peer::Nginx {
                    login: "/utf8/login.html",
                },
                client: &[
                    "--cert",
                    $cert,
                    "--key",
                    "@PKI@/client.key",
                    "--ca",
                    "@PKI@/inter.pem",
                ],
                section: $section,
                guide_cause: $why,
                cause: Some($cause),
                ..Default::default()
            });
        }
    };
}

client_cert!(
    client_certificate_signed_with_sha1,
    "@PKI@/client-sha1.pem",
    "cert.signature",
    "2-1 (6)",
    "a weak (SHA-1) signature: ask for a new certificate"
);
client_cert!(
    client_certificate_for_servers_only,
    "@PKI@/client-servereku.pem",
    "cert.eku",
    "2-1 (6)",
    "the certificate is not for client authentication: ask for the right one"
);
client_cert!(
    client_certificate_without_digital_signature,
    "@PKI@/client-nodigsig.pem",
    "cert.key_usage",
    "2-1 (6)",
    "the certificate's key may not sign: ask for the right one"
);
client_cert!(
    client_certificate_of_another_person_or_service,
    "@PKI@/client-badname.pem",
    "cert.subject",
    "2-1 (6)",
    "not the S47… certificate of this service"
);
client_cert!(
    client_certificate_from_another_issuing_ca,
    "@PKI@/client-wrong-issuer-chain.pem",
    "cert.issuer",
    "2-1 (6)",
    "issued by another CA than SECOM Passport for Member PUB CA1"
);

#[test]
fn client_intermediate_expired() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        client: &[
            "--cert",
            "@PKI@/client.pem",
            "--key",
            "@PKI@/client.key",
            "--ca",
            "@PKI@/inter-expired.pem",
        ],
        section: "2-1 (7)",
        guide_cause: "the intermediate SECOM Passport for Member PUB CA1 has expired",
        cause: Some("cert.chain"),
        ..Default::default()
    });
}

/// An RSA-1024 key is intact but weak: certprobe says so and asks for a new certificate; it
/// never calls it damaged.
#[test]
fn an_rsa_1024_key_is_weak_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let bin = crate::support::need("openssl", "openssl");
    let out = std::process::Command::new(bin)
        .current_dir(dir.path())
        .args([
            "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "30",
        ])
        .args([
            "-keyout",
            "weak.key",
            "-out",
            "weak.pem",
            "-subj",
            "/CN=S47000098",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = certprobe()
        .args(["--format", "json", "check", "--only", "local", "--cert"])
        .arg(dir.path().join("weak.pem"))
        .arg("--key")
        .arg(dir.path().join("weak.key"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The cause when the key is the only fault (a proper chain, a real server) is asserted in
    // tests/it/weak.rs; this self-signed certificate is also untrusted.
    let key = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert.key")
        .expect("a cert.key finding");
    assert_eq!(key["status"], "fail", "{key}");
    assert!(!text.contains("damaged"), "{text}");
}

/// A PAC address pasted as the proxy is named for what it is, not used as a proxy.
#[test]
fn a_pac_address_given_as_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), "localhost", 1, 1, "/", "/", false);
    let out = certprobe()
        .arg("--profile")
        .arg(&prof)
        .args(["--format", "json", "check", "--only", "environment"])
        .env("HTTPS_PROXY", "http://127.0.0.1:9/proxy.pac")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"]["cause"], "env.proxy", "{}", listing(&doc));
    assert_eq!(doc["verdict"]["section"], "1-3 (5)-(8)");
    let detail = doc["verdict"]["summary"].as_str().unwrap();
    assert!(
        detail.contains("automatic configuration script (PAC)"),
        "{detail}"
    );
}

#[test]
fn an_intercepting_proxy_named_by_its_ca() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::Mitm,
        section: "1-3 (5)-(8)",
        guide_cause: "a proxy that inspects TLS: the client-certificate handshake cannot pass",
        cause: Some("net.check.tls"),
        first_do_excludes: &["reinstall", "Install the certificate"],
        ..Default::default()
    });
}

#[test]
fn an_intercepting_proxy_whose_ca_this_computer_trusts() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::MitmTrustedCorporateCa,
        trust: Some(&[
            "@PKI@/root.pem",
            "@PKI@/server-root.pem",
            "@TMP@/inspection.pem",
        ]),
        section: "1-3 (5)-(8)",
        guide_cause: "a proxy that inspects TLS with a trusted corporate CA",
        cause: Some("net.check.tls"),
        first_do_excludes: &["reinstall", "Install the certificate"],
        ..Default::default()
    });
}

#[test]
fn expired_root_on_which_the_servers_refusal_depends() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/root-expired.pem",
        ]),
        trust: Some(&["@PKI@/root-expired.pem", "@PKI@/server-root.pem"]),
        section: "2-1 (7)",
        guide_cause: "RootCA1 has expired and the server refuses the chain that ends in it",
        cause: Some("cert.chain"),
        ..Default::default()
    });
}

#[test]
fn a_tls_1_2_only_server_with_client_authentication_is_healthy() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-tls1_2",
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/root.pem",
        ]),
        guide_cause: "everything in place (TLS 1.2 is enough)",
        exit: 0,
        ..Default::default()
    });
}

// ------------------------------------------------------ relatives of the classes above
//
// The outside corpus holds variants of every class; each rule must hold for them too.

#[test]
fn server_speaks_only_tls_1_0_and_1_1() {
    check(Scenario {
        peer: Peer::SServer(&["-no_tls1_2", "-no_tls1_3", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        section: "2-1 (4)",
        guide_cause:
            "TLS settings: the server speaks only TLS 1.0 and 1.1 (fix on the service side)",
        cause: Some("net.check.versions"),
        first_do_excludes: &["make sure TLS 1.2"],
        ..Default::default()
    });
}

#[test]
fn server_with_tls_1_2_but_only_cbc_sha384_suites() {
    check(Scenario {
        peer: Peer::SServer(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384"]),
        section: "2-1 (4)",
        guide_cause: "no cipher suite in common (fix on the service side)",
        cause: Some("net.check.versions"),
        first_do_excludes: &["make sure TLS 1.2"],
        ..Default::default()
    });
}

/// A server leaf for localhost (`fresh-server.*`) and a client certificate S47000097 with its
/// chain (`fresh-client-chain.pem`, `fresh-client.key`), both issued now for 30 days: a clock
/// a year behind or two months ahead puts both outside their validity.
fn fresh_pair(dir: &Path) {
    openssl_req(
        dir,
        &[
            "-keyout",
            "fresh-server.key",
            "-out",
            "fresh-server.pem",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
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
    openssl_req(
        dir,
        &[
            "-keyout",
            "fresh-client.key",
            "-out",
            "fresh-client.pem",
            "-subj",
            "/C=JP/O=SECOM Trust Systems CO.,LTD./OU=certprobe test/CN=S47000097",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-CA",
            "@PKI@/inter.pem",
            "-CAkey",
            "@PKI@/inter.key",
        ],
    );
    let mut chain = std::fs::read(dir.join("fresh-client.pem")).unwrap();
    chain.extend(std::fs::read(repo().join("fixtures/pki/inter.pem")).unwrap());
    std::fs::write(dir.join("fresh-client-chain.pem"), chain).unwrap();
}

const FRESH_SERVER: &[&str] = &[
    "-cert",
    "@TMP@/fresh-server.pem",
    "-key",
    "@TMP@/fresh-server.key",
    "-Verify",
    "2",
    "-verify_return_error",
    "-CAfile",
    "@PKI@/root.pem",
];
const FRESH_CLIENT: &[&str] = &[
    "--cert",
    "@TMP@/fresh-client-chain.pem",
    "--key",
    "@TMP@/fresh-client.key",
];

#[test]
fn this_computers_clock_is_400_days_behind() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: fresh_pair,
            args: FRESH_SERVER,
        },
        client: FRESH_CLIENT,
        faketime: Some("-400d"),
        section: "2-1",
        guide_cause: "the PC's clock is wrong: both certificates look not valid yet",
        cause: Some("env.clock"),
        first_do_excludes: &["new certificate"],
        ..Default::default()
    });
}

#[test]
fn this_computers_clock_is_two_months_ahead() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: fresh_pair,
            args: FRESH_SERVER,
        },
        client: FRESH_CLIENT,
        faketime: Some("+60d"),
        section: "2-1",
        guide_cause: "the PC's clock is wrong: both certificates look expired",
        cause: Some("env.clock"),
        first_do_excludes: &["new certificate"],
        ..Default::default()
    });
}

/// nginx sends a `Date` header: the skew (three minutes, within the warning band) is measured,
/// and breaks no certificate.
#[test]
fn a_clock_a_few_minutes_off_that_breaks_nothing_is_not_a_failure() {
    let doc = check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        faketime: Some("+3m"),
        section: "2-1",
        guide_cause: "the clock is a few minutes off: worth correcting, nothing is broken by it",
        cause: Some("env.clock"),
        exit: 0,
        ..Default::default()
    });
    assert_eq!(doc["verdict"]["status"], "warn", "{}", listing(&doc));
}

/// `openssl s_server -rev` answers the request with a banner and the request reversed: no
/// HTTP, after a TLS 1.3 handshake that asked for (and got) the client certificate.
#[test]
fn a_non_http_banner_after_a_tls13_handshake_that_asked_for_a_certificate() {
    check(Scenario {
        peer: Peer::SServer(&[
            "-rev",
            "-Verify",
            "2",
            "-verify_return_error",
            "-CAfile",
            "@PKI@/root.pem",
        ]),
        section: "2-1 (5)",
        guide_cause: "the server's answer is broken — not the certificate",
        cause: Some("net.check.http"),
        first_do_excludes: &["certificate"],
        ..Default::default()
    });
}

fn future_date_header(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Date: Sat, 01 Jan 2050 00:00:00 GMT".to_vec()],
            body: "<html><head><title>ログイン</title></head><body>ユーザーID</body></html>"
                .as_bytes()
                .to_vec(),
        },
    )
}

#[test]
fn one_date_header_far_in_the_future_is_not_a_wrong_clock() {
    check(Scenario {
        peer: Peer::Hostile(future_date_header),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        expect_login: true,
        guide_cause: "nothing is wrong: one server's Date header is not evidence",
        exit: 0,
        ..Default::default()
    });
}

#[test]
fn an_expired_root_nothing_depends_on_is_information() {
    let doc = check(Scenario {
        peer: Peer::SServer(&[]),
        client: &[],
        trust: Some(&["@PKI@/root-expired.pem", "@PKI@/server-root.pem"]),
        section: "2-1 (6)",
        guide_cause: "no client certificate given; the expired root matters to nothing here",
        cause: Some("cert.load"),
        ..Default::default()
    });
    let root = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "trust.root")
        .unwrap_or_else(|| panic!("no trust.root:\n{}", listing(&doc)));
    assert_eq!(root["status"], "info", "{}", listing(&doc));
}

/// A page in `encoding` with no charset anywhere, saying error code 46 (`digits` as written).
fn code_46_page(dir: &Path, encoding: &'static encoding_rs::Encoding, digits: &str) -> Behavior {
    let html = format!("<html><head><title>エラー</title></head><body><p>ただいまアカウントがロックされています。エラーコード：{digits}</p><p>管理者にお問い合わせください。</p></body></html>");
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html".to_vec()],
            body: encoding.encode(&html).0.into_owned(),
        },
    )
}

fn euc_jp_code_46(dir: &Path) -> Behavior {
    code_46_page(dir, encoding_rs::EUC_JP, "46")
}

fn iso_2022_jp_code_46(dir: &Path) -> Behavior {
    code_46_page(dir, encoding_rs::ISO_2022_JP, "46")
}

fn shift_jis_full_width_code_46(dir: &Path) -> Behavior {
    code_46_page(dir, encoding_rs::SHIFT_JIS, "４６")
}

macro_rules! locked_page {
    ($name:ident, $make:expr) => {
        #[test]
        fn $name() {
            check(Scenario {
                peer: Peer::Hostile($make),
                trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
                section: "2-2 46",
                guide_cause: "locked after wrong passwords",
                cause: Some("net.check.page"),
                ..Default::default()
            });
        }
    };
}

locked_page!(an_euc_jp_page_that_declares_no_charset, euc_jp_code_46);
locked_page!(
    an_iso_2022_jp_page_that_declares_no_charset,
    iso_2022_jp_code_46
);
locked_page!(
    full_width_digits_in_a_shift_jis_page_without_charset,
    shift_jis_full_width_code_46
);

fn captive_portal_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html; charset=utf-8".to_vec()],
            body: "<html><head><title>ゲスト Wi-Fi へようこそ</title></head><body><form><input name=\"agree\" type=\"checkbox\">利用規約に同意する</form></body></html>"
                .as_bytes()
                .to_vec(),
        },
    )
}

#[test]
fn another_page_that_is_neither_expected_nor_an_error_is_a_warning() {
    check(Scenario {
        peer: Peer::Hostile(captive_portal_page),
        trust: Some(&["@PKI@/root.pem", "@TMP@/ca.pem"]),
        expect_login: true,
        section: "2-1",
        guide_cause: "the page cannot be displayed as expected: another page answers",
        cause: Some("net.login.page"),
        exit: 0,
        ..Default::default()
    });
}

/// The service's page says the account is locked; the root missing on this computer (the
/// service accepted the certificate anyway) is not blamed for it.
#[test]
fn a_locked_account_is_not_blamed_on_an_unrelated_local_finding() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/error-46.html",
        },
        trust: Some(&["@PKI@/server-root.pem"]),
        section: "2-2 46",
        guide_cause: "locked after wrong passwords",
        cause: Some("net.login.page"),
        ..Default::default()
    });
}

#[test]
fn proxy_asks_for_negotiate_only() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::Proxy407(&["Negotiate"]),
        section: "1-3 (5)-(8)",
        guide_cause:
            "the LAN proxy wants the Windows sign-in: no credentials in a URL can answer it",
        cause: Some("net.check.proxy"),
        first_do_excludes: &["user:password"],
        ..Default::default()
    });
}

#[test]
fn proxy_asks_for_ntlm_only() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::Proxy407(&["NTLM"]),
        section: "1-3 (5)-(8)",
        guide_cause:
            "the LAN proxy wants the Windows sign-in: no credentials in a URL can answer it",
        cause: Some("net.check.proxy"),
        first_do_excludes: &["user:password"],
        ..Default::default()
    });
}

#[test]
fn proxy_asks_for_basic_credentials_with_a_realm() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::Proxy407(&["Basic realm=\"Corporate proxy\""]),
        section: "1-3 (5)-(8)",
        guide_cause: "the LAN proxy wants a user name and password",
        cause: Some("net.check.proxy"),
        ..Default::default()
    });
}

#[test]
fn proxy_refuses_the_credentials_given() {
    check(Scenario {
        peer: Peer::Nginx {
            login: "/utf8/login.html",
        },
        route: Route::ProxyAuthWrong,
        section: "1-3 (5)-(8)",
        guide_cause: "the LAN proxy refuses the user name and password given",
        cause: Some("net.check.proxy"),
        ..Default::default()
    });
}

/// A WPAD address (`wpad.dat`) pasted as the proxy is a PAC address too.
#[test]
fn a_wpad_address_given_as_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), "localhost", 1, 1, "/", "/", false);
    let out = certprobe()
        .arg("--profile")
        .arg(&prof)
        .args(["--format", "json", "check", "--only", "environment"])
        .env("HTTPS_PROXY", "http://127.0.0.1:9/wpad.dat")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"]["cause"], "env.proxy", "{}", listing(&doc));
    assert_eq!(doc["verdict"]["section"], "1-3 (5)-(8)");
    let detail = doc["verdict"]["summary"].as_str().unwrap();
    assert!(
        detail.contains("automatic configuration script (PAC)"),
        "{detail}"
    );
}

/// An RSA server certificate for localhost (`rsa.pem`, `rsa.key`) from the trusted server root,
/// for servers that offer only RSA key exchange.
fn rsa_server_cert(dir: &Path) {
    let bin = crate::support::need("openssl", "openssl");
    std::fs::write(
        dir.join("rsa.cnf"),
        "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .current_dir(dir)
        .args([
            "req", "-config", "rsa.cnf", "-x509", "-new", "-newkey", "rsa:2048",
        ])
        .args([
            "-nodes", "-days", "30", "-keyout", "rsa.key", "-out", "rsa.pem",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-CA")
        .arg(format!("{}/server-root.pem", pki_dir()))
        .arg("-CAkey")
        .arg(format!("{}/server-root.key", pki_dir()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn server_with_tls_1_2_but_only_rsa_key_exchange() {
    check(Scenario {
        peer: Peer::SServerWith {
            prepare: rsa_server_cert,
            args: &[
                "-cert",
                "@TMP@/rsa.pem",
                "-key",
                "@TMP@/rsa.key",
                "-tls1_2",
                "-cipher",
                "AES128-GCM-SHA256:AES256-SHA256:DES-CBC3-SHA:@SECLEVEL=0",
            ],
        },
        section: "2-1 (4)",
        guide_cause: "no cipher suite in common: only RSA key exchange (fix on the service side)",
        cause: Some("net.check.versions"),
        first_do_excludes: &["make sure TLS 1.2"],
        ..Default::default()
    });
}

/// A page saying error code 46, with this HTTP status, `Content-Type` and body (UTF-8 source,
/// encoded as `encoding`).
fn page_46(
    dir: &Path,
    status: u16,
    content_type: &str,
    encoding: &'static encoding_rs::Encoding,
    body: &str,
) -> Behavior {
    tls_server(
        dir,
        "certprobe Hostile Test CA",
        false,
        Http::Page {
            status,
            headers: vec![format!("Content-Type: {content_type}").into_bytes()],
            body: encoding.encode(body).0.into_owned(),
        },
    )
}

fn code_46_with_status_500(dir: &Path) -> Behavior {
    page_46(
        dir,
        500,
        "text/html; charset=utf-8",
        encoding_rs::UTF_8,
        "<html><head><title>システムエラー</title></head><body><p>エラーコード：46</p></body></html>",
    )
}

fn code_46_charset_in_meta_only(dir: &Path) -> Behavior {
    page_46(
        dir,
        200,
        "text/html",
        encoding_rs::SHIFT_JIS,
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><title>エラー</title></head><body><p>アカウントがロックされています。エラーコード：46</p></body></html>",
    )
}

fn code_46_as_character_references(dir: &Path) -> Behavior {
    page_46(
        dir,
        200,
        "text/html; charset=utf-8",
        encoding_rs::UTF_8,
        "<html><head><title>エラー</title></head><body><p>エラーコード&#xFF1A;&#65300;&#65302;</p></body></html>",
    )
}

fn code_46_split_by_markup(dir: &Path) -> Behavior {
    page_46(
        dir,
        200,
        "text/html; charset=utf-8",
        encoding_rs::UTF_8,
        "<html><head><title>エラー</title></head><body><table><tr><th>エラーコード</th><td>：<b>4</b><!-- x --><b>6</b></td></tr></table></body></html>",
    )
}

locked_page!(an_error_page_sent_with_http_500, code_46_with_status_500);
locked_page!(
    a_shift_jis_page_whose_charset_is_only_in_a_meta_tag,
    code_46_charset_in_meta_only
);
locked_page!(
    an_error_code_written_as_character_references,
    code_46_as_character_references
);
locked_page!(an_error_code_split_by_markup, code_46_split_by_markup);

/// `openssl s_server` told to ask for the certificate but not to insist on a valid chain: it
/// accepts the chain that ends in the expired root — a warning, not a failure.
#[test]
fn expired_root_while_a_lenient_server_accepts_the_chain_is_a_warning() {
    check(Scenario {
        peer: Peer::SServer(&["-Verify", "2", "-CAfile", "@PKI@/root-expired.pem"]),
        trust: Some(&["@PKI@/root-expired.pem", "@PKI@/server-root.pem"]),
        section: "2-1 (7)",
        guide_cause: "RootCA1 expired; the service still accepts the chain",
        cause: Some("trust.root"),
        exit: 0,
        ..Default::default()
    });
}

fn no_certificate_page() -> Http {
    Http::Page {
        status: 400,
        headers: vec![],
        body: b"<html><head><title>400 No required SSL certificate was sent</title></head><body>No required SSL certificate was sent</body></html>".to_vec(),
    }
}

fn kaspersky_no_certificate_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "Kaspersky Anti-Virus Personal Root Certificate",
        false,
        no_certificate_page(),
    )
}

fn avast_no_certificate_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "Avast Web/Mail Shield Root",
        false,
        no_certificate_page(),
    )
}

fn trend_micro_login_page(dir: &Path) -> Behavior {
    tls_server(
        dir,
        "Trend Micro Security Root CA",
        false,
        Http::Page {
            status: 200,
            headers: vec![b"Content-Type: text/html; charset=utf-8".to_vec()],
            body: "<html><head><title>ログイン</title></head><body>ユーザーID</body></html>"
                .as_bytes()
                .to_vec(),
        },
    )
}

macro_rules! security_software {
    ($name:ident, $make:expr, $trust:expr) => {
        #[test]
        fn $name() {
            check(Scenario {
                peer: Peer::Hostile($make),
                trust: Some($trust),
                expect_login: true,
                section: "1-3 (5)-(8)",
                guide_cause: "security software inspects TLS: exclude the service from it",
                cause: Some("net.check.tls"),
                first_do_excludes: &["Install the certificate", "--cert"],
                ..Default::default()
            });
        }
    };
}

security_software!(
    kaspersky_inspects_tls_with_its_root_installed,
    kaspersky_no_certificate_page,
    &["@PKI@/root.pem", "@TMP@/ca.pem"]
);
security_software!(
    avast_inspects_tls_without_its_root_installed,
    avast_no_certificate_page,
    &["@PKI@/root.pem", "@PKI@/server-root.pem"]
);
security_software!(
    trend_micro_answers_with_the_log_in_page_but_never_asks_for_the_certificate,
    trend_micro_login_page,
    &["@PKI@/root.pem", "@TMP@/ca.pem"]
);

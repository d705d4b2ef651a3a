//! Network probes against real servers on 127.0.0.1: nginx with and without client
//! authentication, `openssl s_server -Verify`, dnsmasq as the DNS server, a port that refuses
//! and one that accepts and never answers.
//!
//! Two layers: the library's `probe_endpoints` with an identity built here from the fixture
//! PEM files, and the real binary (`certprobe check`, `certprobe tls`).

use crate::support::certprobe;
use crate::support::dnsmasq::Dnsmasq;
use crate::support::nginx::Nginx;
use crate::support::openssl::SServer;
use crate::support::{fill, pki, repo};
use certprobe::finding::{Finding, Status};
use certprobe::net::NetOptions;
use certprobe::probe::LocalOutcome;
use certprobe::profile::Profile;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

/// The identity and trust a person would give with `--cert`, `--key`, `--trust`.
fn local(chain: Option<&str>, key: &str, trust: &[&str]) -> LocalOutcome {
    let client = chain.map(|c| {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki(c))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(pki(key)).unwrap();
        let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
        Arc::new(rustls::sign::CertifiedKey::new(certs, signer))
    });
    let mut roots = rustls::RootCertStore::empty();
    for t in trust {
        for c in CertificateDer::pem_file_iter(pki(t)).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
    }
    LocalOutcome {
        findings: vec![],
        client,
        client_issuer: None,
        roots: Arc::new(roots),
    }
}

fn good_client() -> LocalOutcome {
    local(Some("client-chain.pem"), "client.key", &["server-root.pem"])
}

struct ProfileFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
    profile: Profile,
}

/// The loopback test profile with its placeholders filled.
fn profile(host: &str, verify: u16, open: u16, login: &str, check: &str) -> ProfileFile {
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let text = fill(
        &src,
        &[
            ("HOST", host.to_string()),
            ("PORT_VERIFY", verify.to_string()),
            ("PORT_OPEN", open.to_string()),
            ("PATH_LOGIN", login.to_string()),
            ("PATH_CHECK", check.to_string()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loopback.toml");
    std::fs::write(&path, &text).unwrap();
    let profile = Profile::load(&path).unwrap();
    ProfileFile {
        _dir: dir,
        path,
        profile,
    }
}

fn args(endpoints: &[&str]) -> NetOptions {
    NetOptions {
        endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn run(p: &Profile, a: &NetOptions, l: &LocalOutcome, timeout: Duration) -> Vec<Finding> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(certprobe::net::probe_endpoints(
        p,
        a,
        l,
        Instant::now() + timeout,
    ))
    .unwrap()
}

fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
    fs.iter().find(|f| f.id == id).unwrap_or_else(|| {
        panic!(
            "no finding {id}; have: {:?}",
            fs.iter().map(|f| &f.id).collect::<Vec<_>>()
        )
    })
}

fn show(fs: &[Finding]) -> String {
    fs.iter()
        .map(|f| format!("{} {} {:?} {}", f.id, f.status, f.section, f.detail.en))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_step(fs: &[Finding], id: &str, status: Status, section: Option<&str>) {
    let f = get(fs, id);
    assert_eq!(f.status, status, "{id}:\n{}", show(fs));
    if let Some(s) = section {
        assert_eq!(f.section.as_deref(), Some(s), "{id}:\n{}", show(fs));
    }
    if matches!(status, Status::Fail | Status::Warn) {
        assert!(f.fix.is_some(), "{id} has no fix");
        let sec = f.section.as_deref().expect("a section");
        assert!(
            certprobe::guide::catalogue().find(sec).is_some(),
            "{id}: unknown section {sec}"
        );
    }
}

// ---------------------------------------------------------------- library level

#[test]
fn healthy_log_in_over_nginx_with_client_certificate() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/sjis/login.html",
        "/utf8/login.html",
    );
    let mut a = args(&[]);
    a.token = Some("tok-secret-123".into());
    let fs = run(&p.profile, &a, &good_client(), Duration::from_secs(10));
    for ep in ["check", "login", "issuance"] {
        for step in ["dns", "tcp", "tls", "http", "page"] {
            assert_step(&fs, &format!("net.{ep}.{step}"), Status::Pass, None);
        }
    }
    assert_step(&fs, "env.clock", Status::Pass, None);
    let tls = get(&fs, "net.login.tls");
    assert_eq!(tls.data["client_cert_sent"], true);
    assert_eq!(tls.data["client_cert_requested"], true);
    let cas = tls.data["acceptable_client_cas"].to_string();
    assert!(cas.contains("Security Communication RootCA1"), "{cas}");
    assert!(tls.data["version"].as_str().unwrap().starts_with("TLS 1."));
    assert!(tls.data["server_chain"][0]["issuer"]
        .as_str()
        .unwrap()
        .contains("certprobe Test Public Root"));
    // The Shift_JIS page was decoded as such.
    assert_eq!(get(&fs, "net.login.http").data["encoding"], "Shift_JIS");
    // The issuance site does not ask for a certificate and is not sent one.
    let iss = get(&fs, "net.issuance.tls");
    assert_eq!(iss.data["client_cert_requested"], false);
    assert_eq!(iss.data["client_cert_sent"], false);
    // The per-user token never shows.
    let all = format!("{fs:?}");
    assert!(!all.contains("tok-secret-123"), "token leaked");
    // One connection per endpoint: nginx saw exactly one request per endpoint.
    let log = ng.access_log();
    assert_eq!(log.lines().count(), 3, "{log}");
}

#[test]
fn endpoint_without_its_per_user_part_is_skipped() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/utf8/login.html",
        "/utf8/login.html",
    );
    let fs = run(
        &p.profile,
        &args(&[]),
        &good_client(),
        Duration::from_secs(10),
    );
    for step in ["dns", "tcp", "tls", "http", "page"] {
        let f = get(&fs, &format!("net.issuance.{step}"));
        assert_eq!(f.status, Status::Skip);
        assert!(f.detail.en.contains("--token"), "{}", f.detail.en);
    }
    assert_step(&fs, "net.login.page", Status::Pass, None);
}

#[test]
fn no_client_certificate_nginx_answers_400() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/utf8/login.html",
        "/utf8/login.html",
    );
    let l = local(None, "client.key", &["server-root.pem"]);
    let fs = run(&p.profile, &args(&["login"]), &l, Duration::from_secs(10));
    assert_step(&fs, "net.login.tls", Status::Fail, Some("2-1 (6)"));
    let tls = get(&fs, "net.login.tls");
    assert!(
        tls.detail.en.contains("No required SSL certificate"),
        "{}",
        tls.detail.en
    );
    assert_eq!(tls.data["client_cert_sent"], false);
    assert_step(&fs, "net.login.http", Status::Skip, None);
    assert_step(&fs, "net.login.page", Status::Skip, None);
}

#[test]
fn expired_client_certificate_is_named() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/utf8/login.html",
        "/utf8/login.html",
    );
    // client-expired.pem is the leaf alone; add the intermediate as a browser would send it.
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("expired-chain.pem");
    let mut pem = std::fs::read_to_string(pki("client-expired.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(pki("inter.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let l = local(
        Some(chain.to_str().unwrap()),
        "client.key",
        &["server-root.pem"],
    );
    let fs = run(&p.profile, &args(&["login"]), &l, Duration::from_secs(10));
    assert_step(&fs, "net.login.tls", Status::Fail, Some("2-1 (6)"));
    assert!(
        get(&fs, "net.login.tls").detail.en.contains("expired"),
        "{}",
        show(&fs)
    );
}

#[test]
fn server_certificate_from_unknown_ca_is_flagged_as_interception() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.unknown_port,
        ng.open_port,
        "/utf8/login.html",
        "/utf8/login.html",
    );
    let fs = run(
        &p.profile,
        &args(&["login"]),
        &good_client(),
        Duration::from_secs(10),
    );
    assert_step(&fs, "net.login.tls", Status::Fail, Some("1-3 (5)-(8)"));
    let tls = get(&fs, "net.login.tls");
    assert!(tls.detail.en.contains("interception"), "{}", tls.detail.en);
    // The chain seen is kept although it failed validation.
    let issuer = tls.data["server_chain"][0]["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(issuer.contains("Unknown Test CA"), "{issuer}");
    assert!(
        tls.detail.en.contains("Unknown Test CA"),
        "{}",
        tls.detail.en
    );
    // The certificate was not sent: verification failed first (TLS 1.3 order aside, the
    // handshake stops) — and the HTTP step did not run.
    assert_step(&fs, "net.login.http", Status::Skip, None);
}

#[test]
fn each_error_page_names_its_guide_section_in_shift_jis_and_utf8() {
    let ng = Nginx::start();
    let cases = [
        ("error-42.html", "2-2 42"),
        ("error-44.html", "2-2 44"),
        ("error-46.html", "2-2 46"),
        ("error-53.html", "2-2 53"),
        ("error-61.html", "2-2 other"),
        ("year.html", "2-3"),
        ("browser.html", "1-1"),
    ];
    for dir in ["sjis", "utf8"] {
        for (page, section) in cases {
            let path = format!("/{dir}/{page}");
            let p = profile("localhost", ng.verify_port, ng.open_port, &path, &path);
            let fs = run(
                &p.profile,
                &args(&["login"]),
                &good_client(),
                Duration::from_secs(10),
            );
            assert_step(&fs, "net.login.http", Status::Pass, None);
            assert_step(&fs, "net.login.page", Status::Fail, Some(section));
            let f = get(&fs, "net.login.page");
            if section == "2-2 other" {
                assert_eq!(f.data["code"], "61");
            }
            let expect = if dir == "sjis" { "Shift_JIS" } else { "UTF-8" };
            assert_eq!(get(&fs, "net.login.http").data["encoding"], expect);
        }
    }
}

#[test]
fn redirects_are_followed_only_within_the_profile() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/redirect",
        "/away",
    );
    let fs = run(
        &p.profile,
        &args(&["login", "check"]),
        &good_client(),
        Duration::from_secs(10),
    );
    assert_step(&fs, "net.login.http", Status::Pass, None);
    assert_eq!(
        get(&fs, "net.login.http").data["redirects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_step(&fs, "net.login.page", Status::Pass, None);
    assert_step(&fs, "net.check.http", Status::Warn, None);
    assert!(get(&fs, "net.check.http")
        .detail
        .en
        .contains("elsewhere.example"));
}

#[test]
fn refused_connection() {
    let port = crate::support::free_port();
    let p = profile("localhost", port, port, "/", "/");
    let fs = run(
        &p.profile,
        &args(&["login"]),
        &good_client(),
        Duration::from_secs(10),
    );
    assert_step(&fs, "net.login.dns", Status::Pass, None);
    assert_step(&fs, "net.login.tcp", Status::Fail, Some("2-1"));
    let tcp = get(&fs, "net.login.tcp");
    assert!(tcp.detail.en.contains("refused"), "{}", tcp.detail.en);
    for s in ["tls", "http", "page"] {
        assert_step(&fs, &format!("net.login.{s}"), Status::Skip, None);
    }
}

#[test]
fn a_server_that_never_answers_is_bounded_by_the_timeout() {
    let silent = crate::support::SilentServer::start();
    let p = profile("127.0.0.1", silent.port, silent.port, "/", "/");
    let start = Instant::now();
    let fs = run(
        &p.profile,
        &args(&["login"]),
        &good_client(),
        Duration::from_secs(2),
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_step(&fs, "net.login.tcp", Status::Pass, None);
    assert_step(&fs, "net.login.tls", Status::Fail, None);
    assert_eq!(get(&fs, "net.login.tls").data["error"], "timeout");
}

#[test]
fn dns_through_a_chosen_resolver() {
    let ng = Nginx::start();
    let dns = Dnsmasq::start(&["--host-record=login.test,127.0.0.1", "--address=/#/"]);
    let mut a = args(&["login"]);
    a.resolver = Some(dns.addr());
    let p = profile(
        "login.test",
        ng.verify_port,
        ng.open_port,
        "/utf8/login.html",
        "/",
    );
    let fs = run(&p.profile, &a, &good_client(), Duration::from_secs(10));
    assert_step(&fs, "net.login.dns", Status::Pass, None);
    assert_eq!(get(&fs, "net.login.dns").data["addresses"][0], "127.0.0.1");
    assert_step(&fs, "net.login.tcp", Status::Pass, None);
    // The fixture server certificate names localhost (its `*.test` is not a valid wildcard
    // for webpki: two labels must follow it): a genuine certificate for another name means
    // the name leads to another server (hosts file, DNS, captive portal).
    assert_step(&fs, "net.login.tls", Status::Fail, Some("2-1"));
    assert!(get(&fs, "net.login.tls")
        .detail
        .en
        .contains("not for login.test"));

    let p = profile("nowhere.test", ng.verify_port, ng.open_port, "/", "/");
    let fs = run(&p.profile, &a, &good_client(), Duration::from_secs(10));
    assert_step(&fs, "net.login.dns", Status::Fail, Some("2-1"));
    assert_eq!(get(&fs, "net.login.dns").data["error"], "nxdomain");
    assert_step(&fs, "net.login.tcp", Status::Skip, None);
}

#[test]
fn dns_server_that_does_not_answer_is_a_timeout() {
    // A UDP socket that reads queries and never answers.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut a = args(&["login"]);
    a.resolver = Some(sock.local_addr().unwrap().to_string());
    let p = profile("login.test", 1, 1, "/", "/");
    let fs = run(&p.profile, &a, &good_client(), Duration::from_secs(3));
    assert_step(&fs, "net.login.dns", Status::Fail, None);
    assert_eq!(get(&fs, "net.login.dns").data["error"], "timeout");
}

/// A DNS server that answers every query with SERVFAIL (what a broken or DNSSEC-failing
/// recursive resolver says): the reply echoes the id and question, RCODE 2, no records.
fn servfail_server() -> std::net::SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            // End of the question: the name's labels, a zero byte, then type and class.
            let mut i = 12;
            while i < n && buf[i] != 0 {
                i += 1 + buf[i] as usize;
            }
            let end = (i + 5).min(n);
            let mut reply = buf[..end].to_vec();
            reply[2] = 0x80 | (buf[2] & 0x01); // QR, keep RD
            reply[3] = 0x80 | 0x02; // RA, RCODE=SERVFAIL
            reply[6..12].fill(0); // no answer, authority or additional records
            let _ = sock.send_to(&reply, from);
        }
    });
    addr
}

#[test]
fn dns_server_failure_is_told_apart_from_nxdomain_and_timeout() {
    let mut a = args(&["login"]);
    a.resolver = Some(servfail_server().to_string());
    let p = profile("login.test", 1, 1, "/", "/");
    let fs = run(&p.profile, &a, &good_client(), Duration::from_secs(5));
    let dns = get(&fs, "net.login.dns");
    assert_step(&fs, "net.login.dns", Status::Fail, None);
    assert_eq!(dns.data["error"], "server_error", "{:?}", dns.detail);
    assert!(
        dns.detail.en.to_lowercase().contains("servfail")
            || dns.detail.en.contains("Server Failure"),
        "{}",
        dns.detail.en
    );
    assert_step(&fs, "net.login.tcp", Status::Skip, None);
}

/// s_server with client authentication; `-partial_chain` lets the intermediate alone be the
/// accepted CA, so its CertificateRequest names "SECOM Passport for Member PUB CA1".
fn s_server(version: &str) -> SServer {
    let cert = pki("server.pem");
    let key = pki("server.key");
    let ca = pki("inter.pem");
    SServer::start(&[
        version,
        "-www",
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-Verify",
        "2",
        "-verify_return_error",
        "-partial_chain",
        "-CAfile",
        ca.to_str().unwrap(),
    ])
}

#[test]
fn openssl_s_server_accepts_the_right_certificate() {
    for v in ["-tls1_2", "-tls1_3"] {
        let s = s_server(v);
        let p = profile("localhost", s.port, s.port, "/", "/");
        let fs = run(
            &p.profile,
            &args(&["login"]),
            &good_client(),
            Duration::from_secs(10),
        );
        assert_step(&fs, "net.login.tls", Status::Pass, None);
        assert_step(&fs, "net.login.http", Status::Pass, None);
        let cas = get(&fs, "net.login.tls").data["acceptable_client_cas"].to_string();
        assert!(cas.contains("SECOM Passport for Member PUB CA1"), "{cas}");
    }
}

#[test]
fn openssl_s_server_without_client_certificate_fails_in_the_handshake_or_at_the_first_read() {
    for v in ["-tls1_2", "-tls1_3"] {
        let s = s_server(v);
        let p = profile("localhost", s.port, s.port, "/", "/");
        let l = local(None, "client.key", &["server-root.pem"]);
        let fs = run(&p.profile, &args(&["login"]), &l, Duration::from_secs(10));
        assert_step(&fs, "net.login.tls", Status::Fail, Some("2-1 (6)"));
        let tls = get(&fs, "net.login.tls");
        assert!(
            tls.detail.en.contains("none was sent"),
            "{v}: {}",
            tls.detail.en
        );
        if v == "-tls1_3" {
            // The verdict comes after the handshake: as an alert at the first read, or — when
            // the server's reset overtakes its alert — as a hang-up right after the handshake.
            let d = &tls.detail.en;
            assert!(
                (d.contains("first read") && tls.data["error"] == "alert_certificate_required")
                    || d.contains("hung up right after the handshake"),
                "{d}"
            );
        }
    }
}

#[test]
fn certificate_from_another_ca_names_both_issuers() {
    for v in ["-tls1_2", "-tls1_3"] {
        let s = s_server(v);
        let p = profile("localhost", s.port, s.port, "/", "/");
        let l = local(
            Some("client-wrong-issuer-chain.pem"),
            "client.key",
            &["server-root.pem"],
        );
        let fs = run(&p.profile, &args(&["login"]), &l, Duration::from_secs(10));
        assert_step(&fs, "net.login.tls", Status::Fail, Some("2-1 (6)"));
        let d = &get(&fs, "net.login.tls").detail.en;
        assert!(d.contains("accepts certificates issued by"), "{v}: {d}");
        assert!(d.contains("SECOM Passport for Member PUB CA1"), "{d}");
        assert!(d.contains("SECOM Web Server CA1"), "{d}");
    }
}

#[test]
fn endpoints_run_concurrently() {
    // Three endpoints on two silent servers: each TLS step waits for its timeout. Run one after
    // another, the first endpoint's connection would be closed (at its timeout) before the next
    // one is opened; run concurrently, all three are open before any is closed.
    let log = crate::support::ConnLog::default();
    let a = crate::support::SilentServer::start_logged(log.clone());
    let b = crate::support::SilentServer::start_logged(log.clone());
    let p = profile("127.0.0.1", a.port, b.port, "/", "/");
    let mut na = args(&[]);
    na.token = Some("t".into());
    let fs = run(&p.profile, &na, &good_client(), Duration::from_secs(2));
    for ep in ["check", "login", "issuance"] {
        assert_eq!(get(&fs, &format!("net.{ep}.tls")).data["error"], "timeout");
    }
    let events = log.lock().unwrap().clone();
    let first_close = events
        .iter()
        .position(|e| *e == crate::support::ConnEvent::Closed)
        .unwrap_or(events.len());
    let opened_before = events[..first_close]
        .iter()
        .filter(|e| **e == crate::support::ConnEvent::Accepted)
        .count();
    assert!(
        opened_before >= 3,
        "endpoints ran one after another: {opened_before} connection(s) open before the first close; {events:?}"
    );
}

// ---------------------------------------------------------------- the binary

fn json_findings(out: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)));
    v["findings"].as_array().cloned().unwrap_or_default()
}

fn jget<'a>(fs: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    fs.iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {fs:?}"))
}

#[test]
fn binary_check_healthy_log_in() {
    let ng = Nginx::start();
    let p = profile(
        "localhost",
        ng.verify_port,
        ng.open_port,
        "/sjis/login.html",
        "/utf8/login.html",
    );
    let out = certprobe()
        .args([
            "--profile",
            p.path.to_str().unwrap(),
            "--format",
            "json",
            "check",
        ])
        .args(["--only", "network"])
        .arg("--cert")
        .arg(pki("client-chain.pem"))
        .arg("--key")
        .arg(pki("client.key"))
        .arg("--trust")
        .arg(pki("server-root.pem"))
        .arg("--no-system-trust")
        .output()
        .unwrap();
    let fs = json_findings(&out.stdout);
    assert_eq!(jget(&fs, "net.login.tls")["status"], "pass", "{fs:?}");
    assert_eq!(jget(&fs, "net.login.page")["status"], "pass");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn binary_check_honours_the_timeout_against_a_silent_server() {
    let silent = crate::support::SilentServer::start();
    let p = profile("127.0.0.1", silent.port, silent.port, "/", "/");
    let out = certprobe()
        .args([
            "--profile",
            p.path.to_str().unwrap(),
            "--format",
            "json",
            "--timeout",
            "2s",
        ])
        .args(["check", "--only", "network", "--endpoint", "login"])
        .arg("--trust")
        .arg(pki("server-root.pem"))
        .arg("--no-system-trust")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let fs = json_findings(&out.stdout);
    assert_eq!(jget(&fs, "net.login.tls")["status"], "fail");
}

#[test]
fn binary_check_dns_failure_through_resolver() {
    let dns = Dnsmasq::start(&["--address=/#/"]);
    let p = profile("nowhere.test", 443, 443, "/", "/");
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args([
            "check",
            "--only",
            "network",
            "--endpoint",
            "login",
            "--resolver",
            &dns.addr(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let fs = json_findings(&out.stdout);
    let d = jget(&fs, "net.login.dns");
    assert_eq!(d["status"], "fail");
    assert_eq!(d["section"], "2-1");
}

#[test]
fn binary_unknown_endpoint_is_an_input_error() {
    let p = profile("localhost", 1, 1, "/", "/");
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap()])
        .args(["check", "--only", "network", "--endpoint", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn binary_tls_shows_handshake_details() {
    let ng = Nginx::start();
    let p = profile("localhost", ng.verify_port, ng.open_port, "/", "/");
    let target = format!("localhost:{}", ng.verify_port);
    // JSON: the details are in the TLS finding's data.
    let out = certprobe()
        .args([
            "--profile",
            p.path.to_str().unwrap(),
            "--format",
            "json",
            "tls",
            &target,
        ])
        .arg("--cert")
        .arg(pki("client-chain.pem"))
        .arg("--key")
        .arg(pki("client.key"))
        .arg("--trust")
        .arg(pki("server-root.pem"))
        .arg("--no-system-trust")
        .output()
        .unwrap();
    let fs = json_findings(&out.stdout);
    let tls = jget(&fs, "net.server.tls");
    assert_eq!(tls["status"], "pass", "{fs:?}");
    let data = tls["data"].to_string();
    assert!(data.contains("Security Communication RootCA1"), "{data}");
    assert!(data.contains("cipher_suite"), "{data}");
    // Table: the handshake details come first.
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "tls", &target])
        .arg("--trust")
        .arg(pki("server-root.pem"))
        .arg("--no-system-trust")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Acceptable client CAs"), "{text}");
    assert!(text.contains("Security Communication RootCA1"), "{text}");
    // Without a certificate nginx refuses: exit 1.
    assert_eq!(out.status.code(), Some(1), "{text}");
}

#[test]
fn binary_tls_rejects_a_bad_target() {
    let out = certprobe().args(["tls", "host:99999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------- revocation (CRL)

/// Answer every HTTP request on `l` with `body` (a CRL), in a thread.
fn serve(l: std::net::TcpListener, body: Vec<u8>) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
}

/// A CA, a client certificate naming `crl_url`, and a CRL (revoking it when `revoke`).
fn crl_pki(crl_url: &str, revoke: bool) -> (LocalOutcome, Vec<u8>) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
        ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
        RevokedCertParams, SerialNumber,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.serial_number = Some(SerialNumber::from(77u64));
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![crl_url.to_string()],
    }];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = CertificateRevocationListParams {
        this_update: now - time::Duration::hours(1),
        next_update: now + time::Duration::days(1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: if revoke {
            vec![RevokedCertParams {
                serial_number: SerialNumber::from(77u64),
                revocation_time: now - time::Duration::minutes(5),
                reason_code: None,
                invalidity_date: None,
            }]
        } else {
            vec![]
        },
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
    let ck = rustls::sign::CertifiedKey::new(vec![leaf_cert.der().clone()], signer);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    (
        LocalOutcome {
            findings: vec![],
            client: Some(Arc::new(ck)),
            client_issuer: None,
            roots: Arc::new(roots),
        },
        crl.der().to_vec(),
    )
}

#[test]
fn revoked_client_certificate_is_a_failure_and_unreachable_crl_a_warning() {
    let refused = crate::support::free_port();
    let p = profile("localhost", refused, refused, "/", "/");
    for revoke in [true, false] {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/ca.crl", l.local_addr().unwrap().port());
        let (local, crl) = crl_pki(&url, revoke);
        serve(l, crl);
        let fs = run(
            &p.profile,
            &args(&["login"]),
            &local,
            Duration::from_secs(10),
        );
        let f = get(&fs, "net.revocation");
        assert_eq!(f.target, url);
        if revoke {
            assert_step(&fs, "net.revocation", Status::Fail, Some("2-1 (6)"));
        } else {
            assert_step(&fs, "net.revocation", Status::Pass, None);
        }
    }
    // Nothing listens at the CRL address: a warning, not a failure.
    let dead = crate::support::free_port();
    let (local, _) = crl_pki(&format!("http://127.0.0.1:{dead}/ca.crl"), false);
    let fs = run(
        &p.profile,
        &args(&["login"]),
        &local,
        Duration::from_secs(10),
    );
    assert_step(&fs, "net.revocation", Status::Warn, Some("2-1 (6)"));
}

// ---------------------------------------------------------------- fetch-ca

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn binary_fetch_ca_saves_pinned_certificates_and_refuses_a_mismatch() {
    let root_der = std::fs::read(pki("root.der")).unwrap();
    let inter_pem = std::fs::read(pki("inter.pem")).unwrap();
    let l1 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let l2 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (p1, p2) = (
        l1.local_addr().unwrap().port(),
        l2.local_addr().unwrap().port(),
    );
    serve(l1, root_der.clone());
    serve(l2, inter_pem);
    let base = profile("localhost", 1, 1, "/", "/");
    let mut src = std::fs::read_to_string(&base.path).unwrap();
    src.push_str(&format!(
        "\n[[ca]]\nrole = \"root\"\nname = \"Security Communication RootCA1\"\nurl = \"http://127.0.0.1:{p1}/SCRoot1ca.cer\"\nsha256 = \"{}\"\n",
        sha256_hex(&root_der)
    ));
    src.push_str(&format!(
        "\n[[ca]]\nrole = \"intermediate\"\nname = \"SECOM Passport for Member PUB CA1\"\nurl = \"http://127.0.0.1:{p2}/PfM20PUBCA1.cer\"\nsha256 = \"{}\"\n",
        "0".repeat(64)
    ));
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("p.toml");
    std::fs::write(&prof, src).unwrap();
    let out_dir = dir.path().join("cas");
    let out = certprobe()
        .args([
            "--profile",
            prof.to_str().unwrap(),
            "--format",
            "json",
            "fetch-ca",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    let fs = json_findings(&out.stdout);
    assert_eq!(jget(&fs, "fetch_ca.1")["status"], "pass", "{fs:?}");
    assert_eq!(jget(&fs, "fetch_ca.2")["status"], "fail", "{fs:?}");
    assert_eq!(jget(&fs, "fetch_ca.2")["section"], "2-1 (7)");
    let saved = std::fs::read(out_dir.join("Security_Communication_RootCA1.cer")).unwrap();
    assert_eq!(saved, root_der);
    assert!(!out_dir
        .join("SECOM_Passport_for_Member_PUB_CA1.cer")
        .exists());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_intermediate_is_downloaded_and_checked_against_the_certificate() {
    use certprobe::finding::{Phase, Text};
    let inter_der = {
        let c = CertificateDer::from_pem_file(pki("inter.pem")).unwrap();
        c.as_ref().to_vec()
    };
    let root_der = std::fs::read(pki("root.der")).unwrap();
    for (body, expect) in [(inter_der.clone(), Status::Warn), (root_der, Status::Fail)] {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        serve(l, body);
        let refused = crate::support::free_port();
        let base = profile("localhost", refused, refused, "/", "/");
        let mut src = std::fs::read_to_string(&base.path).unwrap();
        src.push_str(&format!(
            "\n[[ca]]\nrole = \"intermediate\"\nname = \"SECOM Passport for Member PUB CA1\"\nurl = \"http://127.0.0.1:{port}/PfM20PUBCA1.cer\"\nsha256 = \"{}\"\n",
            sha256_hex(&inter_der)
        ));
        let p = Profile::parse(&src, "p.toml").unwrap();
        let mut local = local(Some("client.pem"), "client.key", &["server-root.pem"]);
        local.findings.push(
            Finding::new(
                "trust.intermediate",
                Phase::Local,
                Text::same("Intermediate CA certificate"),
                "client.pem",
            )
            .fail(Text::same("missing")),
        );
        let fs = run(&p, &args(&["login"]), &local, Duration::from_secs(10));
        assert_step(&fs, "net.ca_fetch", expect, Some("2-1 (7)"));
        if expect == Status::Warn {
            let f = get(&fs, "net.ca_fetch");
            assert!(f.detail.en.contains("fetch-ca"), "{}", f.detail.en);
        }
    }
}

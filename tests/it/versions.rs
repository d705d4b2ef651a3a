//! Protocol-version enumeration against real servers on 127.0.0.1: nginx (TLS 1.2 + 1.3),
//! `openssl s_server` restricted to TLS 1.0 or TLS 1.1 (legacy-only servers), a TLS 1.0–1.2
//! server, a TLS 1.2 server that insists on a client certificate, a server that answers garbage,
//! one that closes at once and one that never answers — and the same lists from testssl.sh.

use crate::support::nginx::Nginx;
use crate::support::openssl::SServer;
use crate::support::{pki, SilentServer};
use certprobe::finding::{Finding, Status};
use certprobe::net::versions::probe_versions;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

fn probe(port: u16, timeout: Duration) -> Finding {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    rt.block_on(probe_versions(
        "login",
        "localhost",
        port,
        addr,
        "localhost",
        timeout,
    ))
}

fn accepted(f: &Finding) -> Vec<String> {
    f.data["accepted"]
        .as_array()
        .unwrap_or_else(|| panic!("no accepted list: {:?}", f.data))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn s_server(extra: &[&str]) -> SServer {
    let cert = pki("server.pem");
    let key = pki("server.key");
    let mut args = vec![
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    SServer::start(&args)
}

const LEGACY_CIPHERS: &[&str] = &["-cipher", "DEFAULT:@SECLEVEL=0"];

fn tls1_server() -> SServer {
    s_server(&[&["-tls1"], LEGACY_CIPHERS].concat())
}
fn tls11_server() -> SServer {
    s_server(&[&["-tls1_1"], LEGACY_CIPHERS].concat())
}
fn tls10_to_12_server() -> SServer {
    s_server(&[&["-no_tls1_3", "-no_ssl3"], LEGACY_CIPHERS].concat())
}

/// Accepts connections and answers each with `reply` (then closes).
struct Replier {
    port: u16,
    _t: std::thread::JoinHandle<()>,
}

impl Replier {
    fn start(reply: &'static [u8]) -> Replier {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            for mut s in l.incoming().map_while(Result::ok) {
                let _ = s.write_all(reply);
                drop(s);
            }
        });
        Replier { port, _t: t }
    }
}

#[test]
fn nginx_with_tls12_and_13_passes() {
    let n = Nginx::start();
    for port in [n.open_port, n.verify_port] {
        let f = probe(port, Duration::from_secs(5));
        assert_eq!(f.id, "net.login.versions");
        assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
        assert_eq!(accepted(&f), ["TLSv1.3", "TLSv1.2"]);
        assert!(f.detail.en.contains("this client offers TLS 1.3, TLS 1.2"));
        for v in ["TLSv1.1", "TLSv1", "SSLv3"] {
            assert_eq!(
                f.data["versions"][v]["result"], "refused",
                "{v}: {:?}",
                f.data
            );
        }
    }
}

#[test]
fn tls10_only_server_fails_with_2_1_4() {
    let s = tls1_server();
    let f = probe(s.port, Duration::from_secs(5));
    assert_eq!(f.status, Status::Fail, "{}", f.detail.en);
    assert_eq!(f.section.as_deref(), Some("2-1 (4)"));
    assert_eq!(accepted(&f), ["TLSv1"]);
    assert!(
        f.detail.en.contains("speaks only TLS 1.0"),
        "{}",
        f.detail.en
    );
    // rustls offered 1.2 and 1.3 and was refused; the legacy 1.1 hello got a 1.0 ServerHello.
    assert_eq!(f.data["versions"]["TLSv1.2"]["result"], "refused");
    assert_eq!(
        f.data["versions"]["TLSv1.1"]["reason"],
        "the server chose TLS 1.0"
    );
    assert!(f.fix.is_some());
}

#[test]
fn tls11_only_server_fails_with_2_1_4() {
    let s = tls11_server();
    let f = probe(s.port, Duration::from_secs(5));
    assert_eq!(f.status, Status::Fail, "{}", f.detail.en);
    assert_eq!(f.section.as_deref(), Some("2-1 (4)"));
    assert_eq!(accepted(&f), ["TLSv1.1"]);
}

#[test]
fn server_still_accepting_tls10_warns() {
    let s = tls10_to_12_server();
    let f = probe(s.port, Duration::from_secs(5));
    assert_eq!(f.status, Status::Warn, "{}", f.detail.en);
    assert_eq!(accepted(&f), ["TLSv1.2", "TLSv1.1", "TLSv1"]);
    assert!(
        f.detail.en.contains("still accepts TLS 1.0"),
        "{}",
        f.detail.en
    );
}

#[test]
fn tls12_server_requiring_a_client_certificate_still_counts() {
    // OpenSSL aborts the handshake (no certificate) after choosing TLS 1.2.
    let root = pki("root.pem");
    let s = s_server(&[
        "-tls1_2",
        "-Verify",
        "1",
        "-verify_return_error",
        "-CAfile",
        root.to_str().unwrap(),
    ]);
    let f = probe(s.port, Duration::from_secs(5));
    assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
    assert_eq!(accepted(&f), ["TLSv1.2"]);
}

#[test]
fn garbage_and_closing_servers_fail_without_hanging() {
    let junk = Replier::start(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let f = probe(junk.port, Duration::from_secs(3));
    assert_eq!(f.status, Status::Fail, "{}", f.detail.en);
    assert!(
        f.detail.en.contains("does not answer in TLS"),
        "{}",
        f.detail.en
    );
    assert!(accepted(&f).is_empty());

    let closer = Replier::start(b"");
    let f = probe(closer.port, Duration::from_secs(3));
    assert_eq!(f.status, Status::Fail, "{}", f.detail.en);
    assert!(
        f.detail.en.contains("closed the connection"),
        "{}",
        f.detail.en
    );
}

#[test]
fn a_silent_server_is_bounded_by_the_timeout() {
    let s = SilentServer::start();
    let start = Instant::now();
    let f = probe(s.port, Duration::from_millis(800));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(f.status, Status::Fail, "{}", f.detail.en);
    assert!(accepted(&f).is_empty());
}

#[test]
fn refused_port_is_skipped() {
    let port = crate::support::free_port();
    let f = probe(port, Duration::from_secs(2));
    assert_eq!(f.status, Status::Skip, "{}", f.detail.en);
}

/// testssl.sh's verdict per version (`SSLv3`, `TLS1`, `TLS1_1`, `TLS1_2`, `TLS1_3`), as OpenSSL-
/// style names of the versions it found offered.
fn testssl_offered(port: u16) -> Vec<String> {
    let bin = crate::support::need("testssl", "testssl.sh");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    // testssl clears OPENSSL_CONF; `--warnings off` keeps it from stopping at prompts.
    let out = std::process::Command::new(bin)
        .args([
            "--protocols",
            "--quiet",
            "--warnings",
            "off",
            "--color",
            "0",
        ])
        .arg("--jsonfile")
        .arg(&json)
        .arg(format!("localhost:{port}"))
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&json).unwrap_or_else(|_| {
        panic!(
            "testssl wrote no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut offered = Vec::new();
    for (id, name) in [
        ("TLS1_3", "TLSv1.3"),
        ("TLS1_2", "TLSv1.2"),
        ("TLS1_1", "TLSv1.1"),
        ("TLS1", "TLSv1"),
        ("SSLv3", "SSLv3"),
    ] {
        let finding = v
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .and_then(|x| x["finding"].as_str())
            .unwrap_or_else(|| panic!("testssl said nothing about {id}: {text}"));
        if finding.starts_with("offered") {
            offered.push(name.to_string());
        }
    }
    offered
}

/// certprobe and testssl.sh agree on every server (testssl takes tens of seconds per server;
/// the servers are asked in parallel).
#[test]
fn agrees_with_testssl_on_every_server() {
    let n = Nginx::start();
    let t1 = tls1_server();
    let t11 = tls11_server();
    let mixed = tls10_to_12_server();
    let ports = [n.open_port, t1.port, t11.port, mixed.port];
    let ours: Vec<(u16, Vec<String>, Duration)> = ports
        .iter()
        .map(|p| {
            let start = Instant::now();
            let f = probe(*p, Duration::from_secs(5));
            (*p, accepted(&f), start.elapsed())
        })
        .collect();
    let theirs: Vec<(Vec<String>, Duration)> = std::thread::scope(|sc| {
        let hs: Vec<_> = ports
            .iter()
            .map(|p| {
                sc.spawn(move || {
                    let start = Instant::now();
                    (testssl_offered(*p), start.elapsed())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ((port, ours, our_t), (theirs, their_t)) in ours.iter().zip(&theirs) {
        eprintln!(
            "port {port}: certprobe {ours:?} in {our_t:?}; testssl {theirs:?} in {their_t:?}"
        );
        assert_eq!(ours, theirs, "port {port}");
    }
}

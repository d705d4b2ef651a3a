//! Proxies for real on 127.0.0.1: tinyproxy as a plain CONNECT proxy (with and without Basic
//! authentication), mitmproxy as a genuine TLS-intercepting proxy, nginx behind them.
//!
//! Two layers: the library (`connect_tunnel`, `probe_endpoints` with an identity built here
//! from the fixture files) and the real binary (`certprobe check`).

use crate::support::certprobe;
use crate::support::mitm::Mitm;
use crate::support::nginx::Nginx;
use crate::support::tinyproxy::Tinyproxy;
use crate::support::{fill, pki, repo};
use certprobe::finding::{Finding, Status};
use certprobe::net::proxy::{
    connect_tunnel, detect_interception, peek_chain, Interception, ProxyError, ProxyUrl,
};
use certprobe::net::NetOptions;
use certprobe::probe::LocalOutcome;
use certprobe::profile::Profile;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- shared pieces

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki("server-root.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    roots
}

/// The identity and trust a person would give with `--cert`, `--key`, `--trust`.
fn good_client() -> LocalOutcome {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki("client-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("client.key")).unwrap();
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
    LocalOutcome {
        findings: vec![],
        client: Some(Arc::new(rustls::sign::CertifiedKey::new(certs, signer))),
        client_issuer: None,
        roots: Arc::new(roots()),
    }
}

struct ProfileFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
    profile: Profile,
}

fn profile(verify: u16, open: u16) -> ProfileFile {
    profile_for("localhost", verify, open)
}

fn profile_for(host: &str, verify: u16, open: u16) -> ProfileFile {
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let text = fill(
        &src,
        &[
            ("HOST", host.to_string()),
            ("PORT_VERIFY", verify.to_string()),
            ("PORT_OPEN", open.to_string()),
            ("PATH_LOGIN", "/utf8/login.html".to_string()),
            ("PATH_CHECK", "/utf8/login.html".to_string()),
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

fn via(proxy: &str) -> NetOptions {
    NetOptions {
        proxy: Some(proxy.to_string()),
        endpoints: vec!["login".to_string()],
        ..Default::default()
    }
}

fn check(p: &Profile, a: &NetOptions, timeout: Duration) -> Vec<Finding> {
    rt().block_on(certprobe::net::probe_endpoints(
        p,
        a,
        &good_client(),
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

fn tunnel(proxy: &str, port: u16) -> Result<(), ProxyError> {
    let p = ProxyUrl::parse(proxy).unwrap();
    rt().block_on(connect_tunnel(
        &p,
        "localhost",
        port,
        Duration::from_secs(5),
    ))
    .map(drop)
}

/// The server chain seen through a tunnel.
fn chain_via(proxy: &str, port: u16) -> Vec<CertificateDer<'static>> {
    let p = ProxyUrl::parse(proxy).unwrap();
    rt().block_on(async {
        let s = connect_tunnel(&p, "localhost", port, Duration::from_secs(5))
            .await
            .expect("tunnel");
        peek_chain(s, "localhost", Duration::from_secs(10))
            .await
            .expect("handshake through the tunnel")
    })
}

/// A minimal CONNECT proxy that resolves names itself from its own table (as a proxy with its
/// own DNS does): `nowhere.test` is 127.0.0.1 for it, and for nobody else.
struct OwnDnsProxy {
    port: u16,
}

impl OwnDnsProxy {
    fn start() -> OwnDnsProxy {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for c in l.incoming().map_while(Result::ok) {
                std::thread::spawn(move || {
                    let mut c = c;
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if c.read(&mut b).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let line = String::from_utf8_lossy(&head).to_string();
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let (host, port) = target.rsplit_once(':').unwrap();
                    let ip = if host == "nowhere.test" {
                        "127.0.0.1"
                    } else {
                        host
                    };
                    let Ok(up) = std::net::TcpStream::connect((ip, port.parse::<u16>().unwrap()))
                    else {
                        let _ = c.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                        return;
                    };
                    c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .unwrap();
                    let (mut a, mut b2) = (c.try_clone().unwrap(), up.try_clone().unwrap());
                    let (mut c2, mut up2) = (c, up);
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut a, &mut up2);
                        let _ = up2.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut b2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        OwnDnsProxy { port }
    }
}

/// `--cert`/`--key` of the good client and the test roots (servers' and client's) as the only
/// trust.
fn identity_and_test_roots() -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec!["--cert".into(), pki("client-chain.pem").into()];
    a.extend(["--key".into(), pki("client.key").into()]);
    a.extend(["--trust".into(), pki("server-root.pem").into()]);
    a.extend(["--trust".into(), pki("root.pem").into()]);
    a.push("--no-system-trust".into());
    a
}

/// A run that failed on TLS interception: its findings and the TLS step of `login`.
fn intercepted_tls(out: &std::process::Output) -> (Vec<serde_json::Value>, serde_json::Value) {
    assert_eq!(out.status.code(), Some(1));
    let fs = json_findings(&out.stdout);
    let tls = jget(&fs, "net.login.tls").clone();
    assert_eq!(tls["status"], "fail", "{tls}");
    assert_eq!(tls["section"], "1-3 (5)-(8)");
    (fs, tls)
}

fn json_findings(stdout: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)));
    v["findings"].as_array().unwrap().clone()
}

fn jget<'a>(fs: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    fs.iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {fs:?}"))
}

// ---------------------------------------------------------------- CONNECT tunnel

#[test]
fn tinyproxy_tunnel_carries_the_servers_own_chain() {
    let n = Nginx::start();
    let tp = Tinyproxy::start(None);
    let chain = chain_via(&tp.url(), n.open_port);
    assert!(!chain.is_empty());
    assert_eq!(
        detect_interception(&chain, "localhost", &roots(), None),
        Interception::None
    );
    assert!(tp.log().contains("CONNECT"), "{}", tp.log());
}

#[test]
fn tinyproxy_basic_auth_is_sent_and_refusals_are_told_apart() {
    let n = Nginx::start();
    let tp = Tinyproxy::start(Some(("alice", "s3cret")));
    let url = format!("http://127.0.0.1:{}", tp.port);
    match tunnel(&url, n.open_port) {
        Err(ProxyError::AuthRequired {
            sent_credentials,
            scheme,
            ..
        }) => {
            assert!(!sent_credentials);
            assert_eq!(scheme, "Basic");
        }
        other => panic!("{other:?}"),
    }
    let wrong = format!("http://alice:wrong@127.0.0.1:{}", tp.port);
    match tunnel(&wrong, n.open_port) {
        Err(e @ ProxyError::AuthRequired { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("refused"), "{msg}");
            assert!(!msg.contains("wrong"), "password in message: {msg}");
        }
        other => panic!("{other:?}"),
    }
    let right = format!("http://alice:s3cret@127.0.0.1:{}", tp.port);
    tunnel(&right, n.open_port).expect("tunnel with credentials");
}

#[test]
fn proxy_down_refusing_or_unable_to_reach_are_different_errors() {
    let n = Nginx::start();
    let closed = crate::support::free_port();
    assert!(matches!(
        tunnel(&format!("http://127.0.0.1:{closed}"), n.open_port),
        Err(ProxyError::Unreachable { .. })
    ));
    // A proxy that allows CONNECT to port 443 only refuses our port.
    let strict = Tinyproxy::start_with(None, "ConnectPort 443\n");
    match tunnel(&strict.url(), n.open_port) {
        Err(ProxyError::Refused { status, .. }) => assert_eq!(status, 403),
        other => panic!("{other:?}"),
    }
    // The proxy is fine but the target port is closed.
    let tp = Tinyproxy::start(None);
    match tunnel(&tp.url(), closed) {
        Err(ProxyError::TargetUnreachable { status, .. }) => assert!(status >= 500),
        other => panic!("{other:?}"),
    }
    // A proxy that never answers is cut off by the timeout.
    let silent = crate::support::SilentServer::start();
    let p = ProxyUrl::parse(&format!("http://127.0.0.1:{}", silent.port)).unwrap();
    let start = Instant::now();
    let r = rt().block_on(connect_tunnel(
        &p,
        "localhost",
        n.open_port,
        Duration::from_millis(500),
    ));
    assert!(matches!(r, Err(ProxyError::Timeout { .. })), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

// ---------------------------------------------------------------- the endpoint flow

#[test]
fn log_in_through_tinyproxy_works_and_warns_about_the_proxy() {
    let n = Nginx::start();
    let tp = Tinyproxy::start(None);
    let p = profile(n.verify_port, n.open_port);
    let fs = check(&p.profile, &via(&tp.url()), Duration::from_secs(10));
    let all = show(&fs);
    let proxy = get(&fs, "net.login.proxy");
    assert_eq!(proxy.status, Status::Warn, "{all}");
    assert_eq!(proxy.section.as_deref(), Some("1-3 (5)-(8)"));
    assert!(proxy.detail.en.contains("localhost"), "{all}");
    assert_eq!(get(&fs, "net.login.tcp").status, Status::Pass, "{all}");
    assert!(get(&fs, "net.login.tcp").detail.en.contains("tunnel"));
    let tls = get(&fs, "net.login.tls");
    assert_eq!(tls.status, Status::Pass, "{all}");
    // The certificate through the tunnel is the one nginx shows directly.
    assert_eq!(tls.data["direct_comparison"]["result"], "same", "{all}");
    assert!(tls.detail.en.contains("same certificate"), "{all}");
    assert_eq!(get(&fs, "net.login.http").status, Status::Pass, "{all}");
    let v = get(&fs, "net.login.versions");
    assert_eq!(v.status, Status::Pass, "{all}");
    assert!(v.data["address"].as_str().unwrap().contains("via proxy"));
    // The client certificate went through the tunnel and reached nginx.
    assert!(n.access_log().contains("login.html"), "{}", n.access_log());
}

#[test]
fn log_in_through_tinyproxy_with_credentials_never_shows_them() {
    let n = Nginx::start();
    let tp = Tinyproxy::start(Some(("alice", "pw-9f3k")));
    let p = profile(n.verify_port, n.open_port);
    let url = format!("http://alice:pw-9f3k@127.0.0.1:{}", tp.port);
    let fs = check(&p.profile, &via(&url), Duration::from_secs(10));
    assert_eq!(
        get(&fs, "net.login.http").status,
        Status::Pass,
        "{}",
        show(&fs)
    );
    let dump = format!("{fs:?}");
    assert!(!dump.contains("pw-9f3k"), "password leaked");

    let bad = format!("http://alice:nope-77@127.0.0.1:{}", tp.port);
    let fs = check(&p.profile, &via(&bad), Duration::from_secs(10));
    let f = get(&fs, "net.login.proxy");
    assert_eq!(f.status, Status::Fail, "{}", show(&fs));
    assert_eq!(f.data["error"], "proxy_auth_required");
    assert_eq!(
        get(&fs, "net.login.tcp").consequence_of.as_deref(),
        Some("net.login.proxy")
    );
    assert!(!format!("{fs:?}").contains("nope-77"), "password leaked");
}

#[test]
fn local_dns_failure_does_not_stop_a_proxied_probe() {
    let n = Nginx::start();
    let px = OwnDnsProxy::start();
    let p = profile_for("nowhere.test", n.verify_port, n.open_port);
    let mut a = via(&format!("http://127.0.0.1:{}", px.port));
    // A DNS server that is not there: the local lookup of `nowhere.test` fails; the proxy
    // knows the name.
    a.resolver = Some(format!("127.0.0.1:{}", crate::support::free_udp_tcp_port()));
    let fs = check(&p.profile, &a, Duration::from_secs(10));
    let dns = get(&fs, "net.login.dns");
    assert_eq!(dns.status, Status::Info, "{}", show(&fs));
    assert!(dns.detail.en.contains("the proxy"), "{}", dns.detail.en);
    // The tunnel opened by name and the server answered through it. (Its certificate names
    // `*.test`, a wildcard right under a top-level name, which webpki rightly refuses: the TLS
    // step's verdict on the name is not what this test is about.)
    assert_eq!(
        get(&fs, "net.login.tcp").status,
        Status::Pass,
        "{}",
        show(&fs)
    );
    assert_ne!(
        get(&fs, "net.login.tls").status,
        Status::Skip,
        "{}",
        show(&fs)
    );
    assert_eq!(
        get(&fs, "net.login.versions").status,
        Status::Pass,
        "{}",
        show(&fs)
    );
}

#[test]
fn mitmproxy_interception_is_detected() {
    let n = Nginx::start();
    let m = Mitm::start(&pki("server-root.pem"));
    // Library: the chain through mitmproxy is issued by mitmproxy's own CA.
    let chain = chain_via(&m.url(), n.open_port);
    match detect_interception(&chain, "localhost", &roots(), None) {
        Interception::Detected {
            issuer, product, ..
        } => {
            assert!(issuer.contains("CN=mitmproxy"), "{issuer}");
            assert_eq!(product, Some("mitmproxy"));
        }
        other => panic!("not detected: {other:?}"),
    }
    // The endpoint flow: the TLS step fails with the proxy section, naming mitmproxy.
    let p = profile(n.verify_port, n.open_port);
    let start = Instant::now();
    let fs = check(&p.profile, &via(&m.url()), Duration::from_secs(10));
    assert!(start.elapsed() < Duration::from_secs(10));
    let tls = get(&fs, "net.login.tls");
    assert_eq!(tls.status, Status::Fail, "{}", show(&fs));
    assert_eq!(tls.section.as_deref(), Some("1-3 (5)-(8)"));
    assert!(tls.detail.en.contains("interception"), "{}", tls.detail.en);
    assert!(tls.fix.as_ref().unwrap().en.contains("mitmproxy"));
    assert_eq!(tls.data["interception"], true);
}

/// A corporate inspection CA, as IT departments install in every machine's trust store: key
/// and certificate in one PEM file (what mitmproxy reads) and the certificate alone.
fn inspection_ca(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let (key, cert) = (dir.join("ca.key"), dir.join("ca.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/O=Example Corp/CN=Example Corp Inspection CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let both = dir.join("mitmproxy-ca.pem");
    let mut pem = std::fs::read(&key).unwrap();
    pem.extend(std::fs::read(&cert).unwrap());
    std::fs::write(&both, pem).unwrap();
    (both, cert)
}

#[test]
fn an_inspection_ca_the_machine_trusts_is_caught_by_the_direct_view() {
    // The proxy's certificates chain to a root in the trust store and carry no product name:
    // only the certificate the server shows directly gives the interception away.
    let n = Nginx::start();
    let tmp = tempfile::tempdir().unwrap();
    let (ca_both, ca_cert) = inspection_ca(tmp.path());
    let m = Mitm::start_with_ca(&pki("server-root.pem"), &ca_both);
    let chain = chain_via(&m.url(), n.open_port);
    let mut trusted = roots();
    for c in CertificateDer::pem_file_iter(&ca_cert).unwrap() {
        trusted.add(c.unwrap()).unwrap();
    }
    assert_eq!(
        detect_interception(&chain, "localhost", &trusted, None),
        Interception::None,
        "the proxied chain alone must look clean for this test to mean anything"
    );

    let p = profile(n.verify_port, n.open_port);
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["--timeout", "8s"])
        .args(["check", "--endpoint", "login"])
        .args(["--proxy", &m.url()])
        .arg("--trust")
        .arg(&ca_cert)
        .args(identity_and_test_roots())
        .output()
        .unwrap();
    let (_, tls) = intercepted_tls(&out);
    assert_eq!(tls["data"]["interception"], true, "{tls}");
    assert!(
        tls["data"]["issuer"]
            .as_str()
            .unwrap()
            .contains("Example Corp Inspection CA"),
        "{tls}"
    );
    assert_eq!(
        tls["data"]["direct_comparison"]["result"], "different",
        "{tls}"
    );
    assert!(
        tls["data"]["direct_comparison"]["direct_issuer"]
            .as_str()
            .unwrap()
            .contains("certprobe Test Public Root"),
        "{tls}"
    );
    assert!(
        tls["detail"].as_str().unwrap().contains("directly"),
        "{tls}"
    );
    assert!(
        tls["fix"]
            .as_str()
            .unwrap()
            .contains("Example Corp Inspection CA"),
        "{tls}"
    );
}

// ---------------------------------------------------------------- the binary

#[test]
fn binary_reports_env_proxy_and_hides_credentials() {
    let p = profile(1, 2);
    let out = certprobe()
        .env("HTTPS_PROXY", "http://bob:hunter2@127.0.0.1:3128")
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["check", "--only", "environment"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!stdout.contains("hunter2"), "password printed: {stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    let fs = json_findings(&out.stdout);
    let f = jget(&fs, "env.proxy");
    assert_eq!(f["status"], "warn", "{f}");
    assert_eq!(f["section"], "1-3 (5)-(8)");
    assert!(f["detail"].as_str().unwrap().contains("HTTPS_PROXY"), "{f}");

    // With NO_PROXY covering the certificate hosts: pass.
    let out = certprobe()
        .env("HTTPS_PROXY", "http://127.0.0.1:3128")
        .env("NO_PROXY", "localhost,127.0.0.1,.test")
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["check", "--only", "environment"])
        .output()
        .unwrap();
    let fs = json_findings(&out.stdout);
    assert_eq!(jget(&fs, "env.proxy")["status"], "pass");
}

#[test]
fn binary_check_through_mitmproxy_fails_with_interception() {
    let n = Nginx::start();
    let m = Mitm::start(&pki("server-root.pem"));
    let p = profile(n.verify_port, n.open_port);
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["--timeout", "8s"])
        .args(["check", "--only", "network", "--endpoint", "login"])
        .args(["--proxy", &m.url()])
        .output()
        .unwrap();
    let (fs, _) = intercepted_tls(&out);
    assert_eq!(jget(&fs, "net.login.proxy")["status"], "warn");
}

#[test]
fn binary_proxy_unreachable() {
    let p = profile(1, 2);
    let closed = crate::support::free_port();
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["check", "--only", "network", "--endpoint", "login"])
        .args(["--proxy", &format!("http://127.0.0.1:{closed}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let fs = json_findings(&out.stdout);
    let f = jget(&fs, "net.login.proxy");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["data"]["error"], "proxy_unreachable");
}

#[test]
fn binary_healthy_log_in_through_tinyproxy() {
    let n = Nginx::start();
    let tp = Tinyproxy::start(None);
    let p = profile(n.verify_port, n.open_port);
    let out = certprobe()
        .args(["--profile", p.path.to_str().unwrap(), "--format", "json"])
        .args(["check", "--endpoint", "login"])
        .args(["--proxy", &tp.url()])
        .args(identity_and_test_roots())
        .output()
        .unwrap();
    let fs = json_findings(&out.stdout);
    assert_eq!(jget(&fs, "env.proxy")["status"], "warn", "{fs:?}");
    assert_eq!(jget(&fs, "net.login.proxy")["status"], "warn");
    assert_eq!(jget(&fs, "net.login.tcp")["status"], "pass");
    assert_eq!(jget(&fs, "net.login.tls")["status"], "pass", "{fs:?}");
    assert_eq!(jget(&fs, "net.login.versions")["status"], "pass");
    assert_eq!(jget(&fs, "net.login.http")["status"], "pass");
    // Warnings only: exit 0; --strict would make them count.
    let fails: Vec<_> = fs.iter().filter(|f| f["status"] == "fail").collect();
    assert!(fails.is_empty(), "{fails:?}");
    assert_eq!(out.status.code(), Some(0));
}

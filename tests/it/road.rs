//! One road to the network: every outgoing connection — a redirect hop, the CRL download, the
//! CA (AIA) download, `fetch-ca`, the log-in form — takes the route the proxy settings give.
//!
//! The set-up tells a direct connection from a proxied one without trusting certprobe's own
//! account: tinyproxy makes its outgoing connections from 127.0.0.5 (`Bind`), so each test
//! server counts the connections that came from anywhere else — direct ones. Zero direct
//! connections, the request answered by the server and the request in tinyproxy's log mean the
//! connection went through the proxy. A control test shows that the count sees direct
//! connections when there is no proxy.

use crate::support::certprobe;
use crate::support::dnsmasq::Dnsmasq;
use crate::support::tinyproxy::Tinyproxy;
use certprobe::finding::{Finding, Phase, Status, Text};
use certprobe::net::NetOptions;
use certprobe::probe::{CheckOptions, LocalOutcome, LoginOptions};
use certprobe::profile::Profile;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- the set-up

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The address tinyproxy's outgoing connections come from (its `Bind` setting).
const PROXY_SOURCE: &str = "127.0.0.5";

/// A server on 127.0.0.1 that counts the connections that did not come from the proxy.
struct Site {
    port: u16,
    real: Option<TcpListener>,
    direct: Arc<AtomicUsize>,
    proxied: Arc<AtomicUsize>,
}

impl Site {
    fn new() -> Site {
        let real = TcpListener::bind("127.0.0.1:0").unwrap();
        Site {
            port: real.local_addr().unwrap().port(),
            real: Some(real),
            direct: Arc::new(AtomicUsize::new(0)),
            proxied: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn direct_connections(&self) -> usize {
        self.direct.load(Ordering::SeqCst)
    }

    fn proxied_connections(&self) -> usize {
        self.proxied.load(Ordering::SeqCst)
    }

    fn count(&self, s: &TcpStream) {
        let from_proxy = s
            .peer_addr()
            .is_ok_and(|a| a.ip().to_string() == PROXY_SOURCE);
        let counter = if from_proxy {
            &self.proxied
        } else {
            &self.direct
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    fn counters(&self) -> Site {
        Site {
            port: self.port,
            real: None,
            direct: self.direct.clone(),
            proxied: self.proxied.clone(),
        }
    }

    /// Serve plain HTTP with `answer` on the real listener; returns the request lines seen.
    fn serve_http(&mut self, answer: Handler) -> Arc<Mutex<Vec<String>>> {
        let l = self.real.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let counters = self.counters();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                counters.count(&s);
                let answer = answer.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    if let Some(req) = read_request(&mut s) {
                        log.lock().unwrap().push(req.line.clone());
                        let _ = s.write_all(&answer(&req));
                    }
                });
            }
        });
        seen
    }

    /// Serve HTTPS (client certificate required when `client_ca` is given).
    fn serve_https(
        &mut self,
        config: Arc<rustls::ServerConfig>,
        answer: Handler,
    ) -> Arc<Mutex<Vec<String>>> {
        let l = self.real.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let counters = self.counters();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                counters.count(&s);
                let answer = answer.clone();
                let log = log.clone();
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, s);
                    if let Some(req) = read_request(&mut tls) {
                        log.lock().unwrap().push(req.line.clone());
                        let _ = tls.write_all(&answer(&req));
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                });
            }
        });
        seen
    }
}

struct Request {
    line: String,
    head: String,
    body: Vec<u8>,
}

type Handler = Arc<dyn Fn(&Request) -> Vec<u8> + Send + Sync>;

fn read_request(s: &mut impl Read) -> Option<Request> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&got[..end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = got[end..].to_vec();
    while body.len() < len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some(Request {
        line: head.lines().next().unwrap_or("").to_string(),
        head,
        body,
    })
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn ok(content_type: &'static str, body: Vec<u8>) -> Handler {
    Arc::new(move |_| response("200 OK", &[("Content-Type", content_type)], &body))
}

/// tinyproxy with its outgoing connections from [`PROXY_SOURCE`], and a DNS server for
/// certprobe (`localhost` → 127.0.0.1).
struct Net {
    proxy: Tinyproxy,
    dns: Dnsmasq,
}

impl Net {
    fn start() -> Net {
        Net {
            proxy: Tinyproxy::start_with(None, &format!("Bind {PROXY_SOURCE}\n")),
            dns: Dnsmasq::start(&["--host-record=localhost,127.0.0.1"]),
        }
    }

    fn args(&self) -> NetOptions {
        NetOptions {
            proxy: Some(self.proxy.url()),
            resolver: Some(self.dns.addr()),
            ..Default::default()
        }
    }

    /// The proxy carried a request for `localhost:port`, and the server saw it come from the
    /// proxy and nothing else.
    fn assert_proxied(&self, site: &Site) {
        let port = site.port;
        assert_eq!(site.direct_connections(), 0, "direct connections to {port}");
        assert!(
            site.proxied_connections() >= 1,
            "no proxied connection to {port}"
        );
        let log = self.proxy.log();
        assert!(
            log.contains(&format!("localhost:{port}")),
            "tinyproxy saw no request for localhost:{port}:\n{log}"
        );
    }
}

/// A test PKI: a CA, a client certificate (with a CRL distribution point when given), and
/// the CA's CRL.
struct Pki {
    ca_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    local: LocalOutcome,
    crl: Vec<u8>,
}

fn pki(crl_url: Option<&str>) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "road test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "S470000001");
    leaf.serial_number = Some(SerialNumber::from(77u64));
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if let Some(u) = crl_url {
        leaf.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![u.to_string()],
        }];
    }
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = CertificateRevocationListParams {
        this_update: now - time::Duration::hours(1),
        next_update: now + time::Duration::days(1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
    let ck = rustls::sign::CertifiedKey::new(vec![leaf_cert.der().clone()], signer);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    Pki {
        ca_der: ca_cert.der().to_vec(),
        issuer,
        local: LocalOutcome {
            findings: vec![],
            client: Some(Arc::new(ck)),
            client_issuer: None,
            roots: Arc::new(roots),
        },
        crl: crl.der().to_vec(),
    }
}

impl Pki {
    /// A server configuration for `localhost` that requires a client certificate of this CA.
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der.clone()))
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Arc::new(cfg)
    }
}

/// A profile whose one endpoint `page` is `endpoint_url`, plus `extra` TOML.
fn profile_text(endpoint_url: &str, extra: &str) -> String {
    format!(
        r#"name = "road"
title = "road test"

[client_cert]
subject_pattern = "S47*"

[certificate_hosts]
allow = ["localhost"]

[[endpoint]]
id = "page"
title = {{ en = "Page", ja = "ページ" }}
url = "{endpoint_url}"
client_cert = false
section = "2-1"
{extra}"#
    )
}

fn probe(p: &Profile, args: &NetOptions, local: &LocalOutcome) -> Vec<Finding> {
    rt().block_on(certprobe::net::probe_endpoints(
        p,
        args,
        local,
        Instant::now() + Duration::from_secs(20),
    ))
    .unwrap()
}

fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
    fs.iter().find(|f| f.id == id).unwrap_or_else(|| {
        panic!(
            "no finding {id}; have:\n{}",
            fs.iter()
                .map(|f| format!("{} {} {}", f.id, f.status, f.detail.en))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// A plain page site for the endpoint every probe run also visits.
fn page_site() -> Site {
    let mut s = Site::new();
    s.serve_http(ok("text/html", b"<p>ok</p>".to_vec()));
    s
}

// ---------------------------------------------------------------- the paths

#[test]
fn redirect_hop_goes_through_the_proxy() {
    let net = Net::start();
    let mut target = Site::new();
    let target_seen = target.serve_http(ok("text/html", b"<p>arrived</p>".to_vec()));
    let mut start = Site::new();
    let to = format!("http://localhost:{}/next?page=2", target.port);
    start.serve_http(Arc::new(move |_| {
        response("302 Found", &[("Location", to.as_str())], b"")
    }));
    let url = format!("http://localhost:{}/start", start.port);
    let p = Profile::parse(&profile_text(&url, ""), "road.toml").unwrap();
    let nobody = LocalOutcome {
        findings: vec![],
        client: None,
        client_issuer: None,
        roots: Arc::new(rustls::RootCertStore::empty()),
    };
    let fs = probe(&p, &net.args(), &nobody);
    let http = get(&fs, "net.page.http");
    assert_eq!(http.status, Status::Pass, "{}", http.detail.en);
    assert_eq!(http.data["redirects"].as_array().unwrap().len(), 1);
    assert_eq!(
        target_seen.lock().unwrap().as_slice(),
        ["GET /next?page=2 HTTP/1.1"]
    );
    assert_eq!(start.direct_connections(), 0);
    assert_eq!(target.direct_connections(), 0);
    net.assert_proxied(&start);
    net.assert_proxied(&target);
}

/// The control: without the proxy the servers count certprobe's connections as direct (so a
/// zero there means something), and tinyproxy sees nothing.
#[test]
fn without_the_proxy_the_servers_count_direct_connections() {
    let net = Net::start();
    let page = page_site();
    let mut crl_site = Site::new();
    let crl_url = format!("http://localhost:{}/ca.crl", crl_site.port);
    let good = pki(Some(&crl_url));
    let seen = crl_site.serve_http(ok("application/pkix-crl", good.crl.clone()));
    let endpoint = format!("http://localhost:{}/", page.port);
    let p = Profile::parse(&profile_text(&endpoint, ""), "road.toml").unwrap();
    let args = NetOptions {
        proxy: None,
        no_proxy: true,
        ..net.args()
    };
    let fs = probe(&p, &args, &good.local);
    assert_eq!(get(&fs, "net.revocation").status, Status::Pass);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(crl_site.direct_connections() >= 1);
    assert!(page.direct_connections() >= 1);
    assert_eq!(
        crl_site.proxied_connections() + page.proxied_connections(),
        0
    );
    assert!(!net
        .proxy
        .log()
        .contains(&format!("localhost:{}", crl_site.port)));
}

#[test]
fn crl_download_goes_through_the_proxy_and_an_unparsable_crl_is_told_apart() {
    let net = Net::start();
    let page = page_site();
    let endpoint = format!("http://localhost:{}/", page.port);
    let p = Profile::parse(&profile_text(&endpoint, ""), "road.toml").unwrap();

    let mut crl_site = Site::new();
    let crl_url = format!("http://localhost:{}/ca.crl", crl_site.port);
    let good = pki(Some(&crl_url));
    let seen = crl_site.serve_http(ok("application/pkix-crl", good.crl.clone()));
    let fs = probe(&p, &net.args(), &good.local);
    let f = get(&fs, "net.revocation");
    assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
    assert_eq!(f.data["result"], "checked");
    assert_eq!(seen.lock().unwrap().as_slice(), ["GET /ca.crl HTTP/1.1"]);
    assert_eq!(crl_site.direct_connections(), 0);
    assert_eq!(page.direct_connections(), 0);
    net.assert_proxied(&crl_site);

    // Fetched, but not a CRL: said so, not "could not be fetched".
    let mut junk_site = Site::new();
    let junk_url = format!("http://localhost:{}/ca.crl", junk_site.port);
    let junk = pki(Some(&junk_url));
    junk_site.serve_http(ok("text/html", b"<html>proxy login</html>".to_vec()));
    let fs = probe(&p, &net.args(), &junk.local);
    let f = get(&fs, "net.revocation");
    assert_eq!(f.status, Status::Warn, "{}", f.detail.en);
    assert_eq!(f.data["result"], "unparsable");
    assert!(f.detail.en.contains("cannot be read"), "{}", f.detail.en);
    assert!(
        !f.detail.en.contains("could not be fetched"),
        "{}",
        f.detail.en
    );
    assert_eq!(junk_site.direct_connections(), 0);
    net.assert_proxied(&junk_site);

    // Nothing there at all: could not be fetched, with a machine code.
    let dead = pki(Some("http://localhost:1/ca.crl"));
    let fs = probe(&p, &net.args(), &dead.local);
    let f = get(&fs, "net.revocation");
    assert_eq!(f.status, Status::Warn, "{}", f.detail.en);
    assert_eq!(f.data["result"], "fetch_failed");
    assert!(f.data["error"].is_string(), "{:?}", f.data);
}

#[test]
fn aia_download_of_a_missing_intermediate_goes_through_the_proxy() {
    let net = Net::start();
    let page = page_site();
    let good = pki(None);
    let mut ca_site = Site::new();
    let seen = ca_site.serve_http(ok("application/pkix-cert", good.ca_der.clone()));
    let endpoint = format!("http://localhost:{}/", page.port);
    let extra = format!(
        "\n[[ca]]\nrole = \"intermediate\"\nname = \"road test CA\"\nurl = \"http://localhost:{}/ca.cer\"\n",
        ca_site.port
    );
    let p = Profile::parse(&profile_text(&endpoint, &extra), "road.toml").unwrap();
    let mut local = good.local.clone();
    local.findings.push(
        Finding::new(
            "trust.intermediate",
            Phase::Local,
            Text::same("Intermediate CA certificate"),
            "client.pem",
        )
        .fail(Text::same("missing")),
    );
    let fs = probe(&p, &net.args(), &local);
    let f = get(&fs, "net.ca_fetch");
    // Downloaded and checked: it issued the certificate (a warning: it is missing locally).
    assert_eq!(f.status, Status::Warn, "{}", f.detail.en);
    assert!(f.detail.en.contains("fetch-ca"), "{}", f.detail.en);
    assert_eq!(seen.lock().unwrap().as_slice(), ["GET /ca.cer HTTP/1.1"]);
    assert_eq!(ca_site.direct_connections(), 0);
    net.assert_proxied(&ca_site);
}

#[test]
fn binary_fetch_ca_goes_through_the_proxy() {
    let net = Net::start();
    let good = pki(None);
    let mut ca_site = Site::new();
    let seen = ca_site.serve_http(ok("application/pkix-cert", good.ca_der.clone()));
    let sha: String = ring::digest::digest(&ring::digest::SHA256, &good.ca_der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let extra = format!(
        "\n[[ca]]\nrole = \"root\"\nname = \"road test CA\"\nurl = \"http://localhost:{}/ca.cer\"\nsha256 = \"{sha}\"\n",
        ca_site.port
    );
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("road.toml");
    std::fs::write(&prof, profile_text("http://localhost:1/", &extra)).unwrap();
    let out_dir = dir.path().join("cas");
    let out = certprobe()
        .arg("--profile")
        .arg(&prof)
        .args(["--format", "json", "fetch-ca", "--out"])
        .arg(&out_dir)
        .args(["--proxy", &net.proxy.url(), "--resolver", &net.dns.addr()])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "fetch_ca.1")
        .unwrap();
    assert_eq!(f["status"], "pass", "{f}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(out_dir.join("road_test_CA.cer")).unwrap(),
        good.ca_der
    );
    assert_eq!(seen.lock().unwrap().as_slice(), ["GET /ca.cer HTTP/1.1"]);
    assert_eq!(ca_site.direct_connections(), 0);
    net.assert_proxied(&ca_site);
}

/// The form of a service that answers the POST with 302 + Set-Cookie and shows the welcome
/// page only to a request that brings the cookie back.
fn login_form() -> Handler {
    Arc::new(|req: &Request| {
        if req.line.starts_with("POST /login ") {
            let body = String::from_utf8_lossy(&req.body);
            if body.contains("user=S470000001") && body.contains("pass=pw%26secret") {
                return response(
                    "302 Found",
                    &[
                        ("Location", "/home"),
                        ("Set-Cookie", "sid=road42; Path=/; Secure; HttpOnly"),
                    ],
                    b"",
                );
            }
            return response(
                "200 OK",
                &[("Content-Type", "text/html; charset=utf-8")],
                "<p>エラーコード：44</p>".as_bytes(),
            );
        }
        if req.line.starts_with("GET /home ") {
            let has_cookie = req
                .head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("cookie:") && l.contains("sid=road42"));
            let page = if has_cookie {
                "<p>ようこそ S470000001 さん</p>"
            } else {
                "<p>エラーコード：42</p>"
            };
            return response(
                "200 OK",
                &[("Content-Type", "text/html; charset=utf-8")],
                page.as_bytes(),
            );
        }
        response("404 Not Found", &[], b"")
    })
}

fn login(net_args: NetOptions, site_port: u16, good: &Pki) -> Finding {
    let extra = format!(
        "\n[login]\nurl = \"https://localhost:{site_port}/login\"\nuser_field = \"user\"\npassword_field = \"pass\"\nsuccess_pattern = \"ようこそ\"\n"
    );
    let p = Profile::parse(
        &profile_text(&format!("https://localhost:{site_port}/"), &extra),
        "road.toml",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw&secret\n").unwrap();
    // The log-in runs from the check's options: the same route as the endpoint probes.
    let args = CheckOptions {
        net: NetOptions {
            resolver: net_args.resolver,
            proxy: net_args.proxy,
            no_proxy: net_args.no_proxy,
            ..Default::default()
        },
        login: LoginOptions {
            enabled: true,
            user: Some("S470000001".into()),
            password_file: Some(pw),
            ..Default::default()
        },
        ..Default::default()
    };
    let prepared = certprobe::probe::login::prepare(&p, &args)
        .unwrap()
        .expect("login prepared");
    rt().block_on(certprobe::probe::login::run(
        &p,
        &args,
        &good.local,
        prepared,
        Instant::now() + Duration::from_secs(20),
    ))
    .unwrap()
}

#[test]
fn login_follows_302_with_its_cookie_through_the_proxy() {
    let net = Net::start();
    let good = pki(None);
    let mut site = Site::new();
    let seen = site.serve_https(good.server_config(), login_form());
    let f = login(net.args(), site.port, &good);
    assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["POST /login HTTP/1.1", "GET /home HTTP/1.1"]
    );
    assert_eq!(site.direct_connections(), 0);
    net.assert_proxied(&site);
}

#[test]
fn login_without_a_proxy_detects_success_after_302_and_set_cookie() {
    // Without the proxy the connection goes direct: the DNS server here answers with the
    // real server's address.
    let dns = Dnsmasq::start(&["--host-record=localhost,127.0.0.1"]);
    let good = pki(None);
    let mut site = Site::new();
    let seen = site.serve_https(good.server_config(), login_form());
    let args = NetOptions {
        resolver: Some(dns.addr()),
        no_proxy: true,
        ..Default::default()
    };
    let f = login(args, site.port, &good);
    assert_eq!(f.status, Status::Pass, "{}", f.detail.en);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_redirect_that_leaves_https_is_a_warning() {
    let dns = Dnsmasq::start(&["--host-record=localhost,127.0.0.1"]);
    let good = pki(None);
    let mut plain = Site::new();
    plain.serve_http(ok("text/html", b"<p>plain</p>".to_vec()));
    let mut site = Site::new();
    let to = format!("http://localhost:{}/plain", plain.port);
    // No client certificate asked for here: a server configuration without client auth.
    let cfg = {
        let key = KeyPair::generate().unwrap();
        let p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = p.signed_by(&key, &good.issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone()],
                    PrivateKeyDer::Pkcs8(key.serialize_der().into()),
                )
                .unwrap(),
        )
    };
    site.serve_https(
        cfg,
        Arc::new(move |_| response("302 Found", &[("Location", to.as_str())], b"")),
    );
    let url = format!("https://localhost:{}/", site.port);
    let p = Profile::parse(&profile_text(&url, ""), "road.toml").unwrap();
    let args = NetOptions {
        resolver: Some(dns.addr()),
        no_proxy: true,
        ..Default::default()
    };
    let fs = probe(&p, &args, &good.local);
    let f = get(&fs, "net.page.http");
    assert_eq!(f.status, Status::Warn, "{}", f.detail.en);
    assert_eq!(f.data["left_https"], true);
    assert!(f.detail.en.contains("left https"), "{}", f.detail.en);
}

// ---------------------------------------------------------------- scale

/// The binary with the open-file limit lowered to `files` (by the shell's `ulimit`), in the
/// clean environment of `support::certprobe`.
fn certprobe_with_file_limit(files: u32, args: &[String]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_certprobe");
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args);
    for var in [
        "CERTPROBE_PROFILE",
        "CERTPROBE_CERT",
        "CERTPROBE_KEY",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "LC_ALL",
        "LC_MESSAGES",
    ] {
        c.env_remove(var);
    }
    c.env("LANG", "C").env("NO_COLOR", "1");
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

/// A profile of `n` https endpoints on `127.0.0.1:port`.
fn many_endpoints(n: usize, port: u16) -> String {
    let mut s = String::from(
        "name = \"many\"\ntitle = \"many endpoints\"\n\n[client_cert]\nsubject_pattern = \"S47*\"\n\n[certificate_hosts]\nallow = [\"127.0.0.1\"]\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "\n[[endpoint]]\nid = \"e{i}\"\ntitle = {{ en = \"E{i}\", ja = \"E{i}\" }}\nurl = \"https://127.0.0.1:{port}/{i}\"\nclient_cert = false\nsection = \"2-1\"\n"
        ));
    }
    s
}

#[test]
fn a_thousand_endpoints_under_ulimit_1024_open_no_more_files_than_allowed() {
    let silent = crate::support::SilentServer::start();
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("many.toml");
    std::fs::write(&prof, many_endpoints(1000, silent.port)).unwrap();
    let start = Instant::now();
    let out = certprobe_with_file_limit(
        1024,
        &[
            "--profile".into(),
            prof.display().to_string(),
            "--format".into(),
            "json".into(),
            "--timeout".into(),
            "3s".into(),
            "check".into(),
            "--only".into(),
            "network".into(),
            "--no-proxy".into(),
        ],
    );
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("Too many open files") && !text.contains("os error 24"),
            "the open-file limit was hit:\n{stderr}"
        );
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: exit {:?}\n{stderr}", out.status.code()));
    let fs = doc["findings"].as_array().unwrap();
    let tcp: Vec<&serde_json::Value> = fs
        .iter()
        .filter(|f| f["id"].as_str().is_some_and(|i| i.ends_with(".tcp")))
        .collect();
    assert_eq!(tcp.len(), 1000, "every endpoint reports its TCP step");
    // The first ones connected (the server accepts), the rest were not reached in time.
    let connected = tcp.iter().filter(|f| f["status"] == "pass").count();
    let bound = certprobe::net::concurrency_bound(1024);
    assert!(connected >= bound, "{connected} connected, bound {bound}");
    let other: Vec<String> = tcp
        .iter()
        .filter(|f| f["status"] != "pass" && f["status"] != "skip")
        .map(|f| format!("{} {} {}", f["id"], f["status"], f["detail"]))
        .collect();
    assert!(other.is_empty(), "{}", other.join("\n"));
    eprintln!("1000 endpoints, ulimit -n 1024, --timeout 3s: {took:?}, {connected} connected");
}

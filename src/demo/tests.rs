//! The simulated service, checked directly with tokio-rustls clients and raw sockets.

use super::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn site(demo: &Demo, id: &str) -> SocketAddr {
    demo.sites.iter().find(|(s, _)| *s == id).unwrap().1
}

fn certs(path: &std::path::Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
}

/// A client config trusting `anchors`, presenting the demo identity when it has one.
fn client_config(demo: &Demo, anchors: &[CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for a in anchors {
        roots.add(a.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match (&demo.args.identity.cert, &demo.args.identity.key) {
        (Some(c), Some(k)) => b
            .with_client_auth_cert(certs(c), PrivateKeyDer::from_pem_file(k).unwrap())
            .unwrap(),
        _ => b.with_no_client_auth(),
    }
}

fn demo_root(demo: &Demo) -> Vec<CertificateDer<'static>> {
    certs(&demo.args.identity.trust[0])
}

/// GET over TLS; returns the status line and the body bytes.
async fn https_get(
    stream: TcpStream,
    config: rustls::ClientConfig,
    path: &str,
) -> io::Result<(String, Vec<u8>)> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, stream).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await?;
    let mut resp = Vec::new();
    tls.read_to_end(&mut resp).await?;
    split_response(&resp)
}

fn split_response(resp: &[u8]) -> io::Result<(String, Vec<u8>)> {
    let end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no head"))?;
    let head = String::from_utf8_lossy(&resp[..end]).to_string();
    Ok((head, resp[end + 4..].to_vec()))
}

async fn get_site(demo: &Demo, id: &str, path: &str) -> io::Result<(String, Vec<u8>)> {
    let stream = TcpStream::connect(site(demo, id)).await?;
    https_get(stream, client_config(demo, &demo_root(demo)), path).await
}

fn sjis(body: &[u8]) -> String {
    encoding_rs::SHIFT_JIS.decode(body).0.into_owned()
}

#[tokio::test]
async fn healthy_sites_accept_the_demo_identity() {
    let demo = Demo::start(Scenario::Healthy).unwrap();
    let (head, body) = get_site(&demo, "login", "/ebunsho/UrlExclusive.do")
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("charset=Shift_JIS"), "{head}");
    assert!(head.contains("Date: "), "{head}");
    let page = sjis(&body);
    assert!(page.contains("ログイン"), "{page}");
    assert!(!page.contains("エラーコード"), "{page}");

    let (head, body) = get_site(&demo, "check", "/scira/doc/pfm20pub/index.html")
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("CN=S47000001"));

    let (head, _) = get_site(
        &demo,
        "signup",
        &format!("/ebunsho/SignUp.do?cd={DEMO_SIGNUP_CODE}"),
    )
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[tokio::test]
async fn error_code_pages_carry_the_guide_codes_in_shift_jis() {
    for (scenario, code) in [
        (Scenario::AccountLocked, "エラーコード：46"),
        (Scenario::SignupIncomplete, "エラーコード：53"),
    ] {
        let demo = Demo::start(scenario).unwrap();
        let (_, body) = get_site(&demo, "login", "/ebunsho/UrlExclusive.do")
            .await
            .unwrap();
        assert!(sjis(&body).contains(code), "{scenario:?}");
        let matched = demo
            .profile
            .pages
            .iter()
            .find(|p| {
                regex::Regex::new(&p.pattern)
                    .unwrap()
                    .is_match(&sjis(&body))
            })
            .map(|p| p.section.clone());
        assert_eq!(matched.as_deref(), scenario.expected().map(|e| e.section));
    }
}

/// The first read after the handshake says whether the server took the certificate (TLS 1.3).
async fn rejected(demo: &Demo) -> bool {
    get_site(demo, "login", "/ebunsho/UrlExclusive.do")
        .await
        .is_err()
}

#[tokio::test]
async fn servers_refuse_what_a_real_server_refuses() {
    for s in [
        Scenario::NoCertificate,
        Scenario::MissingIntermediate,
        Scenario::WrongIssuer,
        Scenario::ExpiredCertificate,
    ] {
        let demo = Demo::start(s).unwrap();
        assert!(rejected(&demo).await, "{s:?}: the server accepted");
        // The issuance site asks for no certificate and always answers.
        let (head, _) = get_site(
            &demo,
            "issuance",
            &format!("/scira/Entrance.jsp?{DEMO_TOKEN}"),
        )
        .await
        .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{s:?}: {head}");
    }
}

#[tokio::test]
async fn server_names_the_issuing_ca_it_accepts() {
    use rustls::client::ResolvesClientCert;
    #[derive(Debug, Default)]
    struct Hints(std::sync::Mutex<Vec<String>>);
    impl ResolvesClientCert for Hints {
        fn resolve(
            &self,
            hints: &[&[u8]],
            _: &[rustls::SignatureScheme],
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            use der::Decode;
            let mut v = self.0.lock().unwrap();
            for h in hints {
                v.push(x509_cert::name::Name::from_der(h).unwrap().to_string());
            }
            None
        }
        fn has_certs(&self) -> bool {
            true
        }
    }
    let demo = Demo::start(Scenario::Healthy).unwrap();
    let hints = Arc::new(Hints::default());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(demo_root(&demo)[0].clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_cert_resolver(hints.clone());
    let stream = TcpStream::connect(site(&demo, "login")).await.unwrap();
    let _ = https_get(stream, config, "/").await;
    let seen = hints.0.lock().unwrap().clone();
    assert!(seen.iter().any(|n| n.contains(pki::INTER_CN)), "{seen:?}");
}

/// A minimal ClientHello record with the given `client_version` (enough for the responder).
fn hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x00, 0x2f]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    let mut hs = vec![0x01, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01, 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

#[tokio::test]
async fn legacy_responder_speaks_only_tls_1_0() {
    let demo = Demo::start(Scenario::LegacyTls).unwrap();
    let addr = site(&demo, "login");
    for (version, want) in [
        (0x0303u16, Some(0x0301u16)),
        (0x0302, Some(0x0301)),
        (0x0301, Some(0x0301)),
        (0x0300, None),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&hello(version)).await.unwrap();
        let mut buf = [0u8; 11];
        s.read_exact(&mut buf[..7]).await.unwrap();
        match want {
            Some(v) => {
                assert_eq!(buf[0], 0x16, "handshake record for {version:#06x}");
                s.read_exact(&mut buf[7..11]).await.unwrap();
                assert_eq!(buf[5], 0x02, "ServerHello");
                assert_eq!(u16::from_be_bytes([buf[9], buf[10]]), v);
            }
            None => assert_eq!(&buf[..7], &[0x15, 3, 1, 0, 2, 2, 40], "alert"),
        }
    }
    // A modern client cannot talk to it at all.
    assert!(rejected(&demo).await);
}

#[tokio::test]
async fn intercepting_proxy_forges_the_server_certificate() {
    let demo = Demo::start(Scenario::ProxyIntercepts).unwrap();
    let proxy = demo.args.net.proxy.clone().unwrap();
    assert!(!demo.args.net.no_proxy);
    let login = site(&demo, "login");
    let connect = |addr: SocketAddr| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("CONNECT {login} HTTP/1.1\r\nHost: {login}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let head = server::read_head(&mut s).await.unwrap();
        assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 200"));
        s
    };
    let proxy_addr: SocketAddr = proxy.trim_start_matches("http://").parse().unwrap();

    // Trusting only the demo root, the forged chain is refused.
    let s = connect(proxy_addr).await;
    let err = https_get(
        s,
        client_config(&demo, &demo_root(&demo)),
        "/ebunsho/UrlExclusive.do",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // Trusting the gateway's CA (it sends it along), the handshake works, and the gateway
    // cannot relay the log-in.
    let chain = peer_chain(connect(proxy_addr).await).await;
    assert_eq!(chain.len(), 2);
    let s = connect(proxy_addr).await;
    let (head, _) = https_get(
        s,
        client_config(&demo, &chain[1..]),
        "/ebunsho/UrlExclusive.do",
    )
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
}

/// The chain a server presents, whatever it is (no verification).
async fn peer_chain(stream: TcpStream) -> Vec<CertificateDer<'static>> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    #[derive(Debug)]
    struct AcceptAll;
    impl ServerCertVerifier for AcceptAll {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(AcceptAll))
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), stream)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap().to_vec()
}

#[tokio::test]
async fn repository_serves_the_pinned_ca_certificates() {
    let demo = Demo::start(Scenario::MissingIntermediate).unwrap();
    for ca in &demo.profile.cas {
        let u = crate::profile::parse_url(ca.url.as_deref().unwrap()).unwrap();
        let mut s = TcpStream::connect(u.authority()).await.unwrap();
        s.write_all(format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", u.path).as_bytes())
            .await
            .unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).await.unwrap();
        let (head, body) = split_response(&resp).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(Some(sha256_hex(&body)), ca.sha256, "{}", ca.name);
    }
}

#[test]
fn demo_profile_passes_the_profile_checks() {
    let demo = Demo::start(Scenario::Healthy).unwrap();
    let src = demo.profile.to_toml();
    let parsed = Profile::parse(&src, "<demo>").unwrap();
    assert_eq!(parsed, demo.profile);
    let ids: Vec<_> = parsed.endpoints.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["check", "issuance", "signup", "login"]);
    for e in &parsed.endpoints {
        let u = crate::profile::parse_url(&e.url).unwrap();
        assert_eq!(u.host, "127.0.0.1", "{}", e.url);
    }
    // Files are private, and the identity is where the arguments say.
    assert!(demo.args.identity.no_system_trust);
    assert!(
        demo.args.identity.no_os_stores,
        "the demo leaves the PC's certificate stores alone"
    );
    assert!(demo.args.identity.cert.as_ref().unwrap().exists());
}

#[test]
fn scenarios_parse_and_each_names_its_finding() {
    for s in Scenario::ALL {
        assert_eq!(Scenario::parse(s.name()), Some(s));
        assert!(!s.description(Lang::En).starts_with("demo."), "{s:?}");
        assert!(!s.description(Lang::Ja).starts_with("demo."), "{s:?}");
        if let Some(e) = s.expected() {
            assert!(
                crate::guide::catalogue().find(e.section).is_some(),
                "{}",
                e.section
            );
        }
    }
    assert_eq!(Scenario::parse("Legacy_TLS"), Some(Scenario::LegacyTls));
    assert_eq!(Scenario::parse("nope"), None);
}

#[test]
fn http_dates_are_imf_fixdate() {
    let t = time::macros::datetime!(2026-11-25 07:05:09 UTC);
    assert_eq!(server::http_date(t), "Wed, 25 Nov 2026 07:05:09 GMT");
}

/// `check --login` for real (the probe code, in process) against the demo's log-in form.
async fn login_check(scenario: Scenario, password: &str) -> crate::finding::Finding {
    login_check_with(scenario, password, |_| {}).await
}

async fn login_check_with(
    scenario: Scenario,
    password: &str,
    adjust: impl FnOnce(&mut crate::net::NetOptions),
) -> crate::finding::Finding {
    let mut demo = Demo::start(scenario).unwrap();
    adjust(&mut demo.args.net);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    demo.args.login = crate::probe::LoginOptions {
        enabled: true,
        user: Some(DEMO_USER.into()),
        password_env: None,
        password_file: Some(pw),
    };
    let plan = crate::probe::CheckPlan {
        profile: &demo.profile,
        args: &demo.args,
        timeout: std::time::Duration::from_secs(10),
    };
    let report = crate::probe::run(&plan).await.unwrap();
    let rendered = crate::report::json::render(&report, &Default::default());
    assert!(
        !rendered.contains(password),
        "the password appears in the output"
    );
    report
        .findings
        .into_iter()
        .find(|f| f.id == "net.login.form")
        .expect("a net.login.form finding")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_check_reports_success_and_each_error_code_once() {
    let ok = login_check(Scenario::Healthy, DEMO_PASSWORD).await;
    assert_eq!(ok.status, Status::Pass, "{:?}", ok.detail);
    for (scenario, section) in [
        (Scenario::AccountLocked, "2-2 46"),
        (Scenario::SignupIncomplete, "2-2 53"),
    ] {
        let f = login_check(scenario, DEMO_PASSWORD).await;
        assert_eq!(f.status, Status::Fail, "{scenario:?}");
        assert_eq!(
            f.section.as_deref(),
            Some(section),
            "{scenario:?}: {:?}",
            f.detail
        );
        assert!(f.detail.en.contains("not retried"), "{:?}", f.detail);
    }
    let wrong = login_check(Scenario::Healthy, "not-the-password").await;
    assert_eq!(wrong.status, Status::Fail);
    assert_eq!(wrong.section.as_deref(), Some("2-4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_in_goes_through_the_proxy_as_the_endpoint_probes_do() {
    // The demo's gateway intercepts TLS: routed through it, the log-in cannot complete.
    let via = login_check(Scenario::ProxyIntercepts, DEMO_PASSWORD).await;
    assert_eq!(via.status, Status::Fail, "{:?}", via.detail);
    assert!(
        via.detail.en.contains("TLS handshake failed"),
        "{:?}",
        via.detail
    );
    // The same site without the proxy takes it.
    let direct = login_check_with(Scenario::ProxyIntercepts, DEMO_PASSWORD, |net| {
        net.proxy = None;
        net.no_proxy = true;
    })
    .await;
    assert_eq!(direct.status, Status::Pass, "{:?}", direct.detail);
}

#[test]
fn login_refuses_to_run_without_a_form_or_a_password() {
    let demo = Demo::start(Scenario::Healthy).unwrap();
    let mut args = demo.args.clone();
    args.login = crate::probe::LoginOptions {
        enabled: true,
        user: Some(DEMO_USER.into()),
        ..Default::default()
    };
    let err = crate::probe::login::prepare(&demo.profile, &args)
        .err()
        .unwrap();
    assert!(err.to_string().contains("--login-password"), "{err}");
    let mut no_form = demo.profile.clone();
    no_form.login = None;
    args.login.password_env = Some("PATH".into());
    assert!(crate::probe::login::prepare(&no_form, &args).is_err());
    args.login.enabled = false;
    assert!(crate::probe::login::prepare(&demo.profile, &args)
        .unwrap()
        .is_none());
}

#[test]
fn every_step_of_a_failed_start_has_its_words() {
    let src = include_str!("mod.rs");
    let steps: Vec<&str> = src
        .split("internal(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        // `AppError::internal("errors.demo", …)` names a whole entry, not a step
        .filter(|step| !step.contains('.'))
        .collect();
    assert!(steps.len() >= 7, "{steps:?}");
    for step in steps {
        let key = format!("errors.demo.{step}");
        assert!(
            crate::guide::catalogue().fix_text(&key).is_some(),
            "catalogue has no {key}"
        );
    }
}

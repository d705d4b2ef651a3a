//! The scenario harness for `tests/it/scenarios.rs`: which server answers as the service
//! ([`Peer`]), how the client reaches it ([`Route`]), what the guide expects ([`Scenario`]), and
//! [`check`], which starts everything, runs `certprobe check` and compares the verdict.

use super::dnsmasq::Dnsmasq;
use super::hostile::{Behavior, HostileServer, Http, TestCa};
use super::mitm::Mitm;
use super::nginx::Nginx;
use super::openssl::SServer;
use super::tinyproxy::Tinyproxy;
use super::{certprobe, fill, repo, SilentServer};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Which server answers as the service.
pub enum Peer {
    /// The test nginx; the log-in and check pages are these paths on its client-certificate site.
    Nginx { login: &'static str },
    /// The test nginx's site with a server certificate from a CA nobody trusts.
    NginxUntrusted,
    /// `openssl s_server -www` with the test server certificate and these extra arguments
    /// (`@PKI@` is fixtures/pki, `@TMP@` the scenario's own directory).
    SServer(&'static [&'static str]),
    /// As `SServer`, after `prepare` made files in `@TMP@` (certificates made for the scenario).
    SServerWith {
        prepare: fn(&Path),
        args: &'static [&'static str],
    },
    /// certprobe's own test TLS server (tests/it/support/hostile.rs) on 127.0.0.1, as `make`
    /// builds it; `make` writes the CA it used to `@TMP@/ca.pem`.
    Hostile(fn(&Path) -> Behavior),
    /// Nothing listens on the port.
    Refused,
    /// Accepts connections and never answers.
    Silent,
    /// The log-in host does not resolve (a DNS server started here answers NXDOMAIN).
    NxDomain,
}

/// How the client reaches the peer.
#[derive(Clone, Copy, PartialEq)]
pub enum Route {
    Direct,
    /// Through tinyproxy with `BasicAuth user pass`, no credentials given to certprobe.
    ProxyAuthMissing,
    /// Through tinyproxy that allows CONNECT to port 443 only.
    ProxyPort443Only,
    /// Through a proxy that asks for the Windows sign-in (NTLM, Negotiate) to every request.
    ProxyNtlm,
    /// Through a proxy that answers every request 407 with these `Proxy-Authenticate` schemes.
    Proxy407(&'static [&'static str]),
    /// Through tinyproxy with `BasicAuth user secret`, given the wrong password in the URL.
    ProxyAuthWrong,
    /// Through mitmproxy with its own CA (named "mitmproxy").
    Mitm,
    /// Through mitmproxy minting from a corporate inspection CA that this computer trusts
    /// (`@TMP@/inspection.pem` is given to `--trust`).
    MitmTrustedCorporateCa,
}

/// A proxy on 127.0.0.1 that answers every request with 407 and `Proxy-Authenticate: NTLM`
/// and `Negotiate`, as a Windows domain proxy does. Returns its URL.
fn ntlm_proxy() -> String {
    proxy_407(&["NTLM", "Negotiate"])
}

/// A proxy on 127.0.0.1 that answers every request with 407 and one `Proxy-Authenticate`
/// line per scheme. Returns its URL.
fn proxy_407(schemes: &'static [&'static str]) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
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
            let mut head = b"HTTP/1.1 407 Proxy Authentication Required\r\n".to_vec();
            for scheme in schemes {
                head.extend_from_slice(format!("Proxy-Authenticate: {scheme}\r\n").as_bytes());
            }
            head.extend_from_slice(b"Content-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&head);
        }
    });
    format!("http://127.0.0.1:{port}")
}

pub struct Scenario {
    pub peer: Peer,
    pub route: Route,
    /// certprobe's flags for the identity (`@PKI@` is fixtures/pki).
    pub client: &'static [&'static str],
    /// Anchors for validating servers and the client chain, instead of the default ones.
    pub trust: Option<&'static [&'static str]>,
    /// From the guide: the section a person reads, and the cause in its words.
    pub section: &'static str,
    pub guide_cause: &'static str,
    /// The profile describes the log-in page (title `ログイン`); always so with nginx.
    pub expect_login: bool,
    /// Run certprobe under libfaketime (Debian `faketime`) with this `FAKETIME` offset.
    pub faketime: Option<&'static str>,
    /// Words the first step must not contain (advice that cannot work here).
    pub first_do_excludes: &'static [&'static str],
    /// Serve `@TMP@/ca.crl` over HTTP at the port written into `@TMP@/crl.port` by `prepare`.
    pub serve_crl: bool,
    /// The verdict's cause (a finding id); `None`: nothing failed or warned.
    pub cause: Option<&'static str>,
    pub exit: i32,
}

pub const GOOD: &[&str] = &[
    "--cert",
    "@PKI@/client-chain.pem",
    "--key",
    "@PKI@/client.key",
];
pub const DEFAULT_TRUST: &[&str] = &["@PKI@/root.pem", "@PKI@/server-root.pem"];

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            peer: Peer::Refused,
            route: Route::Direct,
            client: GOOD,
            trust: None,
            section: "",
            guide_cause: "",
            expect_login: false,
            faketime: None,
            first_do_excludes: &[],
            serve_crl: false,
            cause: None,
            exit: 1,
        }
    }
}

pub fn pki_dir() -> String {
    repo().join("fixtures/pki").display().to_string()
}

pub fn expand(s: &str, tmp: &Path) -> String {
    s.replace("@PKI@", &pki_dir())
        .replace("@TMP@", &tmp.display().to_string())
}

/// The loopback test profile pointing at `host:port`.
pub fn profile(
    dir: &Path,
    host: &str,
    port: u16,
    open_port: u16,
    login: &str,
    check: &str,
    expect_login: bool,
) -> PathBuf {
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let text = fill(
        &src,
        &[
            ("HOST", host.to_string()),
            ("PORT_VERIFY", port.to_string()),
            ("PORT_OPEN", open_port.to_string()),
            ("PATH_LOGIN", login.to_string()),
            ("PATH_CHECK", check.to_string()),
        ],
    );
    // The test nginx serves the service's pages: its log-in page is recognised by its title.
    let text = if expect_login {
        text.replace(
            "id = \"login\"\n",
            "id = \"login\"\nexpect = { title = \"ログイン\" }\n",
        )
    } else {
        text
    };
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `openssl req` with a minimal configuration (no default extensions): `args` in `dir`.
pub fn openssl_req(dir: &Path, args: &[&str]) {
    let cnf = dir.join("min.cnf");
    std::fs::write(&cnf, "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n").unwrap();
    let bin = super::need("openssl", "openssl");
    let out = std::process::Command::new(bin)
        .current_dir(dir)
        .arg("req")
        .arg("-config")
        .arg(&cnf)
        .args([
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30"])
        .args(args.iter().map(|a| a.replace("@PKI@", &pki_dir())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl req {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A genuine certificate (trusted root) for another site: other.example.
pub fn other_name_cert(dir: &Path) {
    openssl_req(
        dir,
        &[
            "-keyout",
            "other.key",
            "-out",
            "other.pem",
            "-subj",
            "/CN=other.example",
            "-addext",
            "subjectAltName=DNS:other.example",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-CA",
            "@PKI@/server-root.pem",
            "-CAkey",
            "@PKI@/server-root.key",
        ],
    );
}

/// A server leaf under an intermediate (`inter.pem`) under the trusted server root, with the
/// intermediate's address in its AIA, as public CAs issue them.
pub fn leaf_under_intermediate(dir: &Path) {
    openssl_req(
        dir,
        &[
            "-keyout",
            "inter.key",
            "-out",
            "inter.pem",
            "-subj",
            "/CN=certprobe Test Server CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
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
            "leaf.key",
            "-out",
            "leaf.pem",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "authorityInfoAccess=caIssuers;URI:http://127.0.0.1:9/inter.cer",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-CA",
            "inter.pem",
            "-CAkey",
            "inter.key",
        ],
    );
}

/// A TLS server whose certificate `ca_name` issued, answering every request with `http`; the CA
/// is written to `dir/ca.pem` (to be trusted, as security software installs its root).
pub fn tls_server(dir: &Path, ca_name: &str, request_cert: bool, http: Http) -> Behavior {
    let ca = TestCa::new(ca_name);
    let mut cert = ca.server(
        &["localhost", "127.0.0.1"],
        &[(rcgen::DnType::CommonName, "localhost".to_string())],
        0,
    );
    cert.request_client_cert = request_cert;
    std::fs::write(dir.join("ca.pem"), &cert.ca_pem).unwrap();
    Behavior::Tls {
        cert: std::sync::Arc::new(cert),
        http,
    }
}

/// Answer every HTTP request on `l` with the file at `path` (read at each request).
pub fn serve_file(l: std::net::TcpListener, path: PathBuf) {
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
            let body = std::fs::read(&path).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
}

/// A client certificate S47000099 from the fixture intermediate, naming the CRL served at
/// `crl.port`, and a CRL (`ca.crl` DER, `ca.crl.pem` for the server) that revokes it.
pub fn revoked_client(dir: &Path) {
    let port = std::fs::read_to_string(dir.join("crl.port")).unwrap();
    let crl_dp = format!("crlDistributionPoints=URI:http://127.0.0.1:{port}/ca.crl");
    openssl_req(
        dir,
        &[
            "-keyout",
            "revoked.key",
            "-out",
            "revoked.pem",
            "-subj",
            "/C=JP/O=SECOM Trust Systems CO.,LTD./OU=certprobe test/CN=S47000099",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-addext",
            &crl_dp,
            "-set_serial",
            "0x4d",
            "-CA",
            "@PKI@/inter.pem",
            "-CAkey",
            "@PKI@/inter.key",
        ],
    );
    let mut chain = std::fs::read(dir.join("revoked.pem")).unwrap();
    chain.extend(std::fs::read(repo().join("fixtures/pki/inter.pem")).unwrap());
    std::fs::write(dir.join("revoked-chain.pem"), chain).unwrap();
    // `openssl ca -gencrl` from a one-line database that marks serial 4D revoked.
    std::fs::write(
        dir.join("index.txt"),
        "R\t450101000000Z\t250601000000Z\t4D\tunknown\t/CN=S47000099\n",
    )
    .unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n",
    )
    .unwrap();
    let bin = super::need("openssl", "openssl");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&bin)
            .current_dir(dir)
            .args(args.iter().map(|a| a.replace("@PKI@", &pki_dir())))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "ca",
        "-gencrl",
        "-config",
        "ca.cnf",
        "-keyfile",
        "@PKI@/inter.key",
        "-cert",
        "@PKI@/inter.pem",
        "-out",
        "ca.crl.pem",
    ]);
    run(&[
        "crl",
        "-in",
        "ca.crl.pem",
        "-outform",
        "DER",
        "-out",
        "ca.crl",
    ]);
    // The server checks the whole chain: the root's CRL too (empty).
    std::fs::write(dir.join("index-root.txt"), "").unwrap();
    std::fs::write(
        dir.join("root.cnf"),
        "[ca]\ndefault_ca=c\n[c]\ndatabase=index-root.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n",
    )
    .unwrap();
    run(&[
        "ca",
        "-gencrl",
        "-config",
        "root.cnf",
        "-keyfile",
        "@PKI@/root.key",
        "-cert",
        "@PKI@/root.pem",
        "-out",
        "root.crl.pem",
    ]);
    let mut both = std::fs::read(dir.join("ca.crl.pem")).unwrap();
    both.extend(std::fs::read(dir.join("root.crl.pem")).unwrap());
    std::fs::write(dir.join("crls.pem"), both).unwrap();
}

/// One finding per line, for failure messages.
pub fn listing(doc: &Value) -> String {
    doc["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    format!(
                        "{} {} {} <- {} | {}",
                        f["id"], f["status"], f["section"], f["consequence_of"], f["detail"]
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Start the peer, run `certprobe check`, and compare the verdict with the guide's; the JSON
/// report, for what a scenario checks beyond the verdict.
pub fn check(s: Scenario) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Held until the end of the run: dropping them stops the servers.
    let mut _nginx = None;
    let mut _sserver = None;
    let mut _silent = None;
    let mut _hostile = None;
    let mut _dns = None;
    let mut resolver = None;
    // The certificate check page: the same path as the log-in unless the peer says otherwise.
    let mut check_path = "";
    if s.serve_crl {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std::fs::write(
            dir.join("crl.port"),
            l.local_addr().unwrap().port().to_string(),
        )
        .unwrap();
        serve_file(l, dir.join("ca.crl"));
    }
    let (host, port, open, login) = match &s.peer {
        Peer::Nginx { login } => {
            let n = Nginx::start();
            let r = ("localhost", n.verify_port, n.open_port, *login);
            check_path = "/utf8/login.html";
            _nginx = Some(n);
            r
        }
        Peer::NginxUntrusted => {
            let n = Nginx::start();
            let r = (
                "localhost",
                n.unknown_port,
                n.unknown_port,
                "/utf8/login.html",
            );
            _nginx = Some(n);
            r
        }
        Peer::SServer(args) | Peer::SServerWith { args, .. } => {
            if let Peer::SServerWith { prepare, .. } = &s.peer {
                prepare(dir);
            }
            let mut all: Vec<String> = args.iter().map(|a| expand(a, dir)).collect();
            if !args.contains(&"-cert") {
                all.extend(
                    ["-cert", "@PKI@/server.pem", "-key", "@PKI@/server.key"]
                        .map(|a| expand(a, dir)),
                );
            }
            // `-rev` (an echo server that answers no HTTP) replaces `-www`.
            if !args.contains(&"-rev") {
                all.push("-www".into());
            }
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let srv = SServer::start(&refs);
            let r = ("localhost", srv.port, srv.port, "/");
            _sserver = Some(srv);
            r
        }
        Peer::Hostile(make) => {
            let srv = HostileServer::start("127.0.0.1", make(dir));
            let r = ("localhost", srv.port(), srv.port(), "/");
            _hostile = Some(srv);
            r
        }
        Peer::Refused => {
            let port = super::free_port();
            ("localhost", port, port, "/")
        }
        Peer::Silent => {
            let srv = SilentServer::start();
            let r = ("localhost", srv.port, srv.port, "/");
            _silent = Some(srv);
            r
        }
        Peer::NxDomain => {
            let d = Dnsmasq::start(&["--address=/#/"]);
            resolver = Some(d.addr());
            _dns = Some(d);
            ("login.test", 443, 443, "/")
        }
    };
    let check_path = if check_path.is_empty() {
        login
    } else {
        check_path
    };
    let expect_login = matches!(s.peer, Peer::Nginx { .. }) || s.expect_login;
    let profile = profile(dir, host, port, open, login, check_path, expect_login);
    let mut cmd = certprobe();
    cmd.arg("--profile")
        .arg(&profile)
        .args(["--format", "json", "--timeout", "6s", "check"]);
    cmd.args(s.client.iter().map(|a| expand(a, dir)));
    for t in s.trust.unwrap_or(DEFAULT_TRUST) {
        cmd.arg("--trust").arg(expand(t, dir));
    }
    cmd.arg("--no-system-trust");
    if let Some(r) = &resolver {
        cmd.args(["--resolver", r]);
    }
    let _proxy = match s.route {
        Route::Direct => None,
        Route::ProxyAuthMissing => Some(Tinyproxy::start(Some(("user", "secret")))),
        Route::ProxyPort443Only => Some(Tinyproxy::start_with(None, "ConnectPort 443\n")),
        Route::ProxyAuthWrong => Some(Tinyproxy::start(Some(("user", "secret")))),
        Route::ProxyNtlm | Route::Proxy407(_) | Route::Mitm | Route::MitmTrustedCorporateCa => None,
    };
    if let Some(p) = &_proxy {
        let url = p.url();
        let url = if s.route == Route::ProxyAuthWrong {
            url.replacen("http://", "http://user:wrong@", 1)
        } else {
            url
        };
        cmd.args(["--proxy", &url]);
    }
    if s.route == Route::ProxyNtlm {
        cmd.args(["--proxy", &ntlm_proxy()]);
    }
    if let Route::Proxy407(schemes) = s.route {
        cmd.args(["--proxy", &proxy_407(schemes)]);
    }
    let upstream = repo().join("fixtures/pki/server-root.pem");
    let _mitm = match s.route {
        Route::Mitm => Some(Mitm::start(&upstream)),
        Route::MitmTrustedCorporateCa => {
            openssl_req(
                dir,
                &[
                    "-keyout",
                    "inspection.key",
                    "-out",
                    "inspection.pem",
                    "-subj",
                    "/O=Example Corp/CN=Example Corp Web Gateway CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            );
            let mut both = std::fs::read(dir.join("inspection.key")).unwrap();
            both.extend(std::fs::read(dir.join("inspection.pem")).unwrap());
            std::fs::write(dir.join("inspection-both.pem"), both).unwrap();
            Some(Mitm::start_with_ca(
                &upstream,
                &dir.join("inspection-both.pem"),
            ))
        }
        _ => None,
    };
    if let Some(m) = &_mitm {
        cmd.args(["--proxy", &m.url()]);
    }
    if let Some(offset) = s.faketime {
        let lib = Path::new("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1");
        assert!(
            lib.is_file(),
            "this scenario needs libfaketime (Debian package `faketime`)"
        );
        cmd.env("LD_PRELOAD", lib).env("FAKETIME", offset);
    }
    let out = cmd.output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let v = &doc["verdict"];
    let why = format!(
        "guide {} ({}); verdict {v:#}\nfindings:\n{}",
        s.section,
        s.guide_cause,
        listing(&doc)
    );
    assert_eq!(v["cause"].as_str(), s.cause, "cause: {why}");
    if s.cause.is_some() {
        assert_eq!(v["section"], s.section, "section: {why}");
        assert!(
            certprobe::guide::catalogue().find(s.section).is_some(),
            "{} is not a guide section",
            s.section
        );
        assert!(v["rule"].as_str().is_some_and(|r| !r.is_empty()), "{why}");
        assert!(
            v["first_action"].as_str().is_some_and(|a| !a.is_empty()),
            "no first step: {why}"
        );
    }
    assert_eq!(out.status.code(), Some(s.exit), "exit code: {why}");
    for word in s.first_do_excludes {
        let first = v["first_action"].as_str().unwrap_or_default();
        assert!(!first.contains(word), "`{word}` in the first step: {why}");
    }
    assert!(
        out.stdout.starts_with(b"{\n  \"verdict\": "),
        "the verdict comes first"
    );
    doc
}

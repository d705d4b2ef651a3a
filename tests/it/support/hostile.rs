//! Hostile and broken servers for tests, on 127.0.0.0/8 only: a tokio runtime of its own in a
//! background thread, one task per connection, everything stopped when the guard is dropped.
//!
//! What a server does is a [`Behavior`]; servers that speak TLS get a certificate made here with
//! rcgen (under a throw-away CA whose PEM the test passes with `--trust`), and count the client
//! certificates presented to them, so a test can assert from the server side what a client sent.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName as TlsName, ServerConfig, SignatureScheme};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a server does with each connection.
#[derive(Clone)]
pub enum Behavior {
    /// Accept and never send a byte (the connection is held open).
    Silent,
    /// Send one byte per second, forever: the start of a TLS record that never completes.
    TrickleTls,
    /// Read the ClientHello, then answer with pseudo-random bytes (and keep sending them).
    RandomBytes,
    /// Read the ClientHello, then close the connection.
    CloseAfterHello,
    /// A TLS server with `cert`, then an HTTP behaviour.
    Tls { cert: Arc<ServerCert>, http: Http },
}

/// What a TLS server answers to an HTTP request.
#[derive(Clone)]
pub enum Http {
    /// A complete response: status line, extra header lines (raw bytes, no CRLF), body.
    Page {
        status: u16,
        headers: Vec<Vec<u8>>,
        body: Vec<u8>,
    },
    /// `200 OK` with no length, then an endless body as fast as the client takes it.
    EndlessBody,
    /// Header lines, forever.
    EndlessHeaders,
    /// The response head, one byte per second.
    TrickleHead,
    /// `302 Found` to this location, on every request.
    Redirect(String),
    /// Complete the handshake, read the request, never answer.
    Silent,
    /// Echo the request's query back: a redirect to `/landing?<query>`, and there a page whose
    /// title and text repeat it (servers do echo per-user codes).
    Echo,
}

/// A server certificate and its key, with the CA that issued it.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The issuing CA, as PEM: what the client is told to trust.
    pub ca_pem: String,
    /// Ask for a client certificate (optional) and count those presented.
    pub request_client_cert: bool,
}

/// A throw-away CA for one test.
pub struct TestCa {
    key: KeyPair,
    params: CertificateParams,
    pub pem: String,
    pub der: CertificateDer<'static>,
}

impl TestCa {
    pub fn new(cn: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            der: cert.der().clone(),
            key,
            params,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses) with the subject `subject`
    /// (a common name, or several attributes), and `extra` copies of the CA appended to the
    /// chain (to make a chain as large as a test needs).
    pub fn server(&self, names: &[&str], subject: &[(DnType, String)], extra: usize) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let mut dn = DistinguishedName::new();
        for (t, v) in subject {
            dn.push(t.clone(), v.as_str());
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let mut chain = vec![cert.der().clone()];
        for _ in 0..extra {
            chain.push(self.der.clone());
        }
        ServerCert {
            chain,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            ca_pem: self.pem.clone(),
            request_client_cert: false,
        }
    }
}

/// What a server saw.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicUsize,
    pub handshakes: AtomicUsize,
    /// Client certificates presented in a handshake (counted before any validation).
    pub client_certs: AtomicUsize,
    pub requests: AtomicUsize,
    pub bytes_sent: AtomicUsize,
}

impl Stats {
    pub fn get(&self, a: &AtomicUsize) -> usize {
        a.load(Ordering::SeqCst)
    }
}

/// A running hostile server.
pub struct HostileServer {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    rt: Option<tokio::runtime::Runtime>,
}

impl HostileServer {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Start on `ip` (some 127.x.y.z) on a free port.
    pub fn start(ip: &str, behavior: Behavior) -> HostileServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let ip: IpAddr = ip.parse().unwrap();
        assert!(ip.is_loopback(), "hostile servers run on loopback only");
        let listener = rt
            .block_on(TcpListener::bind(SocketAddr::new(ip, 0)))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let tls = match &behavior {
            Behavior::Tls { cert, .. } => Some(tls_config(cert, stats.clone())),
            _ => None,
        };
        let st = stats.clone();
        rt.spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                st.connections.fetch_add(1, Ordering::SeqCst);
                let b = behavior.clone();
                let st = st.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, b, tls, st).await;
                });
            }
        });
        HostileServer {
            addr,
            stats,
            stop,
            rt: Some(rt),
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A small deterministic generator (xorshift): noise without a dependency.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed | 1)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

async fn read_some(sock: &mut TcpStream) -> usize {
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
        Ok(Ok(n)) => n,
        _ => 0,
    }
}

async fn serve(
    mut sock: TcpStream,
    behavior: Behavior,
    tls: Option<Arc<ServerConfig>>,
    st: Arc<Stats>,
) -> std::io::Result<()> {
    match behavior {
        Behavior::Silent => {
            // Hold the connection until the client gives up.
            let mut buf = [0u8; 4096];
            while sock.read(&mut buf).await? > 0 {}
            Ok(())
        }
        Behavior::TrickleTls => {
            // A handshake record header announcing 16 KiB, then its body one byte a second.
            let mut bytes = vec![22u8, 3, 3, 0x40, 0x00, 2, 0, 0x3f, 0xfc, 3, 3];
            bytes.extend(std::iter::repeat_n(0x41u8, 16 * 1024));
            for b in bytes {
                sock.write_all(&[b]).await?;
                st.bytes_sent.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Behavior::RandomBytes => {
            read_some(&mut sock).await;
            let mut noise = Noise::new(0x5eed ^ sock.local_addr()?.port() as u64);
            let mut buf = vec![0u8; 16 * 1024];
            // Up to 64 MiB of noise, as fast as the client reads it.
            for _ in 0..4096 {
                noise.fill(&mut buf);
                sock.write_all(&buf).await?;
                st.bytes_sent.fetch_add(buf.len(), Ordering::SeqCst);
            }
            Ok(())
        }
        Behavior::CloseAfterHello => {
            read_some(&mut sock).await;
            drop(sock);
            Ok(())
        }
        Behavior::Tls { http, .. } => {
            let Some(cfg) = tls else { return Ok(()) };
            let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
            let mut s = acceptor.accept(sock).await?;
            st.handshakes.fetch_add(1, Ordering::SeqCst);
            serve_http(&mut s, http, &st).await
        }
    }
}

/// Read one request head (up to 64 KiB); its request target, or `None` at the end.
async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    Ok(Some(target))
}

async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    http: Http,
    st: &Stats,
) -> std::io::Result<()> {
    loop {
        let Some(target) = read_request(s).await? else {
            return Ok(());
        };
        st.requests.fetch_add(1, Ordering::SeqCst);
        match &http {
            Http::Echo => {
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let out = if path.starts_with("/landing") {
                    let body = format!(
                        "<html><head><title>Welcome {query}</title></head><body>Your code: {query}</body></html>"
                    );
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Echo: {query}\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: /landing?{query}\r\nContent-Length: 0\r\n\r\n"
                    )
                };
                s.write_all(out.as_bytes()).await?;
                s.flush().await?;
            }
            Http::Page {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} Whatever\r\n").into_bytes();
                for h in headers {
                    out.extend_from_slice(h);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
                s.write_all(&out).await?;
                s.flush().await?;
                st.bytes_sent.fetch_add(out.len(), Ordering::SeqCst);
            }
            Http::Redirect(loc) => {
                let out =
                    format!("HTTP/1.1 302 Found\r\nLocation: {loc}\r\nContent-Length: 0\r\n\r\n");
                s.write_all(out.as_bytes()).await?;
                s.flush().await?;
            }
            Http::EndlessBody => {
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>")
                    .await?;
                let chunk = vec![b'A'; 64 * 1024];
                loop {
                    s.write_all(&chunk).await?;
                    st.bytes_sent.fetch_add(chunk.len(), Ordering::SeqCst);
                }
            }
            Http::EndlessHeaders => {
                s.write_all(b"HTTP/1.1 200 OK\r\n").await?;
                let line = format!("X-Filler: {}\r\n", "B".repeat(1000));
                loop {
                    s.write_all(line.as_bytes()).await?;
                    st.bytes_sent.fetch_add(line.len(), Ordering::SeqCst);
                }
            }
            Http::TrickleHead => {
                let head = format!("HTTP/1.1 200 OK\r\nX-Slow: {}\r\n\r\n", "C".repeat(4096));
                for b in head.bytes() {
                    s.write_all(&[b]).await?;
                    s.flush().await?;
                    st.bytes_sent.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                return Ok(());
            }
            Http::Silent => {
                let mut buf = [0u8; 1024];
                while s.read(&mut buf).await? > 0 {}
                return Ok(());
            }
        }
    }
}

fn tls_config(cert: &ServerCert, stats: Arc<Stats>) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let b = if cert.request_client_cert {
        b.with_client_cert_verifier(Arc::new(Recording { provider, stats }))
    } else {
        b.with_no_client_auth()
    };
    // A resolver that hands out the chain as it is (with_single_cert would parse the leaf
    // and refuse the oversized ones).
    let signer = rustls::crypto::ring::sign::any_supported_type(&cert.key).unwrap();
    let ck = Arc::new(rustls::sign::CertifiedKey::new(cert.chain.clone(), signer));
    let mut cfg = b.with_cert_resolver(Arc::new(Fixed(ck)));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Asks for a client certificate (optional), accepts any, and counts each one presented.
#[derive(Debug)]
struct Recording {
    provider: Arc<rustls::crypto::CryptoProvider>,
    stats: Arc<Stats>,
}

impl ClientCertVerifier for Recording {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[TlsName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.stats.client_certs.fetch_add(1, Ordering::SeqCst);
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A listener whose accept queue is full: a connect to it never completes (the kernel drops
/// the SYN). Built with backlog 0 and filled by connections of our own that are never accepted.
pub struct FullBacklog {
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _fillers: Vec<std::net::TcpStream>,
    _rt: tokio::runtime::Runtime,
}

impl FullBacklog {
    pub fn start() -> FullBacklog {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(async {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            s.listen(0).unwrap()
        });
        let addr = listener.local_addr().unwrap();
        // Fill the queue: connects complete (the kernel answers) until it is full.
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        // Proof: one more connect must not complete.
        let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500));
        assert!(
            probe.is_err(),
            "the accept queue of {addr} did not fill ({} fillers)",
            fillers.len()
        );
        FullBacklog {
            addr,
            _listener: listener,
            _fillers: fillers,
            _rt: rt,
        }
    }
}

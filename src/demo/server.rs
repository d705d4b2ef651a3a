//! The simulated service's servers, all on 127.0.0.1 with ephemeral ports:
//! - HTTPS sites (tokio-rustls) that require a client certificate, or not;
//! - a plain HTTP site (the CA certificate repository);
//! - a responder that answers a ClientHello as a TLS 1.0-only server would;
//! - an HTTP CONNECT proxy that terminates TLS with its own CA (TLS interception).
//!
//! Every connection is bounded in time and in what it reads.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// No connection to a demo server lives longer than this.
const CONNECTION_LIMIT: Duration = Duration::from_secs(15);
/// The most a demo server reads of a request head.
const HEAD_LIMIT: usize = 16 * 1024;

/// What a site answers.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Page {
    pub fn html_utf8(status: u16, html: &str) -> Page {
        Page {
            status,
            content_type: "text/html; charset=UTF-8",
            body: html.as_bytes().to_vec(),
        }
    }

    /// An HTML page encoded in Shift_JIS, as the real service's pages are.
    pub fn html_sjis(status: u16, html: &str) -> Page {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(html);
        Page {
            status,
            content_type: "text/html; charset=Shift_JIS",
            body: bytes.into_owned(),
        }
    }

    pub fn not_found() -> Page {
        Page::html_utf8(404, "<html><body><h1>404 Not Found</h1></body></html>")
    }
}

/// One request, as much as a site needs to answer it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Subject of the client certificate the TLS layer accepted, if any.
    pub client_subject: Option<String>,
    /// The request body (a form), up to [`HEAD_LIMIT`] bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A field of an `application/x-www-form-urlencoded` body.
    pub fn form_field(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k) == name).then(|| decode(v))
        })
    }
}

pub type Router = Arc<dyn Fn(&Request) -> Page + Send + Sync>;

/// A listener on 127.0.0.1 with a port the system picks. Call within a runtime context.
pub fn listen() -> io::Result<(TcpListener, SocketAddr)> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    l.set_nonblocking(true)?;
    let addr = l.local_addr()?;
    Ok((TcpListener::from_std(l)?, addr))
}

/// Read an HTTP request head (up to the blank line), capped at [`HEAD_LIMIT`].
pub async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(buf);
        }
        if buf.len() >= HEAD_LIMIT {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The body announced by `Content-Length` (capped): what came with the head, then the rest.
async fn read_body<S: AsyncRead + Unpin>(s: &mut S, head: &[u8]) -> io::Result<Vec<u8>> {
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(head.len());
    let text = String::from_utf8_lossy(&head[..end]);
    let len = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(HEAD_LIMIT);
    let mut body = head[end..].to_vec();
    body.truncate(len);
    while body.len() < len {
        let mut chunk = vec![0u8; len - body.len()];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
}

/// `GET /path HTTP/1.1` → (`GET`, `/path`).
fn request_line(head: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    Some((method, target))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

/// The `Date` header value (RFC 9110 IMF-fixdate), so clock checks see the real time.
pub fn http_date(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

async fn write_page<S: AsyncWrite + Unpin>(
    s: &mut S,
    page: &Page,
    head_only: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\nServer: certprobe-demo\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        page.status,
        reason(page.status),
        http_date(time::OffsetDateTime::now_utc()),
        page.content_type,
        page.body.len()
    );
    s.write_all(head.as_bytes()).await?;
    if !head_only {
        s.write_all(&page.body).await?;
    }
    s.flush().await?;
    s.shutdown().await
}

/// Answer one HTTP request on an established stream, then close.
async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    router: &Router,
    client_subject: Option<String>,
) -> io::Result<()> {
    let head = read_head(&mut s).await?;
    let Some((method, target)) = request_line(&head) else {
        return write_page(&mut s, &Page::html_utf8(400, "bad request"), false).await;
    };
    let body = read_body(&mut s, &head).await?;
    let req = Request {
        method: method.clone(),
        target,
        client_subject,
        body,
    };
    let page = match method.as_str() {
        "GET" | "HEAD" | "POST" => router(&req),
        _ => Page::html_utf8(405, "method not allowed"),
    };
    write_page(&mut s, &page, method == "HEAD").await
}

fn subject_of(der: &CertificateDer<'_>) -> Option<String> {
    use der::Decode;
    x509_cert::Certificate::from_der(der.as_ref())
        .ok()
        .map(|c| c.tbs_certificate().subject().to_string())
}

/// Accept connections for ever (until the runtime stops), each in its own bounded task.
fn accept_loop<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = io::Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let fut = handle(stream);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(CONNECTION_LIMIT, fut).await;
            });
        }
    });
}

/// An HTTPS site.
pub fn spawn_tls_site(listener: TcpListener, config: Arc<ServerConfig>, router: Router) {
    let acceptor = TlsAcceptor::from(config);
    accept_loop(listener, move |stream| {
        let acceptor = acceptor.clone();
        let router = router.clone();
        async move {
            let tls = match acceptor.accept(stream).into_fallible().await {
                Ok(tls) => tls,
                Err((e, stream)) => {
                    linger(stream).await;
                    return Err(e);
                }
            };
            let subject = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(subject_of);
            serve_http(tls, &router, subject).await
        }
    });
}

/// After a refused handshake (the alert is already written), read what the client still sends
/// for a moment before closing: closing with unread data makes the kernel send a reset, which
/// can destroy the alert before the client reads it. Web servers linger the same way.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A plain HTTP site.
pub fn spawn_plain_site(listener: TcpListener, router: Router) {
    accept_loop(listener, move |stream| {
        let router = router.clone();
        async move { serve_http(stream, &router, None).await }
    });
}

/// What a TLS 1.0-only server sends back to a ClientHello whose `client_version` is given:
/// a ServerHello for TLS 1.0 (0x0301) to any hello of TLS 1.0 or later (TLS 1.3 hellos carry
/// 0x0303 there), and a fatal `handshake_failure` alert to anything older (SSL 3.0).
pub fn legacy_answer(client_version: u16) -> Vec<u8> {
    if client_version < 0x0301 {
        // Alert record: fatal (2), handshake_failure (40).
        return vec![0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 40];
    }
    let mut hello = Vec::with_capacity(38);
    hello.extend_from_slice(&[0x03, 0x01]); // server_version: TLS 1.0
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u32;
    hello.extend_from_slice(&now.to_be_bytes()); // gmt_unix_time
    let mut random = [0u8; 28];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    hello.extend_from_slice(&random);
    hello.push(0); // empty session id
    hello.extend_from_slice(&[0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
    hello.push(0); // no compression
    let mut hs = vec![0x02, 0, 0, hello.len() as u8]; // ServerHello, 24-bit length
    hs.extend_from_slice(&hello);
    let mut rec = vec![0x16, 0x03, 0x01, 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    // ServerHelloDone would follow a Certificate; a client that cannot speak TLS 1.0 stops here.
    rec
}

/// The `client_version` of a ClientHello at the start of `buf`, if `buf` holds one.
pub fn client_hello_version(buf: &[u8]) -> Option<u16> {
    // record: type 0x16, version (2), length (2); handshake: type 0x01, length (3), version (2)
    if buf.len() < 11 || buf[0] != 0x16 || buf[5] != 0x01 {
        return None;
    }
    Some(u16::from_be_bytes([buf[9], buf[10]]))
}

/// A server that speaks only TLS 1.0: it reads the ClientHello, sends a TLS 1.0 ServerHello (or
/// an alert) and waits for the client to give up.
pub fn spawn_legacy_responder(listener: TcpListener) {
    accept_loop(listener, |mut stream| async move {
        let mut buf = [0u8; 16];
        let mut have = 0;
        while have < 11 {
            let n = stream.read(&mut buf[have..]).await?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        }
        let Some(version) = client_hello_version(&buf[..have]) else {
            return Ok(());
        };
        stream.write_all(&legacy_answer(version)).await?;
        stream.flush().await?;
        // Wait (bounded) for the client to close; drain whatever it sends.
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        Ok(())
    });
}

/// An HTTP CONNECT proxy that intercepts TLS: it answers `200 Connection established`, then
/// terminates the client's TLS itself with a certificate from its own CA. It cannot relay a
/// client certificate, so whatever it is asked over that connection it answers 502.
pub fn spawn_intercepting_proxy(listener: TcpListener, config: Arc<ServerConfig>) {
    let acceptor = TlsAcceptor::from(config);
    accept_loop(listener, move |mut stream| {
        let acceptor = acceptor.clone();
        async move {
            let head = read_head(&mut stream).await?;
            match request_line(&head) {
                Some((m, _)) if m.eq_ignore_ascii_case("CONNECT") => {}
                _ => {
                    return write_page(
                        &mut stream,
                        &Page::html_utf8(400, "this proxy only tunnels CONNECT"),
                        false,
                    )
                    .await
                }
            }
            stream
                .write_all(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: certprobe-demo-gateway\r\n\r\n")
                .await?;
            let tls = acceptor.accept(stream).await?;
            let router: Router = Arc::new(|_| {
                Page::html_utf8(
                    502,
                    "<html><body>Gateway: the origin requires a client certificate, which this gateway cannot relay.</body></html>",
                )
            });
            serve_http(tls, &router, None).await
        }
    });
}

/// A rustls server configuration: the server chain, and either no client authentication or a
/// required client certificate that chains to `client_root` and is issued by `client_issuer`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    client_auth: Option<(CertificateDer<'static>, CertificateDer<'static>)>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match client_auth {
        None => builder.with_no_client_auth(),
        Some((root, issuer)) => {
            let mut roots = RootCertStore::empty();
            roots.add(root).map_err(|e| e.to_string())?;
            let issuer_subject = issuer_subject_der(&issuer)?;
            let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .add_root_hint_subjects([DistinguishedName::from(issuer_subject.clone())])
                .build()
                .map_err(|e| e.to_string())?;
            builder.with_client_cert_verifier(Arc::new(IssuerCheck {
                inner,
                issuer_subject,
            }))
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The DER of a certificate's subject name (a full `Name`, as CertificateRequest hints carry it).
fn issuer_subject_der(cert: &CertificateDer<'_>) -> Result<Vec<u8>, String> {
    use der::{Decode, Encode};
    let c = x509_cert::Certificate::from_der(cert.as_ref()).map_err(|e| e.to_string())?;
    c.tbs_certificate()
        .subject()
        .to_der()
        .map_err(|e| e.to_string())
}

/// Like a web server configured to accept client certificates of one issuing CA only:
/// the chain must verify to the root, and the leaf must be issued by that CA.
#[derive(Debug)]
struct IssuerCheck {
    inner: Arc<dyn ClientCertVerifier>,
    /// The issuing CA's subject (DER `Name`).
    issuer_subject: Vec<u8>,
}

impl ClientCertVerifier for IssuerCheck {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        use der::{Decode, Encode};
        let issuer = x509_cert::Certificate::from_der(end_entity.as_ref())
            .ok()
            .and_then(|c| c.tbs_certificate().issuer().to_der().ok());
        match issuer {
            Some(i) if i == self.issuer_subject => Ok(verified),
            _ => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

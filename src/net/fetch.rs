//! Plain HTTP(S) fetches — CRLs, CA certificates (AIA and `fetch-ca`) and the log-in form —
//! through `reqwest`, configured with the one route decision ([`super::route::reqwest_proxy`]),
//! our resolver (so `--resolver` holds here too) and a rustls configuration from the one
//! builder ([`super::tls::client_config`]). The endpoint probe itself does not use this: it
//! drives hyper over its own stream so that each step is timed.

use super::dns::Dns;
use super::tls::{client_config, ConfigSpec, Verify};
use super::words::with_detail;
use super::NetContext;
use crate::finding::Text;
use crate::guide::phrase;
use std::sync::Arc;
use std::time::Instant;

/// At most this many redirects are followed by a fetch.
pub const MAX_REDIRECTS: usize = 5;

/// What a fetch brought back.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than the cap (or did not end in time) and was cut.
    pub truncated: bool,
    /// The URL that answered, after redirects.
    pub final_url: url::Url,
}

/// Why a fetch brought nothing back. [`FetchError::code`] is a stable machine code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The address is not an http(s) URL.
    BadUrl(String),
    Timeout,
    /// The proxy refused or could not be reached.
    Proxy(String),
    /// No connection (name lookup, TCP).
    Connect(String),
    /// The TLS handshake failed.
    Tls(String),
    /// Too many redirects, or one to an address that cannot be used.
    Redirect(String),
    /// The server answered with something that is not HTTP, or broke off.
    Protocol(String),
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::BadUrl(_) => "bad_url",
            FetchError::Timeout => "timeout",
            FetchError::Proxy(_) => "proxy_failed",
            FetchError::Connect(_) => "connect_failed",
            FetchError::Tls(_) => "tls_failed",
            FetchError::Redirect(_) => "redirect_failed",
            FetchError::Protocol(_) => "http_failed",
        }
    }

    pub fn text(&self) -> Text {
        match self {
            FetchError::Timeout => phrase("net.fetch_timeout", &[]),
            FetchError::BadUrl(m) => with_detail(phrase("net.fetch_bad_url", &[]), m),
            FetchError::Proxy(m) => with_detail(phrase("net.fetch_proxy", &[]), m),
            FetchError::Connect(m) => with_detail(phrase("net.fetch_connect", &[]), m),
            FetchError::Tls(m) => with_detail(phrase("net.fetch_tls", &[]), m),
            FetchError::Redirect(m) => with_detail(phrase("net.fetch_redirect", &[]), m),
            FetchError::Protocol(m) => with_detail(phrase("net.fetch_protocol", &[]), m),
        }
    }
}

/// Who may see the client certificate, whether cookies are kept, where redirects may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// Offer the client certificate (only to hosts the profile allows; redirects elsewhere
    /// are not followed).
    pub present_cert: bool,
    /// Keep cookies across the redirects of one client.
    pub cookies: bool,
}

/// Our resolver for reqwest.
struct Resolver(Arc<Dns>);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = dns.resolve(&host).await.map_err(|e| {
                Box::new(std::io::Error::other(format!(
                    "name lookup failed: {}",
                    e.code()
                ))) as Box<dyn std::error::Error + Send + Sync>
            })?;
            let addrs: reqwest::dns::Addrs = Box::new(
                ips.into_iter()
                    .map(|ip| std::net::SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

/// A reqwest client on the one route, with the one TLS configuration.
pub fn client(ctx: &NetContext, opts: FetchOptions) -> Result<reqwest::Client, FetchError> {
    let spec = ConfigSpec {
        verify: Verify::Roots(ctx.roots.clone()),
        client: if opts.present_cert {
            ctx.client.clone()
        } else {
            None
        },
        versions: None,
        alpn: vec![b"http/1.1".to_vec()],
    };
    let (tls, _) = client_config(&spec).map_err(|e| FetchError::Tls(e.to_string()))?;
    let allowed = ctx.profile.clone();
    let named = ctx.named_host.clone();
    let present = opts.present_cert;
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let host = attempt.url().host_str().unwrap_or("").to_string();
        let may = allowed.may_present_certificate(&host)
            || named
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&host));
        if present && !may {
            // The certificate is offered on every connection of this client: never to a host
            // the profile does not list.
            tracing::info!(%host, "redirect not followed: host may not see the certificate");
            return attempt.stop();
        }
        tracing::info!(url = %crate::net::endpoint::redacted(attempt.url()), "redirect followed");
        attempt.follow()
    });
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .proxy(super::route::reqwest_proxy(ctx.proxy.clone()))
        .redirect(policy)
        .user_agent(super::http::USER_AGENT)
        .connect_timeout(super::TCP_TIMEOUT)
        .cookie_store(opts.cookies)
        .pool_max_idle_per_host(0);
    if let Ok(dns) = &ctx.dns {
        b = b.dns_resolver(Arc::new(Resolver(dns.clone())));
    }
    b.build().map_err(|e| FetchError::Protocol(innermost(&e)))
}

/// The innermost cause of an error, as text (never the URL with its query).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn classify(e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    if e.is_redirect() {
        return FetchError::Redirect(innermost(e));
    }
    if let Some(t) = super::tls::find_tls_error(e) {
        return FetchError::Tls(t.to_string());
    }
    let why = innermost(e);
    if e.is_connect() {
        let lower = why.to_ascii_lowercase();
        if lower.contains("proxy") || lower.contains("tunnel") {
            return FetchError::Proxy(why);
        }
        return FetchError::Connect(why);
    }
    FetchError::Protocol(why)
}

/// Send `req` and read the answer's body up to `cap` bytes, all by `ctx.deadline`.
pub async fn send(
    ctx: &NetContext,
    req: reqwest::RequestBuilder,
    cap: usize,
) -> Result<Fetched, FetchError> {
    let deadline = tokio::time::Instant::from_std(ctx.deadline);
    let resp = match tokio::time::timeout_at(deadline, req.send()).await {
        Err(_) => return Err(FetchError::Timeout),
        Ok(Err(e)) => return Err(classify(&e)),
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let final_url = resp.url().clone();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    tracing::debug!(status, url = %crate::net::endpoint::redacted(&final_url), "fetch: answer");
    let mut resp = resp;
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) | Ok(Err(_)) => {
                truncated = true;
                break;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                let room = cap.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    tracing::trace!(bytes = body.len(), truncated, "fetch: body");
    Ok(Fetched {
        status,
        content_type,
        body,
        truncated,
        final_url,
    })
}

/// GET `url` without the client certificate; the body is read up to `cap` bytes.
pub async fn get(ctx: &NetContext, url: &str, cap: usize) -> Result<Fetched, FetchError> {
    let u = url::Url::parse(url).map_err(|e| FetchError::BadUrl(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(FetchError::BadUrl(format!("scheme `{}`", u.scheme())));
    }
    let start = Instant::now();
    let c = client(ctx, FetchOptions::default())?;
    tracing::info!(url = %crate::net::endpoint::redacted(&u), "fetch");
    let r = send(ctx, c.get(u), cap).await;
    tracing::info!(
        ms = start.elapsed().as_millis() as u64,
        ok = r.is_ok(),
        "fetch done"
    );
    r
}

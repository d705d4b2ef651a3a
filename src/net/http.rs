//! One HTTP/1.1 GET over an already open (TLS) connection, with the body read up to a cap
//! and decoded by its declared charset.

use super::tls::find_tls_error;
use crate::finding::Text;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;

/// The most of a body that is read; the rest is left unread.
pub const BODY_CAP: usize = 1024 * 1024;

pub const USER_AGENT: &str = concat!("certprobe/", env!("CARGO_PKG_VERSION"));

/// What the server answered.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub location: Option<String>,
    pub date: Option<String>,
    pub content_type: Option<String>,
    pub server: Option<String>,
    pub body: Vec<u8>,
    pub truncated: bool,
    /// When the response head arrived.
    pub received_at: std::time::SystemTime,
    pub head_ms: f64,
}

/// Why no complete response head arrived.
#[derive(Debug, Clone)]
pub enum HttpFailure {
    Timeout,
    /// A TLS alert that arrived with the first read (TLS 1.3 client-certificate rejection).
    Tls(rustls::Error),
    /// The connection ended without an answer: why, in the catalogue's words.
    Closed(Text),
    /// Not HTTP: the HTTP library's own words (a detail, not a sentence).
    Protocol(String),
}

/// An HTTP/1.1 connection; the connection task ends when this is dropped.
pub struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    task: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Conn {
    pub async fn open<S>(io: S, deadline: Instant) -> Result<Conn, HttpFailure>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let hs = hyper::client::conn::http1::Builder::new()
            .max_buf_size(256 * 1024)
            .handshake::<_, Empty<Bytes>>(TokioIo::new(io));
        let (sender, conn) = match tokio::time::timeout_at(deadline.into(), hs).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(classify(&e)),
            Err(_) => return Err(HttpFailure::Timeout),
        };
        let task = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { sender, task })
    }

    pub fn is_ready(&self) -> bool {
        !self.sender.is_closed() && self.sender.is_ready()
    }

    /// GET `path` with `Host: authority`; the head and the body must arrive by `deadline`.
    pub async fn get(
        &mut self,
        authority: &str,
        path: &str,
        deadline: Instant,
    ) -> Result<HttpResponse, HttpFailure> {
        self.get_capped(authority, path, deadline, BODY_CAP).await
    }

    /// [`Conn::get`] with a body cap of `cap` bytes.
    pub async fn get_capped(
        &mut self,
        authority: &str,
        path: &str,
        deadline: Instant,
        cap: usize,
    ) -> Result<HttpResponse, HttpFailure> {
        let req = hyper::Request::get(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::USER_AGENT, USER_AGENT)
            .header(hyper::header::ACCEPT, "text/html,*/*;q=0.8")
            .header(hyper::header::ACCEPT_LANGUAGE, "ja,en;q=0.5")
            .body(Empty::<Bytes>::new())
            .map_err(|e| HttpFailure::Protocol(e.to_string()))?;
        let start = Instant::now();
        let shown = path
            .split_once('?')
            .map_or(path.to_string(), |(p, _)| format!("{p}?…"));
        tracing::trace!(%authority, path = %shown, "wire: GET sent");
        let dl = tokio::time::Instant::from_std(deadline);
        if tokio::time::timeout_at(dl, std::future::poll_fn(|cx| self.sender.poll_ready(cx)))
            .await
            .map_err(|_| HttpFailure::Timeout)?
            .is_err()
        {
            return Err(HttpFailure::Closed(crate::guide::phrase(
                "net.server_closed",
                &[],
            )));
        }
        let resp = match tokio::time::timeout_at(dl, self.sender.send_request(req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(classify(&e)),
            Err(_) => return Err(HttpFailure::Timeout),
        };
        let received_at = std::time::SystemTime::now();
        let head_ms = start.elapsed().as_secs_f64() * 1000.0;
        let h = |name: hyper::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status();
        let mut out = HttpResponse {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            location: h(hyper::header::LOCATION),
            date: h(hyper::header::DATE),
            content_type: h(hyper::header::CONTENT_TYPE),
            server: h(hyper::header::SERVER),
            body: Vec::new(),
            truncated: false,
            received_at,
            head_ms,
        };
        let mut body = resp.into_body();
        loop {
            match tokio::time::timeout_at(dl, body.frame()).await {
                // A body that does not end in time is read as far as it came.
                Err(_) => {
                    out.truncated = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(_))) => {
                    out.truncated = true;
                    break;
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        let room = cap - out.body.len();
                        if data.len() >= room {
                            out.body.extend_from_slice(&data[..room]);
                            out.truncated = data.len() > room;
                            if out.body.len() >= cap {
                                out.truncated = true;
                                break;
                            }
                        } else {
                            out.body.extend_from_slice(&data);
                        }
                    }
                }
            }
        }
        tracing::trace!(
            status = out.status,
            content_type = ?out.content_type.as_deref().map(crate::text::escape::clean),
            body_bytes = out.body.len(),
            truncated = out.truncated,
            head_ms = out.head_ms,
            "wire: response"
        );
        Ok(out)
    }
}

fn classify(e: &hyper::Error) -> HttpFailure {
    if let Some(t) = find_tls_error(e) {
        return HttpFailure::Tls(t);
    }
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return HttpFailure::Closed(crate::guide::phrase("net.server_closed_no_answer", &[]));
    }
    if e.is_timeout() {
        return HttpFailure::Timeout;
    }
    HttpFailure::Protocol(e.to_string())
}

/// The charset named in a Content-Type header.
pub fn charset_of(content_type: Option<&str>) -> Option<String> {
    let ct = content_type?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// A `<meta charset=…>` or `<meta http-equiv content="…; charset=…">` in the first 1024 bytes.
fn meta_charset(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(1024)];
    let text: String = head
        .iter()
        .map(|&b| (b as char).to_ascii_lowercase())
        .collect();
    let i = text.find("charset=")?;
    let rest = &text[i + 8..];
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// Decode a body by its declared charset (header, then `<meta>`, then BOM), UTF-8 otherwise.
/// Returns the text and the encoding's name.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> (String, &'static str) {
    let label = charset_of(content_type).or_else(|| meta_charset(body));
    let enc = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or_else(|| super::page::detect_charset(body));
    let (text, used, _) = enc.decode(body);
    (text.into_owned(), used.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_from_header_meta_and_default() {
        assert_eq!(
            charset_of(Some("text/html; charset=Shift_JIS")).as_deref(),
            Some("Shift_JIS")
        );
        assert_eq!(charset_of(Some("text/html")), None);
        let sjis = encoding_rs::SHIFT_JIS.encode("エラーコード：46").0;
        let (t, name) = decode_body(Some("text/html; charset=shift_jis"), &sjis);
        assert_eq!((t.as_str(), name), ("エラーコード：46", "Shift_JIS"));
        let mut page = b"<html><head><meta charset=\"euc-jp\"></head><body>".to_vec();
        page.extend_from_slice(
            &encoding_rs::EUC_JP
                .encode("過去1年間ログインされていません")
                .0,
        );
        let (t, name) = decode_body(Some("text/html"), &page);
        assert!(t.contains("過去1年間ログインされていません"), "{t}");
        assert_eq!(name, "EUC-JP");
        assert_eq!(decode_body(None, "ok".as_bytes()).1, "UTF-8");
    }
}

//! The HTTP side of `certprobe serve` (hyper, HTTP/1.1): routing, query checks, the probe slots
//! and the scrape's deadline.

use super::stats::Stats;
use super::{Checker, Config, ServeOptions};
use crate::error::AppError;
use crate::finding::Lang;
use crate::report::prometheus::{self, Exposition};
use crate::report::RenderOptions;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Extra time a check gets beyond its own deadline to return its findings.
const GRACE: Duration = Duration::from_millis(250);
/// The shortest bound a probe gets, whatever the scrape's header says.
const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// A client must send its request head within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

struct State {
    config: Config,
    lang: Lang,
    checker: Arc<dyn Checker>,
    slots: Semaphore,
    stats: Stats,
}

type Resp = Response<Full<Bytes>>;

pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    opts: ServeOptions,
    checker: Arc<dyn Checker>,
) -> Result<(), AppError> {
    let state = Arc::new(State {
        slots: Semaphore::new(opts.config.server.max_concurrent_probes),
        config: opts.config,
        lang: opts.lang,
        checker,
        stats: Stats::default(),
    });
    let connections = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and the like: wait a little instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            state
                .stats
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let st = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let st = st.clone();
                async move { Ok::<_, Infallible>(handle(&st, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
}

fn text(code: StatusCode, body: String) -> Resp {
    let mut body = crate::text::escape::clean(&body);
    body.push('\n');
    Response::builder()
        .status(code)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn label(key: &str, lang: Lang, args: &[(&str, &str)]) -> String {
    super::config::say(key, lang, args)
}

async fn handle(st: &State, req: Request<Incoming>) -> Resp {
    let start = Instant::now();
    let (path, resp) = route(st, &req).await;
    st.stats
        .request(path, resp.status().as_u16(), start.elapsed());
    resp
}

async fn route(st: &State, req: &Request<Incoming>) -> (&'static str, Resp) {
    let lang = st.lang;
    let path: &'static str = match req.uri().path() {
        "/" => "/",
        "/probe" => "/probe",
        "/metrics" => "/metrics",
        _ => "other",
    };
    if req.method() != hyper::Method::GET {
        return (
            path,
            text(
                StatusCode::METHOD_NOT_ALLOWED,
                label("serve.method", lang, &[]),
            ),
        );
    }
    let resp = match path {
        "/" => index(st),
        "/metrics" => Response::builder()
            .header("content-type", Exposition::Text.content_type())
            .body(Full::new(Bytes::from(st.stats.render(prometheus::esc))))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        "/probe" => probe(st, req).await,
        _ => text(StatusCode::NOT_FOUND, label("serve.not_found", lang, &[])),
    };
    (path, resp)
}

fn index(st: &State) -> Resp {
    let lang = st.lang;
    let h = html;
    let mut rows = String::new();
    for (name, m) in &st.config.modules {
        let targets: Vec<String> = m
            .profile
            .endpoints
            .iter()
            .filter(|e| m.endpoints.is_empty() || m.endpoints.contains(&e.id))
            .map(|e| {
                format!(
                    "<a href=\"/probe?module={}&amp;target={}\">{}</a>",
                    h(&url_encode(name)),
                    h(&url_encode(&e.id)),
                    h(&e.id)
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            h(name),
            h(&m.profile.name),
            targets.join(" ")
        ));
    }
    let title = label("serve.index_title", lang, &[]);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n<h1>{}</h1>\n<p>{}</p>\n<h2>{}</h2>\n<table>\n<tr><th>module</th><th>{}</th><th>{}</th></tr>\n{}</table>\n<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n",
        lang.code(),
        h(&title),
        h(&title),
        label("serve.index_intro", lang, &[]),
        h(&label("serve.index_modules", lang, &[])),
        h(&label("serve.index_profile", lang, &[])),
        h(&label("serve.index_targets", lang, &[])),
        rows
    );
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Text for HTML: the five characters that matter escaped, control characters dropped.
fn html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in crate::text::escape::clean(s).chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `module` and `target`, each exactly once, and nothing else.
fn query(q: Option<&str>, lang: Lang) -> Result<(String, String), String> {
    let mut module = None;
    let mut target = None;
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        let slot = match k.as_ref() {
            "module" => &mut module,
            "target" => &mut target,
            other => {
                let name: String = other.chars().take(40).collect();
                return Err(label("serve.unknown_param", lang, &[("name", &name)]));
            }
        };
        if slot.is_some() {
            return Err(label("serve.repeated_param", lang, &[("name", &k)]));
        }
        *slot = Some(v.into_owned());
    }
    let module = module.ok_or_else(|| label("serve.missing_param", lang, &[("name", "module")]))?;
    let target = target.ok_or_else(|| label("serve.missing_param", lang, &[("name", "target")]))?;
    Ok((module, target))
}

/// The probe's bound: the module's (else the server's) timeout, cut to what Prometheus waits
/// for minus the configured offset.
fn probe_timeout(header: Option<&str>, own: Duration, offset: Duration) -> Result<Duration, ()> {
    let Some(h) = header else {
        return Ok(own);
    };
    let secs: f64 = h.trim().parse().map_err(|_| ())?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(());
    }
    let scrape = Duration::from_secs_f64(secs.min(86_400.0));
    Ok(own.min(scrape.saturating_sub(offset).max(MIN_TIMEOUT)))
}

async fn probe(st: &State, req: &Request<Incoming>) -> Resp {
    let start = Instant::now();
    let lang = st.lang;
    let (module_name, target) = match query(req.uri().query(), lang) {
        Ok(x) => x,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let Some(module) = st.config.modules.get(&module_name).cloned() else {
        let name: String = module_name.chars().take(64).collect();
        return text(
            StatusCode::BAD_REQUEST,
            label("serve.unknown_module", lang, &[("name", &name)]),
        );
    };
    let endpoints = match module.resolve_target(&target, lang) {
        Ok(e) => e,
        Err(reason) => {
            return text(
                StatusCode::BAD_REQUEST,
                label("serve.bad_target", lang, &[("reason", &reason)]),
            )
        }
    };
    let header = req
        .headers()
        .get("x-prometheus-scrape-timeout-seconds")
        .map(|v| v.to_str().unwrap_or("?"));
    let server = &st.config.server;
    let own = module.timeout.unwrap_or(server.timeout);
    let Ok(timeout) = probe_timeout(header, own, server.timeout_offset) else {
        return text(
            StatusCode::BAD_REQUEST,
            label("serve.bad_timeout", lang, &[]),
        );
    };
    let format = Exposition::from_accept(
        req.headers()
            .get(hyper::header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let deadline = start + timeout;

    // A slot, or a place in the queue, or 503 at once.
    let stats = &st.stats;
    let permit = match st.slots.try_acquire() {
        Ok(p) => p,
        Err(_) => {
            let waiting = stats.queued.fetch_add(1, Ordering::SeqCst);
            if waiting >= server.max_queued_probes {
                stats.queued.fetch_sub(1, Ordering::SeqCst);
                stats.rejected.fetch_add(1, Ordering::Relaxed);
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    label(
                        "serve.queue_full",
                        lang,
                        &[("queued", &waiting.to_string())],
                    ),
                );
            }
            let got = tokio::time::timeout_at(deadline.into(), st.slots.acquire()).await;
            stats.queued.fetch_sub(1, Ordering::SeqCst);
            match got {
                Ok(Ok(p)) => p,
                _ => {
                    stats.rejected.fetch_add(1, Ordering::Relaxed);
                    return text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        label("serve.no_slot", lang, &[]),
                    );
                }
            }
        }
    };
    stats.in_flight.fetch_add(1, Ordering::SeqCst);
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(MIN_TIMEOUT);
    let run = st.checker.check(module.clone(), endpoints, left);
    let outcome = tokio::time::timeout(left + GRACE, run).await;
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    drop(permit);
    let opts = RenderOptions::default();
    let (body, success) = match outcome {
        Ok(Ok(report)) => {
            let success = report.exit_code(false) == 0;
            (prometheus::render_probe(&report, &opts, format), success)
        }
        Ok(Err(e)) => {
            tracing::warn!(module = %module.name, "probe could not run: {e}");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                label(
                    "serve.module_error",
                    lang,
                    &[("name", &module.name), ("error", &e.to_string())],
                ),
            );
        }
        Err(_) => {
            stats.timed_out.fetch_add(1, Ordering::Relaxed);
            (
                prometheus::probe::render_timeout(start.elapsed(), format),
                false,
            )
        }
    };
    stats.probe(&module.name, success, start.elapsed());
    tracing::info!(
        module = %module.name,
        success,
        seconds = start.elapsed().as_secs_f64(),
        "probe"
    );
    Response::builder()
        .header("content-type", format.content_type())
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let l = Lang::En;
        assert_eq!(
            query(Some("module=a&target=login"), l),
            Ok(("a".into(), "login".into()))
        );
        assert!(query(Some("module=a"), l).unwrap_err().contains("`target`"));
        assert!(query(Some("module=a&module=b&target=x"), l)
            .unwrap_err()
            .contains("more than once"));
        assert!(query(Some("module=a&target=x&debug=true"), l)
            .unwrap_err()
            .contains("unknown query parameter `debug`"));
        assert!(query(None, l).is_err());
    }

    #[test]
    fn the_scrape_timeout_header_wins_when_shorter() {
        let own = Duration::from_secs(10);
        let off = Duration::from_millis(500);
        assert_eq!(probe_timeout(None, own, off), Ok(own));
        assert_eq!(
            probe_timeout(Some("5"), own, off),
            Ok(Duration::from_millis(4500))
        );
        assert_eq!(probe_timeout(Some("60"), own, off), Ok(own));
        assert_eq!(probe_timeout(Some("0.2"), own, off), Ok(MIN_TIMEOUT));
        assert!(probe_timeout(Some("soon"), own, off).is_err());
        assert!(probe_timeout(Some("-1"), own, off).is_err());
    }
}

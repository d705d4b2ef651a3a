//! `certprobe serve`: the Prometheus multi-target exporter.
//!
//! `GET /probe?module=NAME&target=…` runs one check of a configured module and answers in the
//! Prometheus text format (OpenMetrics when the scrape asks for it); `GET /metrics` tells the
//! exporter's own health; `GET /` is a short index. The check itself is the library's, handed
//! in as a [`Checker`], so this module knows nothing of the command line.

pub mod config;
mod http;
mod stats;

pub use config::{Config, Identity, Module, ServerSettings};

use crate::error::AppError;
use crate::finding::Lang;
use crate::report::Report;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A check's future, as the exporter awaits it.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<Report, AppError>> + Send>>;

/// Runs one check of `module` against the given endpoints of its profile, bounded by `timeout`:
/// the same library path as `certprobe check`.
pub trait Checker: Send + Sync + 'static {
    fn check(&self, module: Arc<Module>, endpoints: Vec<String>, timeout: Duration) -> CheckFuture;
}

/// Everything the server needs.
pub struct ServeOptions {
    pub config: Config,
    pub lang: Lang,
    /// At most this many HTTP connections at once (more are closed at once).
    pub max_connections: usize,
}

/// Serve on `listener` until the process ends.
pub async fn run(
    listener: tokio::net::TcpListener,
    opts: ServeOptions,
    checker: Arc<dyn Checker>,
) -> Result<(), AppError> {
    http::serve(listener, opts, checker).await
}

/// A bind address is loopback unless the person asked for more (`--listen 0.0.0.0:…`).
pub fn is_loopback(addr: &std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

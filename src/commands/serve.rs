//! `certprobe serve`: reads the configuration, binds the address and hands the exporter the
//! same check `certprobe check` runs, built from each module's plain settings.

use super::Context;
use crate::cert::IdentityOptions;
use crate::error::AppError;
use crate::finding::Phase;
use crate::net::NetOptions;
use crate::probe::CheckOptions;
use crate::probe::{self, CheckPlan};
use crate::serve::{CheckFuture, Checker, Config, Module, ServeOptions};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9790";

fn label(ctx: &Context, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = crate::guide::label(key, ctx.lang);
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// The options `certprobe check` would run with for this module.
pub fn check_args(m: &Module, endpoints: Vec<String>) -> CheckOptions {
    let i = &m.identity;
    CheckOptions {
        identity: IdentityOptions {
            cert: i.cert.clone(),
            key: i.key.clone(),
            password_env: i.password_env.clone(),
            password_file: i.password_file.clone(),
            ca: i.ca.clone(),
            trust: i.trust.clone(),
            no_system_trust: i.no_system_trust,
            cert_thumbprint: i.cert_thumbprint.clone(),
            cert_subject: i.cert_subject.clone(),
            machine_store: i.machine_store,
            ..Default::default()
        },
        net: NetOptions {
            resolver: m.resolver.clone(),
            proxy: m.proxy.clone(),
            no_proxy: m.no_proxy,
            endpoints,
            ..Default::default()
        },
        only: vec![Phase::Local, Phase::Environment, Phase::Network],
        ..Default::default()
    }
}

struct LibraryCheck;

impl Checker for LibraryCheck {
    fn check(&self, module: Arc<Module>, endpoints: Vec<String>, timeout: Duration) -> CheckFuture {
        Box::pin(async move {
            let args = check_args(&module, endpoints);
            let plan = CheckPlan {
                profile: &module.profile,
                args: &args,
                timeout,
            };
            probe::run(&plan).await.map(super::diagnosed)
        })
    }
}

pub fn run(ctx: &Context, listen: Option<&str>, config: &Path) -> Result<u8, AppError> {
    let config = Config::load(config, ctx.lang)?;
    let listen = listen
        .map(str::to_string)
        .or_else(|| config.server.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| AppError::Usage(label(ctx, "serve.bad_listen", &[("addr", &listen)])))?;
    crate::net::versions::remember_versions(config.server.versions_cache);
    let rt = super::runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            AppError::input(label(
                ctx,
                "serve.cannot_bind",
                &[("addr", &addr.to_string()), ("error", &e.to_string())],
            ))
        })?;
        let bound = listener.local_addr().unwrap_or(addr);
        eprintln!(
            "{}",
            label(
                ctx,
                "serve.listening",
                &[
                    ("addr", &bound.to_string()),
                    ("modules", &config.modules.len().to_string())
                ]
            )
        );
        if !crate::serve::is_loopback(&bound) {
            eprintln!(
                "{}",
                label(ctx, "serve.not_loopback", &[("addr", &bound.to_string())])
            );
        }
        let opts = ServeOptions {
            config,
            lang: ctx.lang,
            max_connections: 256,
        };
        crate::serve::run(listener, opts, Arc::new(LibraryCheck)).await
    })?;
    Ok(0)
}

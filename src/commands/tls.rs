//! `certprobe tls HOST[:PORT]`: the handshake details of one server (version, cipher suite,
//! chain, acceptable client CAs), with the client certificate when one is given, and the
//! protocol versions the server accepts (`net.server.versions`).

use super::Context;
use crate::cli::{Format, IdentityArgs, NetArgs};
use crate::error::AppError;
use crate::finding::Lang;
use crate::net::tls::TlsFacts;
use crate::net::{NetContext, Target};
use crate::profile::{parse_url, EndpointUrl};
use crate::report::Report;
use crate::text::escape::clean;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// `HOST`, `HOST:PORT`, `[v6]:PORT`, a bare IPv6 address, or an `https://` URL.
pub fn parse_target(s: &str) -> Result<EndpointUrl, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AppError::catalogued("commands.tls.no_target", &[]));
    }
    let url = if s.contains("://") {
        s.to_string()
    } else if let Ok(ip) = s.parse::<IpAddr>() {
        match ip {
            IpAddr::V6(v6) => format!("https://[{v6}]/"),
            IpAddr::V4(v4) => format!("https://{v4}/"),
        }
    } else {
        format!("https://{s}/")
    };
    let u = parse_url(&url).map_err(|e| {
        AppError::catalogued(
            "commands.tls.bad_target",
            &[("target", s), ("error", &e.to_string())],
        )
    })?;
    if u.scheme != "https" {
        return Err(AppError::catalogued(
            "commands.tls.not_https",
            &[("target", s)],
        ));
    }
    Ok(u)
}

pub fn run(
    ctx: &Context,
    target: &str,
    identity: &IdentityArgs,
    net: &NetArgs,
) -> Result<u8, AppError> {
    let url = parse_target(target)?;
    let profile = ctx.profile()?;
    let start = Instant::now();
    let deadline = start + ctx.global.timeout;
    let local = crate::cert::local_probe(&identity.into(), &profile)?;
    let mut nctx = NetContext::new(
        &profile,
        &net.into(),
        local.client.clone(),
        local.roots.clone(),
        deadline,
    )?;
    // The person named this server together with the certificate: it may see it.
    if identity.cert.is_some() {
        nctx.named_host = Some(url.host.clone());
    }
    let nctx = Arc::new(nctx);
    let t = Target {
        id: "server".into(),
        title: crate::guide::phrase("commands.tls.server", &[]),
        display_url: format!("https://{}{}", url.authority(), url.path),
        url: url.clone(),
        section: "2-1".into(),
        read_page: false,
    };
    // The handshake and, beside it, which protocol versions the server accepts.
    let (outcome, versions) =
        super::runtime()?.block_on(crate::net::endpoint::probe_with_versions(&nctx, &t));
    let mut report = Report::new(profile.name.clone());
    report
        .findings
        .push(crate::net::clock_finding(std::slice::from_ref(&outcome)));
    report.findings.extend(outcome.findings.iter().cloned());
    if let Some(v) = versions {
        let at = report
            .findings
            .iter()
            .position(|f| f.id == "net.server.tls")
            .map_or(report.findings.len(), |i| i + 1);
        report.findings.insert(at, v);
    }
    report.duration = start.elapsed();
    let report = super::diagnosed(report);
    if ctx.global.format == Format::Table && !ctx.global.quiet {
        if let Some(facts) = &outcome.tls {
            super::print(&details_table(&url, facts, ctx.lang))?;
        }
    }
    ctx.emit_report(&report)
}

fn details_table(url: &EndpointUrl, f: &TlsFacts, lang: Lang) -> String {
    let l = |key: &str| crate::guide::label(&format!("commands.tls.{key}"), lang);
    let none = "—".to_string();
    let yes_no =
        |b: bool| crate::guide::label(if b { "commands.yes" } else { "commands.no" }, lang);
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL);
    t.set_header(vec![l("handshake"), clean(&url.authority())]);
    let opt = |o: &Option<String>| o.as_deref().map(clean).unwrap_or_else(|| none.clone());
    t.add_row(vec![l("version"), opt(&f.version)]);
    t.add_row(vec![l("cipher_suite"), opt(&f.cipher_suite)]);
    t.add_row(vec![l("key_exchange"), opt(&f.key_exchange)]);
    t.add_row(vec!["ALPN".to_string(), opt(&f.alpn)]);
    let chain: Vec<String> = f
        .server_chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{i}: {}\n   {} {}\n   {} {}",
                clean(&c.subject),
                l("issuer"),
                clean(&c.issuer),
                l("valid_until"),
                c.not_after
            )
        })
        .collect();
    t.add_row(vec![
        l("server_chain"),
        if chain.is_empty() {
            none.clone()
        } else {
            chain.join("\n")
        },
    ]);
    t.add_row(vec![
        l("server_chain_valid"),
        match &f.server_verify_error {
            None if f.server_chain.is_empty() => none.clone(),
            None => l("chain_ok"),
            Some(e) => clean(e),
        },
    ]);
    t.add_row(vec![
        l("client_cert_requested"),
        yes_no(f.client_cert_requested),
    ]);
    t.add_row(vec![
        l("acceptable_cas"),
        if f.acceptable_client_cas.is_empty() {
            none.clone()
        } else {
            f.acceptable_client_cas
                .iter()
                .map(|s| clean(s))
                .collect::<Vec<_>>()
                .join("\n")
        },
    ]);
    t.add_row(vec![l("client_cert_sent"), yes_no(f.client_cert_sent)]);
    format!("{t}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let u = parse_target("localhost:8443").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("localhost", 8443));
        let u = parse_target("example.test").unwrap();
        assert_eq!(u.port, 443);
        let u = parse_target("::1").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 443));
        let u = parse_target("[::1]:9443").unwrap();
        assert_eq!(u.port, 9443);
        let u = parse_target("https://h.test:1/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("h.test", 1));
        assert!(parse_target("http://h.test/").is_err());
        assert!(parse_target("h:99999").is_err());
        assert!(parse_target("").is_err());
    }
}

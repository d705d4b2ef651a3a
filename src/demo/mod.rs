//! `certprobe demo`: a simulated service on 127.0.0.1, checked by the real probes.
//!
//! [`Demo::start`] builds a demo PKI in memory, starts the service's sites on ephemeral ports
//! (log-in and certificate-check page requiring client certificates, sign-up, issuance, a CA
//! repository, and per scenario an intercepting proxy or a TLS 1.0-only responder), writes the
//! person's identity and the demo root to a private temporary folder, and hands back a profile
//! and check arguments pointing at them. The caller runs the ordinary check with those: the
//! demo differs from real use only in the profile and the trust anchors it passes.

pub mod pki;
pub mod server;

use crate::cert::IdentityOptions;
use crate::error::AppError;
use crate::finding::{Lang, Status};
use crate::net::NetOptions;
use crate::probe::CheckOptions;
use crate::profile::{
    CaRole, CaSpec, CertificateHosts, ClientCertSpec, Endpoint, LoginForm, Profile, ProfileText,
    ProxySpec,
};
use pki::{ClientKind, Pki};
use server::{Page, Request, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The per-user parts of the demo's URLs (from a pretend registration e-mail).
pub const DEMO_TOKEN: &str = "demo-token-0001";
pub const DEMO_SIGNUP_CODE: &str = "demo-signup-0001";
/// The demo user's ID and password (for `check --login` against the simulated log-in form).
pub const DEMO_USER: &str = "demo-user";
pub const DEMO_PASSWORD: &str = "demo-password-1";

/// A situation the demo simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Healthy,
    MissingIntermediate,
    ExpiredCertificate,
    WrongIssuer,
    NoCertificate,
    AccountLocked,
    SignupIncomplete,
    ProxyIntercepts,
    LegacyTls,
}

/// The finding a scenario must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub id: &'static str,
    pub status: Status,
    pub section: &'static str,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Healthy,
        Scenario::MissingIntermediate,
        Scenario::ExpiredCertificate,
        Scenario::WrongIssuer,
        Scenario::NoCertificate,
        Scenario::AccountLocked,
        Scenario::SignupIncomplete,
        Scenario::ProxyIntercepts,
        Scenario::LegacyTls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::MissingIntermediate => "missing-intermediate",
            Scenario::ExpiredCertificate => "expired-certificate",
            Scenario::WrongIssuer => "wrong-issuer",
            Scenario::NoCertificate => "no-certificate",
            Scenario::AccountLocked => "account-locked",
            Scenario::SignupIncomplete => "signup-incomplete",
            Scenario::ProxyIntercepts => "proxy-intercepts",
            Scenario::LegacyTls => "legacy-tls",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// One line saying what the scenario simulates.
    pub fn description(self, lang: Lang) -> String {
        crate::guide::label(&format!("demo.scenario.{}", self.name()), lang)
    }

    /// The finding the check must show for this scenario (`None`: nothing fails).
    pub fn expected(self) -> Option<Expected> {
        let (id, status, section) = match self {
            Scenario::Healthy => return None,
            Scenario::MissingIntermediate => ("cert.chain", Status::Fail, "2-1 (7)"),
            Scenario::ExpiredCertificate => ("cert.validity", Status::Fail, "2-1 (6)"),
            Scenario::WrongIssuer => ("cert.issuer", Status::Fail, "2-1 (6)"),
            Scenario::NoCertificate => ("cert.load", Status::Fail, "2-1 (6)"),
            Scenario::AccountLocked => ("net.login.page", Status::Fail, "2-2 46"),
            Scenario::SignupIncomplete => ("net.login.page", Status::Fail, "2-2 53"),
            Scenario::ProxyIntercepts => ("net.login.tls", Status::Fail, "1-3 (5)-(8)"),
            Scenario::LegacyTls => ("net.login.versions", Status::Fail, "2-1 (4)"),
        };
        Some(Expected {
            id,
            status,
            section,
        })
    }

    fn client_kind(self) -> ClientKind {
        match self {
            Scenario::ExpiredCertificate => ClientKind::Expired,
            Scenario::WrongIssuer => ClientKind::OtherIssuer,
            _ => ClientKind::Good,
        }
    }
}

/// The running simulated service and what the check needs to look at it.
pub struct Demo {
    pub scenario: Scenario,
    pub profile: Profile,
    pub args: CheckOptions,
    /// Each site's id and address, for the introduction.
    pub sites: Vec<(&'static str, SocketAddr)>,
    /// Holds the person's identity and the demo root; removed on drop.
    _dir: tempfile::TempDir,
    /// Serves the sites; stopped on drop.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// An error that ends the demo: `what` names the catalogue entry of the step that failed.
fn internal(what: &str) -> impl FnOnce(String) -> AppError + '_ {
    move |e| {
        let step = crate::guide::message(&format!("errors.demo.{what}"), &[]);
        AppError::internal("errors.demo", &[("what", &step), ("error", &e)])
    }
}

impl Demo {
    /// Build the PKI, start the sites and write the files. Everything listens on 127.0.0.1.
    pub fn start(scenario: Scenario) -> Result<Demo, AppError> {
        let kind = scenario.client_kind();
        let pki = Pki::new(kind).map_err(|e| internal("pki")(e.to_string()))?;
        let dir = tempfile::Builder::new()
            .prefix("certprobe-demo-")
            .tempdir()
            .map_err(|e| internal("temp_folder")(e.to_string()))?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("certprobe-demo")
            .enable_all()
            .build()
            .map_err(|e| internal("runtime")(e.to_string()))?;
        let sites = {
            // Entering (not blocking on) the runtime lets this run inside another runtime too.
            let _guard = runtime.enter();
            start_sites(scenario, &pki)?
        };
        let addr = |id: &str| {
            sites
                .iter()
                .find(|(s, _)| *s == id)
                .map(|(_, a)| *a)
                .ok_or_else(|| AppError::internal("errors.demo_site", &[("site", id)]))
        };

        let profile = demo_profile(
            addr("check")?,
            addr("issuance")?,
            addr("signup")?,
            addr("login")?,
            addr("repository")?,
            &pki,
        );
        let args = write_identity(scenario, kind, &pki, dir.path(), sites.as_slice())?;
        Ok(Demo {
            scenario,
            profile,
            args,
            sites,
            _dir: dir,
            runtime: Some(runtime),
        })
    }
}

fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn url(addr: SocketAddr, scheme: &str, path: &str) -> String {
    format!("{scheme}://{addr}{path}")
}

/// The demo's profile: the built-in profile's expectations and page patterns, with the
/// endpoints and CA downloads on 127.0.0.1.
fn demo_profile(
    check: SocketAddr,
    issuance: SocketAddr,
    signup: SocketAddr,
    login: SocketAddr,
    repository: SocketAddr,
    pki: &Pki,
) -> Profile {
    let builtin = Profile::builtin();
    // Each endpoint is titled as in the built-in profile.
    let title = |id: &str| {
        builtin
            .endpoints
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.title.clone())
            .unwrap_or_else(|| ProfileText::Same(id.to_string()))
    };
    let ep = |id: &str, url: String, client_cert: bool, section: &str| Endpoint {
        id: id.into(),
        title: title(id),
        url,
        client_cert,
        section: section.into(),
        optional_param: None,
        expect: None,
    };
    let mut issuance_ep = ep(
        "issuance",
        url(issuance, "https", "/scira/Entrance.jsp?{token}"),
        false,
        "1-6",
    );
    issuance_ep.optional_param = Some("token".into());
    let mut signup_ep = ep(
        "signup",
        url(signup, "https", "/ebunsho/SignUp.do?cd={signup_code}"),
        true,
        "2-4",
    );
    signup_ep.optional_param = Some("signup_code".into());
    Profile {
        name: "demo".into(),
        title: Some("certprobe demo: simulated service on 127.0.0.1".into()),
        client_cert: ClientCertSpec {
            ..builtin.client_cert.clone()
        },
        proxy: ProxySpec {
            exceptions: vec!["127.0.0.1".into()],
        },
        certificate_hosts: CertificateHosts {
            allow: vec!["127.0.0.1".into()],
        },
        endpoints: vec![
            ep(
                "check",
                url(check, "https", "/scira/doc/pfm20pub/index.html"),
                true,
                "2-1 (5)",
            ),
            issuance_ep,
            signup_ep,
            ep(
                "login",
                url(login, "https", "/ebunsho/UrlExclusive.do"),
                true,
                "2-1",
            ),
        ],
        cas: vec![
            CaSpec {
                role: CaRole::Root,
                name: pki::ROOT_OU.into(),
                url: Some(url(repository, "http", "/SC-Root1/SCRoot1ca.cer")),
                sha256: Some(sha256_hex(pki.root.der().as_ref())),
            },
            CaSpec {
                role: CaRole::Intermediate,
                name: pki::INTER_CN.into(),
                url: Some(url(
                    repository,
                    "http",
                    "/spcpp/pfm20pub/ca1/PfM20PUBCA1.cer",
                )),
                sha256: Some(sha256_hex(pki.inter.der().as_ref())),
            },
        ],
        pages: builtin.pages.clone(),
        login: Some(LoginForm {
            url: url(login, "https", "/ebunsho/Login.do"),
            user_field: "userId".into(),
            password_field: "password".into(),
            extra_fields: Default::default(),
            success_pattern: pages().success_pattern.clone(),
        }),
    }
}

/// Write what the person has (certificate, key, the root to trust) and the check's arguments.
fn write_identity(
    scenario: Scenario,
    kind: ClientKind,
    pki: &Pki,
    dir: &std::path::Path,
    sites: &[(&'static str, SocketAddr)],
) -> Result<CheckOptions, AppError> {
    let write = |name: &str, content: String| -> Result<PathBuf, AppError> {
        let path = dir.join(name);
        std::fs::write(&path, content)
            .map_err(|e| internal("write_file")(format!("{}: {e}", path.display())))?;
        Ok(path)
    };
    let root = write("root.pem", pki.root.pem())?;
    let mut identity = IdentityOptions {
        trust: vec![root],
        no_system_trust: true,
        // Self-contained on every computer: not the PC's own certificate stores either.
        no_os_stores: true,
        ..Default::default()
    };
    if scenario != Scenario::NoCertificate {
        let mut chain = pki.client.pem();
        if scenario != Scenario::MissingIntermediate {
            chain.push_str(&pki.client_issuer(kind).pem());
        }
        identity.cert = Some(write("client.pem", chain)?);
        identity.key = Some(write("client.key", pki.client.key_pem())?);
    }
    let proxy = sites
        .iter()
        .find(|(id, _)| *id == "proxy")
        .map(|(_, a)| format!("http://{a}"));
    let net = NetOptions {
        no_proxy: proxy.is_none(),
        proxy,
        token: Some(DEMO_TOKEN.into()),
        signup_code: Some(DEMO_SIGNUP_CODE.into()),
        ..Default::default()
    };
    Ok(CheckOptions {
        identity,
        net,
        ..Default::default()
    })
}

/// Start every site of the scenario; returns each site's id and address.
fn start_sites(scenario: Scenario, pki: &Pki) -> Result<Vec<(&'static str, SocketAddr)>, AppError> {
    let err = |e: std::io::Error| internal("listen")(e.to_string());
    let chain = vec![pki.server.der()];
    let with_client_auth = server::server_config(
        chain.clone(),
        pki.server.key_der(),
        Some((pki.root.der(), pki.inter.der())),
    )
    .map_err(internal("server_config"))?;
    let without_client_auth = server::server_config(chain, pki.server.key_der(), None)
        .map_err(internal("server_config"))?;
    let mut sites = Vec::new();

    let (l, a) = server::listen().map_err(err)?;
    server::spawn_tls_site(l, with_client_auth.clone(), check_page());
    sites.push(("check", a));

    let (l, a) = server::listen().map_err(err)?;
    server::spawn_tls_site(l, without_client_auth, issuance_site());
    sites.push(("issuance", a));

    let (l, a) = server::listen().map_err(err)?;
    server::spawn_tls_site(l, with_client_auth.clone(), signup_site());
    sites.push(("signup", a));

    let (l, a) = server::listen().map_err(err)?;
    if scenario == Scenario::LegacyTls {
        server::spawn_legacy_responder(l);
    } else {
        server::spawn_tls_site(l, with_client_auth, login_site(scenario));
    }
    sites.push(("login", a));

    let (l, a) = server::listen().map_err(err)?;
    server::spawn_plain_site(l, repository(pki));
    sites.push(("repository", a));

    if scenario == Scenario::ProxyIntercepts {
        let forged = server::server_config(
            vec![pki.intercept_server.der(), pki.intercept_ca.der()],
            pki.intercept_server.key_der(),
            None,
        )
        .map_err(internal("proxy_config"))?;
        let (l, a) = server::listen().map_err(err)?;
        server::spawn_intercepting_proxy(l, forged);
        sites.push(("proxy", a));
    }
    Ok(sites)
}

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n<p><small>certprobe demo</small></p>\n</body></html>\n"
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn check_page() -> Router {
    Arc::new(|req: &Request| {
        if !req.target.starts_with("/scira/doc/pfm20pub/") {
            return Page::not_found();
        }
        let who = req
            .client_subject
            .as_deref()
            .map(escape_html)
            .unwrap_or_default();
        let p = &pages().check;
        Page::html_utf8(200, &page_html(&p.title, &p.body.replace("{who}", &who)))
    })
}

fn issuance_site() -> Router {
    Arc::new(|req: &Request| {
        if !req.target.starts_with("/scira/Entrance.jsp") {
            return Page::not_found();
        }
        let p = &pages().issuance;
        Page::html_utf8(200, &page_html(&p.title, &p.body))
    })
}

fn signup_site() -> Router {
    Arc::new(|req: &Request| {
        if !req.target.starts_with("/ebunsho/SignUp.do") {
            return Page::not_found();
        }
        let p = &pages().signup;
        Page::html_sjis(200, &page_html(&p.title, &p.body))
    })
}

fn login_site(scenario: Scenario) -> Router {
    Arc::new(move |req: &Request| {
        if !req.target.starts_with("/ebunsho/") {
            return Page::not_found();
        }
        if req.method == "POST" && req.target.starts_with("/ebunsho/Login.do") {
            return login_answer(scenario, req);
        }
        let p = &pages().login;
        let body = match scenario {
            Scenario::AccountLocked => &p.locked,
            Scenario::SignupIncomplete => &p.signup_incomplete,
            _ => &p.form,
        };
        Page::html_sjis(200, &page_html(&p.title, body))
    })
}

/// What the log-in form answers: the scenario's error code, or success for the demo user's
/// password, or a wrong-password message (which carries no code).
fn login_answer(scenario: Scenario, req: &Request) -> Page {
    let p = &pages().answer;
    let (Some(user), Some(password)) = (req.form_field("userId"), req.form_field("password"))
    else {
        return Page::html_sjis(400, &page_html(&p.missing_title, &p.missing));
    };
    let body = match scenario {
        Scenario::AccountLocked => p.locked.clone(),
        Scenario::SignupIncomplete => p.signup_incomplete.clone(),
        _ if user == DEMO_USER && password == DEMO_PASSWORD => {
            p.welcome.replace("{user}", &escape_html(&user))
        }
        _ => p.wrong.clone(),
    };
    Page::html_sjis(200, &page_html(&p.title, &body))
}

/// The simulated service's own pages (`pages.toml`): Japanese, as the real service writes them.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Pages {
    success_pattern: String,
    check: PlainPage,
    issuance: PlainPage,
    signup: PlainPage,
    login: LoginPages,
    answer: AnswerPages,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainPage {
    title: String,
    body: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginPages {
    title: String,
    form: String,
    locked: String,
    signup_incomplete: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerPages {
    title: String,
    missing_title: String,
    missing: String,
    locked: String,
    signup_incomplete: String,
    welcome: String,
    wrong: String,
}

fn pages() -> &'static Pages {
    static PAGES: std::sync::OnceLock<Pages> = std::sync::OnceLock::new();
    PAGES.get_or_init(|| match toml::from_str(include_str!("pages.toml")) {
        Ok(p) => p,
        // Compiled in and parsed by the demo's unit tests: a broken file fails them first.
        Err(e) => panic!("built-in demo pages are malformed: {e}"),
    })
}

fn repository(pki: &Pki) -> Router {
    let root = pki.root.der().as_ref().to_vec();
    let inter = pki.inter.der().as_ref().to_vec();
    Arc::new(move |req: &Request| {
        let body = match req.target.as_str() {
            "/SC-Root1/SCRoot1ca.cer" => root.clone(),
            "/spcpp/pfm20pub/ca1/PfM20PUBCA1.cer" => inter.clone(),
            _ => return Page::not_found(),
        };
        Page {
            status: 200,
            content_type: "application/pkix-cert",
            body,
        }
    })
}

#[cfg(test)]
mod tests;

//! What the pictures of the HTML report show, read from the findings' `data`: the certificate
//! chain (leaf → intermediates → root) and the route of each endpoint (DNS, proxy, TCP, TLS,
//! HTTP). Nothing here probes; every fact comes from a [`Finding`] of the [`Report`].

use crate::finding::{Finding, Status, Text};
use crate::report::Report;
use serde_json::Value;
use std::time::Duration;
use time::Date;

/// Where a certificate stands in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leaf,
    Intermediate,
    Root,
}

/// How a box of the chain is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Found and valid.
    Ok,
    /// Looked for and not found: drawn dashed.
    Missing,
    Expired,
    NotYetValid,
    /// Present, but the check names it as the problem (usage, signature, not trusted).
    Problem,
    /// Present, but not one of the issuers the service accepts.
    WrongIssuer,
    /// Found where the check looked, its validity not examined (the check stopped before).
    Found,
    /// Not reached: the check stopped before it (drawn grey).
    Unchecked,
}

impl State {
    pub fn status(self) -> Status {
        match self {
            State::Ok | State::Found => Status::Pass,
            State::Unchecked => Status::Skip,
            _ => Status::Fail,
        }
    }
}

/// One certificate of the chain picture.
#[derive(Debug, Clone)]
pub struct ChainBox {
    pub role: Role,
    pub name: String,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<Date>,
    pub not_after: Option<Date>,
    pub state: State,
}

impl ChainBox {
    fn new(role: Role, name: &str, state: State) -> ChainBox {
        ChainBox {
            role,
            name: name.to_string(),
            subject: None,
            issuer: None,
            not_before: None,
            not_after: None,
            state,
        }
    }
}

fn find<'a>(r: &'a Report, id: &str) -> Option<&'a Finding> {
    r.findings.iter().find(|f| f.id == id)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|x| !x.is_empty())
}

/// `2027-11-07` or `2027-11-07T00:41:35Z` → the date.
pub fn date(v: Option<&str>) -> Option<Date> {
    let v = v?;
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(v.get(..10)?, &f).ok()
}

/// The chain as the check saw it. Empty when the report has no certificate findings at all.
pub fn chain(r: &Report) -> Vec<ChainBox> {
    let load = find(r, "cert.load");
    let chain = find(r, "cert.chain");
    if load.is_none() && chain.is_none() {
        return Vec::new();
    }
    // A chain that validated is drawn from its path; a broken one from what the checks say is
    // missing or wrong (its path then holds only the certificates up to the break).
    let valid = chain
        .and_then(|c| c.data.get("valid"))
        .and_then(Value::as_bool)
        != Some(false);
    let path = chain
        .and_then(|c| c.data.get("path"))
        .and_then(Value::as_array)
        .filter(|p| valid && !p.is_empty());
    let mut boxes = match path {
        Some(path) => path.iter().map(link_box).collect(),
        None => partial_chain(r, load, chain),
    };
    // A validity finding that failed marks the leaf, whatever the path says.
    if let (Some(v), Some(leaf)) = (find(r, "cert.validity"), boxes.first_mut()) {
        if v.status == Status::Fail && leaf.role == Role::Leaf && leaf.state == State::Ok {
            leaf.state = match v.data.get("days_left").and_then(Value::as_i64) {
                Some(d) if d > 0 => State::NotYetValid,
                _ => State::Expired,
            };
        }
    }
    // Issued by a CA the service does not accept: the leaf's issuer is the one to replace.
    if find(r, "cert.issuer").is_some_and(|f| f.status == Status::Fail) {
        if let Some(b) = boxes.get_mut(1).filter(|b| b.role != Role::Leaf) {
            if matches!(b.state, State::Ok | State::Found | State::Unchecked) {
                b.state = State::WrongIssuer;
            }
        }
    }
    boxes
}

fn link_box(l: &Value) -> ChainBox {
    let role = match s(l, "role") {
        Some("leaf") => Role::Leaf,
        Some("root") => Role::Root,
        _ => Role::Intermediate,
    };
    ChainBox {
        role,
        name: s(l, "name").unwrap_or("?").to_string(),
        subject: s(l, "subject").map(str::to_string),
        issuer: s(l, "issuer").map(str::to_string),
        not_before: date(s(l, "not_before")),
        not_after: date(s(l, "not_after")),
        state: State::Ok,
    }
}

/// When no path could be built: the leaf from `cert.load`, the links the chain check names as
/// broken, and the trusted root from `trust.root`.
fn partial_chain(r: &Report, load: Option<&Finding>, chain: Option<&Finding>) -> Vec<ChainBox> {
    let mut leaf = match load.map(|f| &f.data).filter(|d| s(d, "subject").is_some()) {
        Some(d) => ChainBox {
            role: Role::Leaf,
            name: s(d, "subject_name")
                .or(s(d, "subject"))
                .unwrap_or("?")
                .to_string(),
            subject: s(d, "subject").map(str::to_string),
            issuer: s(d, "issuer").map(str::to_string),
            not_before: date(s(d, "not_before")),
            not_after: date(s(d, "not_after")),
            state: State::Ok,
        },
        None => {
            let mut b = ChainBox::new(Role::Leaf, "", State::Missing);
            if load.is_some_and(|f| f.status != Status::Fail) {
                b.state = State::Unchecked;
            }
            b
        }
    };
    let issuer_name = load
        .and_then(|f| s(&f.data, "issuer_name"))
        .map(str::to_string);
    let mut middle: Vec<ChainBox> = Vec::new();
    let mut root: Option<ChainBox> = None;
    let problems = chain
        .and_then(|c| c.data.get("problems"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in &problems {
        let name = s(p, "name").unwrap_or_default();
        let on_leaf = name == leaf.name;
        match s(p, "kind").unwrap_or_default() {
            "leaf_expired" => leaf.state = State::Expired,
            "leaf_not_yet_valid" => leaf.state = State::NotYetValid,
            "intermediate_missing" => {
                middle.push(ChainBox::new(Role::Intermediate, name, State::Missing))
            }
            "intermediate_expired" => {
                let mut b = ChainBox::new(Role::Intermediate, name, State::Expired);
                b.not_after = date(s(p, "date"));
                middle.push(b);
            }
            "intermediate_not_yet_valid" => {
                let mut b = ChainBox::new(Role::Intermediate, name, State::NotYetValid);
                b.not_before = date(s(p, "date"));
                middle.push(b);
            }
            "root_not_trusted" => root = Some(ChainBox::new(Role::Root, name, State::Problem)),
            "root_expired" => {
                let mut b = ChainBox::new(Role::Root, name, State::Expired);
                b.not_after = date(s(p, "date"));
                root = Some(b);
            }
            "wrong_usage" | "no_digital_signature" | "weak_signature" | "bad_signature" => {
                if on_leaf {
                    leaf.state = State::Problem;
                } else if let Some(b) = middle.iter_mut().find(|b| b.name == name) {
                    b.state = State::Problem;
                } else {
                    middle.push(ChainBox::new(Role::Intermediate, name, State::Problem));
                }
            }
            _ => {}
        }
    }
    let trusted = find(r, "trust.root");
    if root.is_none() {
        root = trusted.map(|t| {
            let found = t
                .data
                .get("found")
                .and_then(Value::as_array)
                .and_then(|a| a.first());
            let state = match (t.status, found) {
                (Status::Fail, None) => State::Missing,
                (Status::Fail, Some(_)) => State::Expired,
                (_, Some(f)) if f.get("valid").and_then(Value::as_bool) == Some(false) => {
                    State::Expired
                }
                _ => State::Ok,
            };
            let mut b = ChainBox::new(Role::Root, &t.target, state);
            if let Some(f) = found {
                b.subject = s(f, "subject").map(str::to_string);
                b.not_before = date(s(f, "not_before"));
                b.not_after = date(s(f, "not_after"));
            }
            b
        });
    }
    // The issuer named by the leaf, when no problem mentions it: drawn, but not checked.
    if let Some(name) = issuer_name {
        let known =
            middle.iter().any(|b| b.name == name) || root.as_ref().is_some_and(|b| b.name == name);
        if !known && leaf.state != State::Missing {
            let found = find(r, "trust.intermediate").is_some_and(|f| f.status == Status::Pass);
            let state = if found {
                State::Found
            } else {
                State::Unchecked
            };
            middle.insert(0, ChainBox::new(Role::Intermediate, &name, state));
        }
    }
    let mut out = vec![leaf];
    out.extend(middle);
    out.extend(root);
    out
}

/// One step of an endpoint's route.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// `dns`, `proxy`, `tcp`, `tls`, `http`, `page`.
    pub kind: &'static str,
    pub finding: &'a Finding,
}

impl Step<'_> {
    pub fn elapsed(&self) -> Option<Duration> {
        self.finding.elapsed
    }
}

/// Where on the way a route breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    Pc,
    Proxy,
    Server,
}

/// The route of one endpoint: PC → (proxy) → server.
#[derive(Debug, Clone)]
pub struct Route<'a> {
    /// The endpoint id (`login`).
    pub id: String,
    /// Its name as the findings call it ("Log-in site"); empty when none says.
    pub name: Text,
    /// `host:port` of the server.
    pub server: String,
    /// The proxy URL, credentials removed, when the route goes through one.
    pub proxy: Option<String>,
    pub steps: Vec<Step<'a>>,
    /// TLS versions the server accepts, and whether each is shared with this client.
    pub versions: Option<&'a Finding>,
    /// The first failing step and the hop it is pinned on.
    pub failing: Option<(usize, Hop)>,
}

impl Route<'_> {
    pub fn accepted_versions(&self) -> Vec<String> {
        self.versions
            .and_then(|v| v.data.get("accepted"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn shared_versions(&self) -> Vec<String> {
        self.versions
            .and_then(|v| v.data.get("shared"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The status of a hop: the failing one fails, hops before it pass, hops after it were not
    /// reached.
    pub fn hop_status(&self, hop: Hop) -> Status {
        match self.failing {
            None => {
                if self.steps.iter().all(|s| s.finding.status == Status::Skip) {
                    Status::Skip
                } else {
                    Status::Pass
                }
            }
            Some((_, h)) if h == hop => Status::Fail,
            Some((_, h)) if order(hop) < order(h) => Status::Pass,
            Some(_) => Status::Skip,
        }
    }
}

fn order(h: Hop) -> u8 {
    match h {
        Hop::Pc => 0,
        Hop::Proxy => 1,
        Hop::Server => 2,
    }
}

/// "Log-in site" of "Log-in site: TLS handshake", in both languages.
fn endpoint_name(title: &Text) -> Text {
    let cut = |t: &str| {
        t.split_once(": ")
            .or_else(|| t.split_once('：'))
            .map(|(a, _)| a.trim().to_string())
            .unwrap_or_default()
    };
    let t = Text::new(cut(&title.en), cut(&title.ja));
    if t.en.is_empty() {
        Text::default()
    } else {
        t
    }
}

const STEPS: [&str; 6] = ["dns", "proxy", "tcp", "tls", "http", "page"];

/// The routes, one per endpoint, in the order the check ran them.
pub fn routes(r: &Report) -> Vec<Route<'_>> {
    let mut out: Vec<Route<'_>> = Vec::new();
    for f in &r.findings {
        let Some(rest) = f.id.strip_prefix("net.") else {
            continue;
        };
        let Some((ep, step)) = rest.rsplit_once('.') else {
            continue;
        };
        if ep.contains('.') {
            continue;
        }
        let kind = STEPS.iter().copied().find(|k| *k == step);
        if kind.is_none() && step != "versions" {
            continue;
        }
        let i = match out.iter().position(|x| x.id == ep) {
            Some(i) => i,
            None => {
                out.push(Route {
                    id: ep.to_string(),
                    name: Text::default(),
                    server: String::new(),
                    proxy: None,
                    steps: Vec::new(),
                    versions: None,
                    failing: None,
                });
                out.len() - 1
            }
        };
        let route = &mut out[i];
        if route.name.is_empty() {
            route.name = endpoint_name(&f.title);
        }
        match kind {
            Some(kind) => {
                if let Some(p) = s(&f.data, "proxy") {
                    route.proxy = Some(crate::text::url::without_credentials(p));
                }
                if kind == "tcp" || (kind == "tls" && route.server.is_empty()) {
                    route.server = f.target.clone();
                }
                route.steps.push(Step { kind, finding: f })
            }
            None => route.versions = Some(f),
        }
    }
    for route in &mut out {
        route.failing = route
            .steps
            .iter()
            .position(|s| s.finding.status == Status::Fail)
            .map(|i| (i, hop_of(&route.steps[i], route.proxy.is_some())));
        if route.failing.is_none() {
            if let Some(v) = route.versions.filter(|v| v.status == Status::Fail) {
                let i = route
                    .steps
                    .iter()
                    .position(|s| s.kind == "tls")
                    .unwrap_or(0);
                route.failing = Some((i, hop_of_kind("tls", v, route.proxy.is_some())));
            }
        }
    }
    out
}

fn hop_of(step: &Step<'_>, via_proxy: bool) -> Hop {
    hop_of_kind(step.kind, step.finding, via_proxy)
}

fn hop_of_kind(kind: &str, f: &Finding, via_proxy: bool) -> Hop {
    let intercepted = f.data.get("interception").and_then(Value::as_bool) == Some(true);
    match kind {
        "dns" => Hop::Pc,
        "proxy" => Hop::Proxy,
        "tcp" if via_proxy => Hop::Proxy,
        "tls" if via_proxy && intercepted => Hop::Proxy,
        _ => Hop::Server,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Phase;
    use serde_json::json;

    fn f(id: &str, status: Status, data: Value) -> Finding {
        Finding::new(id, Phase::Network, Text::same("Log-in site: step"), "h:443")
            .status(status, Text::same("d"))
            .data(data)
    }

    #[test]
    fn a_missing_intermediate_is_drawn_between_leaf_and_root() {
        let mut r = Report::new("t");
        r.findings = vec![
            f(
                "cert.load",
                Status::Pass,
                json!({"subject": "CN=S1", "subject_name": "S1", "issuer_name": "CA1",
                       "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z"}),
            ),
            f(
                "trust.root",
                Status::Pass,
                json!({"found": [{"subject": "OU=Root", "not_after": "2036-01-01T00:00:00Z", "valid": true}]}),
            ),
            f(
                "cert.chain",
                Status::Fail,
                json!({"path": [], "problems": [{"kind": "intermediate_missing", "name": "CA1", "of": "S1"}]}),
            ),
        ];
        let c = chain(&r);
        let shape: Vec<_> = c
            .iter()
            .map(|b| (b.role, b.name.as_str(), b.state))
            .collect();
        assert_eq!(
            shape,
            [
                (Role::Leaf, "S1", State::Ok),
                (Role::Intermediate, "CA1", State::Missing),
                (Role::Root, "h:443", State::Ok),
            ]
        );
        assert_eq!(c[0].not_after, date(Some("2027-01-01")));
    }

    #[test]
    fn an_expired_leaf_is_marked_and_its_issuer_is_unchecked() {
        let mut r = Report::new("t");
        r.findings = vec![
            f(
                "cert.load",
                Status::Pass,
                json!({"subject": "CN=S1", "subject_name": "S1", "issuer_name": "CA1"}),
            ),
            f(
                "cert.chain",
                Status::Fail,
                json!({"path": [], "problems": [{"kind": "leaf_expired", "name": "S1", "date": "2026-01-01"}]}),
            ),
        ];
        let c = chain(&r);
        assert_eq!(c[0].state, State::Expired);
        assert_eq!((c[1].name.as_str(), c[1].state), ("CA1", State::Unchecked));
    }

    #[test]
    fn a_wrong_issuer_marks_the_intermediate() {
        let mut r = Report::new("t");
        let link = |role: &str, name: &str| json!({"role": role, "name": name});
        r.findings = vec![
            f("cert.issuer", Status::Fail, Value::Null),
            f(
                "cert.chain",
                Status::Pass,
                json!({"path": [link("leaf", "S1"), link("intermediate", "Other CA"), link("root", "R")]}),
            ),
        ];
        let states: Vec<_> = chain(&r).iter().map(|b| b.state).collect();
        assert_eq!(states, [State::Ok, State::WrongIssuer, State::Ok]);
    }

    #[test]
    fn routes_pin_the_failure_on_a_hop() {
        let mut r = Report::new("t");
        r.findings = vec![
            f("net.login.dns", Status::Pass, Value::Null).elapsed(Duration::from_millis(1)),
            f(
                "net.login.tcp",
                Status::Pass,
                json!({"proxy": "http://u:pw@proxy:8080", "tunnel": true}),
            ),
            f("net.login.tls", Status::Fail, json!({"interception": true})),
            f("net.login.http", Status::Skip, Value::Null),
            f(
                "net.login.versions",
                Status::Pass,
                json!({"accepted": ["TLSv1.3"], "shared": ["TLSv1.3"]}),
            ),
            f("net.check.dns", Status::Fail, Value::Null),
        ];
        let rs = routes(&r);
        assert_eq!(rs.len(), 2);
        let login = &rs[0];
        assert_eq!(login.name.en, "Log-in site");
        assert_eq!(login.proxy.as_deref(), Some("http://proxy:8080"));
        assert_eq!(login.failing, Some((2, Hop::Proxy)));
        assert_eq!(login.hop_status(Hop::Pc), Status::Pass);
        assert_eq!(login.hop_status(Hop::Server), Status::Skip);
        assert_eq!(login.accepted_versions(), ["TLSv1.3"]);
        assert_eq!(rs[1].failing, Some((0, Hop::Pc)));
    }
}

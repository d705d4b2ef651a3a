//! The pictures of the HTML report: the certificate chain (boxes with validity bars) and the
//! route of each endpoint (hops and a timed waterfall), drawn with HTML boxes and inline SVG.

use super::model::{chain, routes, ChainBox, Hop, Role, Route, State};
use super::{badge, ms, status_class, t};
use crate::finding::Lang;
use crate::guide::label;
use crate::report::Report;
use crate::text::escape::clean;
use maud::{html, Markup};
use time::Date;

fn role_label(r: Role, lang: Lang) -> String {
    match r {
        Role::Leaf => label("html.chain.leaf", lang),
        Role::Intermediate => label("html.chain.intermediate", lang),
        Role::Root => label("html.chain.root", lang),
    }
}

fn state_word(s: State, lang: Lang) -> String {
    match s {
        State::Ok => label("html.state.ok", lang),
        State::Missing => label("html.state.missing", lang),
        State::Expired => label("html.state.expired", lang),
        State::NotYetValid => label("html.state.not_yet_valid", lang),
        State::Problem => label("html.state.problem", lang),
        State::WrongIssuer => label("html.state.wrong_issuer", lang),
        State::Found => label("html.state.found", lang),
        State::Unchecked => label("html.state.unchecked", lang),
    }
}

fn state_icon(s: State) -> &'static str {
    match s {
        State::Ok | State::Found => "✓",
        State::Unchecked => "?",
        State::Missing => "∅",
        _ => "✗",
    }
}

pub(super) fn chain_section(report: &Report, today: Date, lang: Lang) -> Markup {
    let boxes = chain(report);
    html! {
        section #chain .card {
            h2 { (label("html.chain", lang)) }
            @if boxes.is_empty() {
                p.muted { (label("html.chain.none", lang)) }
            } @else {
                ol.chain {
                    @for (i, b) in boxes.iter().enumerate() {
                        @if i > 0 {
                            li aria-hidden="true" class={ "link " @if b.state == State::Missing || boxes[i - 1].state == State::Missing { "broken" } } {
                                (arrow_down())
                            }
                        }
                        (chain_box(b, today, lang))
                    }
                }
            }
        }
    }
}

fn arrow_down() -> Markup {
    html! {
        svg.arrow-down viewBox="0 0 24 28" width="24" height="28" role="presentation" {
            line x1="12" y1="2" x2="12" y2="20" {}
            path d="M5 17 L12 26 L19 17" {}
        }
    }
}

fn chain_box(b: &ChainBox, today: Date, lang: Lang) -> Markup {
    let st = b.state.status();
    let missing = b.state == State::Missing;
    let name = if b.name.is_empty() {
        label("html.chain.no_leaf", lang)
    } else {
        clean(&b.name)
    };
    html! {
        li class={ "chain-box " (status_class(st)) @if missing { " missing" } } data-role=(role_key(b.role)) {
            div.box-head {
                span.role { (role_label(b.role, lang)) }
                span class={ "badge " (status_class(st)) } {
                    span.icon aria-hidden="true" { (state_icon(b.state)) } " " (state_word(b.state, lang))
                }
            }
            p.box-name { (name) }
            @if let Some(s) = &b.subject {
                p.dn { span.k { (label("html.subject", lang)) } " " (clean(s)) }
            }
            @if let Some(s) = &b.issuer {
                p.dn { span.k { (label("report.issuer", lang)) } " " (clean(s)) }
            }
            @if b.not_before.is_some() || b.not_after.is_some() {
                (validity_bar(b, today, lang))
            }
        }
    }
}

fn role_key(r: Role) -> &'static str {
    match r {
        Role::Leaf => "leaf",
        Role::Intermediate => "intermediate",
        Role::Root => "root",
    }
}

/// The validity period as a bar on a time axis, with today marked.
fn validity_bar(b: &ChainBox, today: Date, lang: Lang) -> Markup {
    let day = |d: Date| d.to_julian_day() as f64;
    let end = b.not_after.map(day).unwrap_or(day(today) + 365.0);
    let start = b.not_before.map(day).unwrap_or(end.min(day(today)) - 365.0);
    let lo = start.min(day(today));
    let hi = end.max(day(today));
    let pad = ((hi - lo) * 0.04).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |d: f64| (d - lo) / (hi - lo) * 100.0;
    let class = match b.state {
        State::Expired | State::NotYetValid => "period bad",
        _ => "period",
    };
    let fmt = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "…".into());
    html! {
        div.validity {
            svg.bar viewBox="0 0 100 12" preserveAspectRatio="none" role="img"
                aria-label=(format!("{} {} – {}", label("report.validity", lang), fmt(b.not_before), fmt(b.not_after))) {
                rect.track x="0" y="3" width="100" height="6" rx="1" {}
                rect class=(class) x=(format!("{:.2}", x(start))) y="2" width=(format!("{:.2}", (x(end) - x(start)).max(0.5))) height="8" rx="1" {}
                line.today x1=(format!("{:.2}", x(day(today)))) x2=(format!("{:.2}", x(day(today)))) y1="0" y2="12" {}
            }
            p.dates {
                (label("report.validity", lang)) " " (fmt(b.not_before)) " → " (fmt(b.not_after))
                " · " span.today-word { "▲ " (label("html.today", lang)) " " (today.to_string()) }
            }
        }
    }
}

fn step_label(kind: &str, lang: Lang) -> String {
    match kind {
        "dns" => label("html.step.dns", lang),
        "proxy" => label("html.step.proxy", lang),
        "tcp" => label("html.step.tcp", lang),
        "tls" => label("html.step.tls", lang),
        "http" => label("html.step.http", lang),
        _ => label("html.step.page", lang),
    }
}

pub(super) fn routes_section(report: &Report, lang: Lang) -> Markup {
    let routes = routes(report);
    html! {
        section #routes .card {
            h2 { (label("html.route", lang)) }
            @if routes.is_empty() {
                p.muted { (label("html.route.none", lang)) }
            }
            @for r in &routes { (route(r, lang)) }
        }
    }
}

fn route(r: &Route<'_>, lang: Lang) -> Markup {
    let name = if r.name.is_empty() {
        clean(&r.id)
    } else {
        t(&r.name, lang)
    };
    let failing_step = r.failing.map(|(i, _)| &r.steps[i]);
    let mut hops = vec![(Hop::Pc, label("html.hop.pc", lang), String::new())];
    if let Some(p) = &r.proxy {
        hops.push((Hop::Proxy, label("html.hop.proxy", lang), clean(p)));
    }
    hops.push((
        Hop::Server,
        label("html.hop.server", lang),
        clean(&r.server),
    ));
    let versions = r.accepted_versions();
    let shared = r.shared_versions();
    html! {
        article.route data-endpoint=(clean(&r.id)) {
            h3 { (name) " " code { (clean(&r.id)) } }
            ol.hops {
                @for (i, (hop, word, host)) in hops.iter().enumerate() {
                    @let st = r.hop_status(*hop);
                    @let failing = r.failing.is_some_and(|(_, h)| h == *hop);
                    @if i > 0 {
                        li aria-hidden="true" class={ "hop-link " (status_class(st)) } { (arrow_right()) }
                    }
                    li class={ "hop " (status_class(st)) @if failing { " failing" } } data-hop=(hop_key(*hop)) {
                        span.hop-name { (word) }
                        @if !host.is_empty() { span.hop-host { (host) } }
                        (badge(st, lang))
                        @if failing {
                            @if let Some(s) = failing_step {
                                span.fails-here { "✗ " (label("html.failing", lang)) ": " (step_label(s.kind, lang)) }
                            }
                        }
                    }
                }
            }
            (waterfall(r, lang))
            p.versions {
                span.k { (label("html.versions", lang)) } " "
                @if versions.is_empty() {
                    span.muted { (label("report.none", lang)) }
                }
                @for v in &versions {
                    @let ok = shared.contains(v);
                    span class={ "chip " @if ok { "st-pass" } @else { "st-warn" } } title=(if ok { label("html.versions.shared", lang) } else { label("html.versions.not_shared", lang) }) {
                        span.icon aria-hidden="true" { @if ok { "✓" } @else { "!" } } " " (clean(v))
                    }
                }
            }
        }
    }
}

fn hop_key(h: Hop) -> &'static str {
    match h {
        Hop::Pc => "pc",
        Hop::Proxy => "proxy",
        Hop::Server => "server",
    }
}

fn arrow_right() -> Markup {
    html! {
        svg.arrow-right viewBox="0 0 40 16" width="40" height="16" role="presentation" {
            line x1="2" y1="8" x2="34" y2="8" {}
            path d="M28 2 L38 8 L28 14" {}
        }
    }
}

/// DNS, proxy, TCP, TLS, HTTP as bars on one time axis, one after the other.
fn waterfall(r: &Route<'_>, lang: Lang) -> Markup {
    let total: f64 = r
        .steps
        .iter()
        .filter_map(|s| s.elapsed())
        .map(|d| d.as_secs_f64())
        .sum::<f64>()
        .max(1e-6);
    let mut at = 0.0;
    let rows: Vec<_> = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = s.elapsed().map(|d| d.as_secs_f64());
            let x = at / total * 100.0;
            at += d.unwrap_or(0.0);
            (i, s, d.map(|d| (x, (d / total * 100.0).max(0.8))))
        })
        .collect();
    html! {
        table.waterfall {
            tbody {
                @for (i, s, bar) in rows {
                    @let st = s.finding.status;
                    @let failing = r.failing.is_some_and(|(j, _)| j == i);
                    tr class={ (status_class(st)) @if failing { " failing" } } data-step=(s.kind) {
                        th scope="row" { (step_label(s.kind, lang)) }
                        td.bar-cell {
                            @if let Some((x, w)) = bar {
                                svg.wf viewBox="0 0 100 10" preserveAspectRatio="none" role="presentation" {
                                    rect.track x="0" y="2" width="100" height="6" {}
                                    rect.step x=(format!("{x:.2}")) y="1" width=(format!("{:.2}", w.min(100.0 - x).max(0.8))) height="8" {}
                                }
                            }
                        }
                        td.ms { (ms(s.finding, lang).unwrap_or_default()) }
                        td { (badge(st, lang)) }
                    }
                }
            }
        }
    }
}

//! The HTML report (`--format html`): every demo scenario renders a page that `tidy` (Debian
//! package `tidy`) accepts without a warning, self-contained, with the verdict the scenario is
//! named for; strings a server controls arrive escaped; the marker secrets never appear; and a
//! real browser (headless Chromium, Debian package `chromium`) draws the verdict, the chain and
//! the failing hop.

use crate::secrets::{
    assert_clean, identities, p, run, s, service, PROXY_PW, PROXY_USER, SIGNUP, TOKEN,
};
use crate::support::hostile::{Behavior, HostileServer, Http, TestCa};
use crate::support::tinyproxy::Tinyproxy;
use crate::support::{certprobe, need};
use rcgen::DnType;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The finding id, guide section and status a demo scenario is named for.
type Expect = (String, String, String);

/// Scenario names and what each is named for (none: healthy).
fn scenarios() -> Vec<(String, Option<Expect>)> {
    let out = certprobe().args(["demo", "--list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut v: Vec<(String, Option<Expect>)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        if let Some(expect) = rest.trim_start().strip_prefix("(expect: ") {
            // `cert.chain fail "2-1 (7)")` — or `nothing fails)` for the healthy one.
            let mut parts = expect.splitn(3, ' ');
            let (id, status, section) = (parts.next(), parts.next(), parts.next());
            if let (Some(last), Some(id), Some(status), Some(section)) =
                (v.last_mut(), id, status, section)
            {
                if let Some(section) = section.strip_prefix('"').and_then(|x| x.split_once('"')) {
                    last.1 = Some((id.to_string(), section.0.to_string(), status.to_string()));
                }
            }
        } else if !rest.starts_with(' ') {
            v.push((rest.split_whitespace().next().unwrap().to_string(), None));
        }
    }
    assert!(v.len() >= 9, "demo --list gave {v:?}\n{text}");
    v
}

/// `tidy` reads the page: no error, no warning. Returns its messages on failure.
fn assert_tidy(what: &str, html: &[u8]) {
    let tidy = need("tidy", "tidy");
    let mut c = Command::new(tidy)
        .args(["-q", "-e", "-utf8", "--gnu-emacs", "yes", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        c.stdin.take().unwrap().write_all(html).unwrap();
    }
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: tidy found problems (exit {:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One file, nothing loaded from elsewhere: no script, no element that loads anything, no
/// attribute that links or runs anything, no `url()` or `@import` in the style sheet.
fn assert_self_contained(what: &str, html: &str) {
    let mut tags = 0;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let tag = rest[i + 1..end].to_ascii_lowercase();
        rest = &rest[end..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            !["script", "link", "img", "iframe", "object", "embed", "image", "use", "base"]
                .contains(&name.as_str()),
            "{what}: a <{name}> element"
        );
        // Attribute names: what precedes each `=` outside quotes.
        let mut quoted = None;
        let mut word = String::new();
        for c in tag.chars() {
            match (quoted, c) {
                (Some(q), c) if c == q => quoted = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quoted = Some(c),
                (None, '=') => {
                    assert!(
                        !(word == "src" || word.ends_with("href") || word.starts_with("on")),
                        "{what}: attribute {word}= in <{tag}>"
                    );
                    word.clear();
                }
                (None, c) if c.is_whitespace() => word.clear(),
                (None, c) => word.push(c),
            }
        }
        tags += 1;
    }
    assert!(tags > 50, "{what}: only {tags} tags");
    let style = &html[html.find("<style>").unwrap()..html.find("</style>").unwrap()];
    for bad in ["url(", "@import", "@font-face"] {
        assert!(!style.contains(bad), "{what}: the style sheet has {bad}");
    }
}

/// No raw control character (but newline), DEL, C1 control or bidi override.
fn assert_no_controls(what: &str, html: &str) {
    if let Some(c) = html.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }) {
        panic!("{what}: raw control character U+{:04X}", c as u32);
    }
}

fn demo_html(scenario: &str, lang: &str) -> (i32, String) {
    let out = certprobe()
        .args([
            "demo",
            "--scenario",
            scenario,
            "--format",
            "html",
            "--lang",
            lang,
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

#[test]
fn every_demo_scenario_renders_a_valid_self_contained_page() {
    for (name, expect) in scenarios() {
        for lang in ["en", "ja"] {
            let what = format!("demo {name} ({lang})");
            let (code, html) = demo_html(&name, lang);
            assert_eq!(code, if expect.is_some() { 1 } else { 0 }, "{what}");
            assert!(
                html.starts_with(&format!("<!DOCTYPE html><html lang=\"{lang}\">")),
                "{what}: {}",
                &html[..html.len().min(200)]
            );
            assert_tidy(&what, html.as_bytes());
            assert_self_contained(&what, &html);
            assert_no_controls(&what, &html);
            for part in [
                "id=\"verdict\"",
                "id=\"chain\"",
                "id=\"routes\"",
                "id=\"findings\"",
                "id=\"form\"",
                "class=\"chain-box ",
                "prefers-color-scheme: dark",
                "@media print",
            ] {
                assert!(html.contains(part), "{what}: no {part}");
            }
            // [1]–[6] of the guide, each once.
            for n in 1..=6 {
                assert_eq!(
                    html.matches(&format!("<th scope=\"row\">[{n}] ")).count(),
                    1,
                    "{what}: [{n}]"
                );
            }
            let verdict =
                &html[html.find("id=\"verdict\"").unwrap()..html.find("id=\"chain\"").unwrap()];
            match &expect {
                None => assert!(
                    verdict.contains("st-pass") && !verdict.contains("data-cause"),
                    "{what}: {verdict}"
                ),
                Some((id, section, status)) => {
                    // The verdict names the scenario's guide section (its cause may be an
                    // earlier finding of the same fault), and the finding is listed with its status.
                    assert!(verdict.contains("data-cause=\""), "{what}: {verdict}");
                    assert!(
                        verdict.contains(&format!("<strong>{section}</strong>")),
                        "{what}: {verdict}"
                    );
                    assert!(verdict.contains("id=\"first-do\""), "{what}: {verdict}");
                    assert!(
                        html.contains(&format!(
                            "<li class=\"finding st-{status}\" data-id=\"{id}\">"
                        )),
                        "{what}: {id} is not listed as {status}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_missing_intermediate_is_drawn_missing_between_leaf_and_root() {
    let (_, html) = demo_html("missing-intermediate", "en");
    let chain = &html[html.find("id=\"chain\"").unwrap()..html.find("id=\"routes\"").unwrap()];
    let roles: Vec<&str> = chain
        .match_indices("data-role=\"")
        .map(|(i, m)| chain[i + m.len()..].split('"').next().unwrap())
        .collect();
    assert_eq!(roles, ["leaf", "intermediate", "root"], "{chain}");
    assert_eq!(
        chain.matches("class=\"chain-box st-fail missing\"").count(),
        1,
        "{chain}"
    );
    assert!(chain.contains("SECOM Passport for Member PUB CA1"));
    // The log-in route fails at the server, in the TLS step.
    let login = &html[html.find("data-endpoint=\"login\"").unwrap()..];
    assert!(
        login.contains("class=\"hop st-fail failing\" data-hop=\"server\""),
        "{login}"
    );
    assert!(
        login.contains("class=\"st-fail failing\" data-step=\"tls\""),
        "{login}"
    );
}

#[test]
fn an_intercepting_proxy_is_drawn_as_the_failing_hop() {
    let (_, html) = demo_html("proxy-intercepts", "en");
    let login = &html[html.find("data-endpoint=\"login\"").unwrap()..];
    let login = &login[..login.find("</article>").unwrap()];
    let hops: Vec<&str> = login
        .match_indices("data-hop=\"")
        .map(|(i, m)| login[i + m.len()..].split('"').next().unwrap())
        .collect();
    assert_eq!(hops, ["pc", "proxy", "server"], "{login}");
    assert!(
        login.contains("class=\"hop st-fail failing\" data-hop=\"proxy\""),
        "{login}"
    );
    // Not reached beyond the proxy; the PC side worked.
    assert!(
        login.contains("class=\"hop st-skip\" data-hop=\"server\""),
        "{login}"
    );
    assert!(
        login.contains("class=\"hop st-pass\" data-hop=\"pc\""),
        "{login}"
    );
}

// ------------------------------------------------------------------ strings from servers

/// HTML, control characters and bidi overrides in one string.
const EVIL: &str =
    "<script>alert(1)</script>\"><img src=x onerror=alert(2)>&amp;\u{1b}[31m\u{7}\u{202e}gnp.exe";

#[test]
fn server_controlled_strings_are_escaped() {
    let ca = TestCa::new(&format!("CA {EVIL}"));
    let mut cert = ca.server(
        &["127.0.0.1", "localhost"],
        &[
            (DnType::CommonName, format!("127.0.0.1 {EVIL}")),
            (DnType::OrganizationName, EVIL.to_string()),
        ],
        0,
    );
    cert.request_client_cert = false;
    let mut server_header = b"Server: ".to_vec();
    server_header.extend_from_slice(EVIL.replace(['\u{1b}', '\u{7}'], "").as_bytes());
    let server = HostileServer::start(
        "127.0.0.1",
        Behavior::Tls {
            cert: Arc::new(cert),
            http: Http::Page {
                status: 200,
                headers: vec![
                    server_header,
                    b"Content-Type: text/html; charset=utf-8".to_vec(),
                ],
                body: format!("<html><head><title>{EVIL}</title></head><body>{EVIL}</body></html>")
                    .into_bytes(),
            },
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    std::fs::write(
        &profile,
        format!(
            r#"name = "hostile-html"
title = "escape-laden server on 127.0.0.1"

[client_cert]
subject_pattern = "S47*"
issuers = ["SECOM Passport for Member PUB CA1"]
roots = ["Security Communication RootCA1"]

[certificate_hosts]
allow = ["127.0.0.1"]

[[endpoint]]
id = "login"
title = {{ en = "Log-in site", ja = "ログインサイト" }}
url = "https://{}/"
client_cert = true
section = "2-1"
"#,
            server.addr
        ),
    )
    .unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, &ca.pem).unwrap();
    let (cert, key) = (
        crate::support::pki("client-chain.pem"),
        crate::support::pki("client.key"),
    );
    let base = [
        "--profile",
        profile.to_str().unwrap(),
        "--only",
        "network",
        "--no-proxy",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--no-system-trust",
        "--trust",
        ca_path.to_str().unwrap(),
        "--timeout",
        "5s",
        "--format",
        "html",
    ];
    let out = certprobe().arg("check").args(base).output().unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    let report_file = dir.path().join("report.html");
    certprobe()
        .arg("report")
        .args(base)
        .args(["--out", report_file.to_str().unwrap(), "--message", EVIL])
        .assert()
        .code(predicates::ord::lt(2));
    let report = std::fs::read_to_string(&report_file).unwrap();
    for (what, page) in [("check", &html), ("report", &report)] {
        assert_tidy(what, page.as_bytes());
        assert_self_contained(what, page);
        assert_no_controls(what, page);
        // The hostile strings did reach the page — escaped.
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;"),
            "{what}: the server's strings are not shown escaped:\n{page}"
        );
        assert!(
            page.contains("\\u{1b}[31m") && page.contains("\\u{202e}"),
            "{what}"
        );
    }
    // The person's own message [1] too.
    assert!(
        report.contains("<td class=\"filled\">&lt;script&gt;alert(1)"),
        "{report}"
    );
}

// ------------------------------------------------------------------ secrets

#[test]
fn no_secret_reaches_the_html_report() {
    let e = service();
    let proxy = Tinyproxy::start(Some((PROXY_USER, PROXY_PW)));
    let proxy_url = format!("http://{PROXY_USER}:{PROXY_PW}@127.0.0.1:{}", proxy.port);
    for (id_name, id) in identities() {
        let mut common = s(&[
            "--profile",
            &p(&e.profile),
            "--trust",
            &p(&e.ca),
            "--trust",
            &p(&crate::support::pki("root.pem")),
            "--timeout",
            "8s",
            "--format",
            "html",
            "--proxy",
            &proxy_url,
            "--signup-code",
            SIGNUP,
            "--token",
            TOKEN,
        ]);
        common.extend(id);
        let mut a = s(&["check"]);
        a.extend(common.clone());
        let out = run(&format!("check {id_name} html"), &a, &[]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("id=\"routes\""));
        let file = e.dir.join(format!("report-{id_name}.html"));
        let mut a = s(&[
            "report",
            "--out",
            &p(&file),
            "--user-id",
            "u123",
            "--redact",
        ]);
        a.extend(common);
        run(&format!("report {id_name} html"), &a, &[]);
        let written = std::fs::read(&file).expect("the report file was written");
        assert_clean(&format!("html report file {id_name}"), &written);
        let text = String::from_utf8(written).unwrap();
        assert!(
            text.contains("[redacted]") && !text.contains("u123"),
            "{text}"
        );
        assert_tidy(&format!("report {id_name}"), text.as_bytes());
    }
}

// ------------------------------------------------------------------ a real browser

/// Run headless Chromium on `args`, at most `within`; its stdout.
fn chromium(profile: &Path, args: &[String], within: Duration) -> Vec<u8> {
    let bin = need("chromium", "chromium");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            // The page is a local file: no name needs resolving, so none is.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .env("HOME", profile)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).map(|_| v)
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap().unwrap()
}

#[test]
fn headless_chromium_draws_the_verdict_the_chain_and_the_failing_hop_and_prints_a4() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = demo_html("missing-intermediate", "en");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let shot = dir.path().join("shot.png");
    chromium(
        &dir.path().join("chromium"),
        &[
            "--window-size=1000,2400".to_string(),
            format!("--screenshot={}", shot.display()),
            url.clone(),
        ],
        Duration::from_secs(90),
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // Width and height from the IHDR chunk: the page was laid out at the window's size.
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (1000, 2400));
    assert!(
        png.len() > 20_000,
        "a {} byte screenshot is blank",
        png.len()
    );

    let dom = chromium(
        &dir.path().join("chromium"),
        &["--dump-dom".to_string(), url],
        Duration::from_secs(90),
    );
    let dom = String::from_utf8(dom).unwrap();
    // What the browser built from the file (serialised from its DOM, not the file's bytes).
    assert!(
        dom.contains("<section id=\"verdict\" class=\"verdict st-fail\" data-cause="),
        "{dom}"
    );
    assert!(dom.contains("Intermediate CA certificate"), "{dom}");
    let boxes = dom.matches("<li class=\"chain-box ").count();
    assert_eq!(boxes, 3, "{dom}");
    assert!(
        dom.contains("<li class=\"chain-box st-fail missing\" data-role=\"intermediate\">"),
        "{dom}"
    );
    assert!(
        dom.contains("class=\"hop st-fail failing\" data-hop=\"server\""),
        "{dom}"
    );
    assert!(dom.contains("fails here: TLS"), "{dom}");
    // Inline SVG is parsed as SVG: the bars are elements of the chain boxes.
    assert!(dom.matches("<rect class=\"track\"").count() >= 3, "{dom}");

    // Printed, every page is A4 (595 × 842 pt).
    let pdf = dir.path().join("report.pdf");
    let url = format!("file://{}", page.display());
    chromium(
        &dir.path().join("chromium"),
        &[
            "--no-pdf-header-footer".to_string(),
            format!("--print-to-pdf={}", pdf.display()),
            url,
        ],
        Duration::from_secs(90),
    );
    let pdf = std::fs::read(&pdf).expect("chromium printed the page");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    let boxes: Vec<&str> = text
        .match_indices("/MediaBox [")
        .map(|(i, m)| text[i + m.len()..].split(']').next().unwrap().trim())
        .collect();
    assert!(boxes.len() >= 2, "{} pages", boxes.len());
    for b in &boxes {
        let v: Vec<f64> = b.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert!(
            (v[2] - 595.0).abs() < 1.0 && (v[3] - 842.0).abs() < 1.0,
            "not A4: {b}"
        );
    }
}

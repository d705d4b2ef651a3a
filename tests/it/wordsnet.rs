//! The network probes speak the catalogue's words: run against real failures on 127.0.0.1
//! (a closed port, a server that never answers, a proxy that is down, a name the DNS server
//! does not know, a server that wants a client certificate), every finding's title and detail
//! reads as Japanese in Japanese and as English in English. Words of the operating system or a
//! library appear only inside the marked detail `（詳細: …）`; names, codes, addresses and
//! `quoted` values may be in either language. Errors of bad network flags are Japanese with
//! `--lang ja`.

use crate::support::dnsmasq::Dnsmasq;
use crate::support::nginx::Nginx;
use crate::support::{certprobe, fill, free_port, repo, SilentServer};
use certprobe::finding::{Finding, Phase};
use certprobe::net::NetOptions;
use certprobe::probe::LocalOutcome;
use certprobe::profile::Profile;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The loopback profile for `host` with the given ports, and the directory holding it.
fn profile(host: &str, verify: u16, open: u16) -> (tempfile::TempDir, std::path::PathBuf) {
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let text = fill(
        &src,
        &[
            ("HOST", host.to_string()),
            ("PORT_VERIFY", verify.to_string()),
            ("PORT_OPEN", open.to_string()),
            ("PATH_LOGIN", "/".to_string()),
            ("PATH_CHECK", "/".to_string()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loopback.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// No client certificate, no trusted roots: what a person without `--cert` has.
fn nobody() -> LocalOutcome {
    LocalOutcome {
        findings: vec![],
        client: None,
        client_issuer: None,
        roots: Arc::new(rustls::RootCertStore::empty()),
    }
}

fn run(host: &str, verify: u16, open: u16, args: NetOptions, timeout: Duration) -> Vec<Finding> {
    let (_dir, path) = profile(host, verify, open);
    let p = Profile::load(&path).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut out = certprobe::net::environment_probe(&p, &args);
    out.extend(
        rt.block_on(certprobe::net::probe_endpoints(
            &p,
            &args,
            &nobody(),
            Instant::now() + timeout,
        ))
        .unwrap(),
    );
    out
}

/// What may stand in a sentence of either language: marked details, URLs, `quoted` values
/// and distinguished names are taken out before the words are judged.
fn sentence_only(s: &str) -> String {
    let cuts = [
        r"（詳細: [^）]*）",
        r"\(detail: [^)]*\)$",
        r"https?://\S+",
        r"`[^`]*`",
        r"(?:CN|O|OU|C)=[^,)）、]*",
        // Host names (`login.test`, `localhost`) and addresses.
        r"\b[\w-]+(?:\.[\w-]+)+\b",
        r"\blocalhost\b",
    ];
    let mut out = s.to_string();
    for c in cuts {
        out = regex::Regex::new(c)
            .unwrap()
            .replace_all(&out, " ")
            .into_owned();
    }
    out
}

/// Two English words in a row (`cannot connect`, `system resolver`): a sentence left in English.
fn english_words(ja: &str) -> Option<String> {
    let re = regex::Regex::new(r"\b[A-Za-z]{2,}[ ,;:]+[A-Za-z][a-z]{2,}\b").unwrap();
    re.find(&sentence_only(ja)).map(|m| m.as_str().to_string())
}

fn japanese(en: &str) -> bool {
    regex::Regex::new(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
        .unwrap()
        .is_match(&sentence_only(en))
}

/// Every finding of the network area (the version probe and TLS settings belong to another
/// part and are left out) reads in its own language.
fn assert_each_language_its_own(fs: &[Finding], want_ids: &[&str]) {
    for id in want_ids {
        assert!(
            fs.iter().any(|f| f.id == *id),
            "no finding {id}; have {:?}",
            fs.iter().map(|f| &f.id).collect::<Vec<_>>()
        );
    }
    let unresolved = regex::Regex::new(r"^[a-z]+\.[a-z_.]+$").unwrap();
    let mut checked = 0;
    for f in fs {
        if f.id.ends_with(".versions") || f.id == "env.tls_settings" {
            continue;
        }
        for (what, t) in [("title", &f.title), ("detail", &f.detail)] {
            assert!(!t.ja.is_empty(), "{} {what}: no Japanese", f.id);
            if let Some(w) = english_words(&t.ja) {
                panic!("{} {what}: English `{w}` in Japanese: {}", f.id, t.ja);
            }
            assert!(
                !japanese(&t.en),
                "{} {what}: Japanese in English: {}",
                f.id,
                t.en
            );
            for s in [&t.en, &t.ja] {
                assert!(
                    !s.contains('{') && !unresolved.is_match(s),
                    "{} {what}: a catalogue key or placeholder left unresolved: {s}",
                    f.id
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= want_ids.len(), "only {checked} findings checked");
}

#[test]
fn the_detector_finds_english_and_spares_names_codes_and_details() {
    assert_eq!(
        english_words("接続できません (127.0.0.1:1: refused)"),
        None,
        "a code alone is not a sentence"
    );
    assert!(english_words("名前解決 (via system resolver)").is_some());
    assert!(english_words("答えられません: Query Refused").is_some());
    assert_eq!(english_words("HTTP CONNECT で TLS 1.3"), None);
    assert_eq!(
        english_words("接続を拒否されました（詳細: Connection refused (os error 111)）"),
        None
    );
    assert_eq!(
        english_words("プロキシ http://127.0.0.1:9/x y を経由 `the quoted value`"),
        None
    );
    assert!(japanese("cannot connect: 接続"));
    assert!(!japanese("the proxy (detail: 拒否)"));
}

#[test]
fn a_closed_port_is_told_in_each_language() {
    let closed = free_port();
    let fs = run(
        "localhost",
        closed,
        closed,
        NetOptions {
            no_proxy: true,
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert_each_language_its_own(
        &fs,
        &[
            "env.proxy",
            "net.check.dns",
            "net.check.tcp",
            "net.check.tls",
            "net.issuance.dns",
        ],
    );
    let tcp = fs.iter().find(|f| f.id == "net.check.tcp").unwrap();
    assert!(
        tcp.detail.ja.contains("接続を拒否されました"),
        "{}",
        tcp.detail.ja
    );
    let dns = fs.iter().find(|f| f.id == "net.check.dns").unwrap();
    assert!(
        dns.detail.ja.contains("この PC の DNS 設定"),
        "{}",
        dns.detail.ja
    );
    assert!(
        dns.detail.en.contains("system resolver"),
        "{}",
        dns.detail.en
    );
    let skipped = fs.iter().find(|f| f.id == "net.check.tls").unwrap();
    assert!(
        skipped.detail.ja.starts_with("未実行"),
        "{}",
        skipped.detail.ja
    );
    let token = fs.iter().find(|f| f.id == "net.issuance.dns").unwrap();
    assert!(token.detail.ja.contains("個別部分"), "{}", token.detail.ja);
}

#[test]
fn a_server_that_never_answers_is_told_in_each_language() {
    let silent = SilentServer::start();
    let fs = run(
        "127.0.0.1",
        silent.port,
        silent.port,
        NetOptions {
            no_proxy: true,
            endpoints: vec!["check".into()],
            ..Default::default()
        },
        Duration::from_secs(3),
    );
    assert_each_language_its_own(&fs, &["net.check.tcp", "net.check.tls"]);
    let tls = fs.iter().find(|f| f.id == "net.check.tls").unwrap();
    assert!(
        tls.detail.ja.contains("TLS ハンドシェイクが終わりません"),
        "{}",
        tls.detail.ja
    );
}

#[test]
fn a_proxy_that_is_down_is_told_in_each_language_with_the_os_words_marked() {
    let down = free_port();
    let fs = run(
        "localhost",
        free_port(),
        free_port(),
        NetOptions {
            proxy: Some(format!("http://127.0.0.1:{down}")),
            endpoints: vec!["login".into()],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert_each_language_its_own(&fs, &["env.proxy", "net.login.proxy", "net.login.tcp"]);
    let p = fs.iter().find(|f| f.id == "net.login.proxy").unwrap();
    assert!(
        p.detail.ja.contains("プロキシ経由の接続に失敗しました"),
        "{}",
        p.detail.ja
    );
    assert!(
        p.detail.ja.contains("接続を拒否されました"),
        "{}",
        p.detail.ja
    );
    // The OS's own words stay, but only as the marked detail.
    assert!(p.detail.ja.contains("（詳細: "), "{}", p.detail.ja);
    assert!(p.detail.en.contains("(detail: "), "{}", p.detail.en);
}

#[test]
fn an_unknown_name_is_told_in_each_language() {
    let dns = Dnsmasq::start(&["--address=/#/"]);
    let fs = run(
        "nowhere.test",
        free_port(),
        free_port(),
        NetOptions {
            no_proxy: true,
            resolver: Some(dns.addr()),
            endpoints: vec!["login".into()],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert_each_language_its_own(&fs, &["net.login.dns", "net.login.tcp"]);
    let d = fs.iter().find(|f| f.id == "net.login.dns").unwrap();
    assert!(d.detail.ja.contains("存在しません"), "{}", d.detail.ja);
    let fix = d.fix.as_ref().expect("a fix");
    assert!(
        !fix.ja.contains("{server}") && !fix.en.contains("{server}"),
        "{fix:?}"
    );
}

#[test]
fn a_refusing_dns_server_is_named_by_its_response_code() {
    // Without records or upstream servers dnsmasq refuses every query.
    let dns = Dnsmasq::start(&[]);
    let fs = run(
        "nowhere.test",
        free_port(),
        free_port(),
        NetOptions {
            no_proxy: true,
            resolver: Some(dns.addr()),
            endpoints: vec!["login".into()],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert_each_language_its_own(&fs, &["net.login.dns"]);
    let d = fs.iter().find(|f| f.id == "net.login.dns").unwrap();
    assert!(d.detail.ja.contains(": refused"), "{}", d.detail.ja);
    assert_eq!(d.data["error"], "server_error");
}

#[test]
fn a_server_that_wants_a_certificate_is_told_in_each_language() {
    let ng = Nginx::start();
    let fs = run(
        "localhost",
        ng.verify_port,
        ng.open_port,
        NetOptions {
            no_proxy: true,
            endpoints: vec!["login".into()],
            ..Default::default()
        },
        Duration::from_secs(15),
    );
    assert_each_language_its_own(&fs, &["net.login.tcp", "net.login.tls"]);
    assert!(fs.iter().any(|f| f.phase == Phase::Network));
}

/// Bad network flags end the run with one Japanese line under `--lang ja`, an English one
/// otherwise; exit 2.
#[test]
fn bad_network_flags_are_told_in_the_run_language() {
    let (_dir, path) = profile("localhost", 1, 1);
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["check", "--only", "network", "--endpoint", "nope"],
            "このエンドポイントはありません",
            "has no such endpoint",
        ),
        (
            &["check", "--only", "network", "--resolver", "dns.example"],
            "IP アドレスでも",
            "is not an IP address",
        ),
        (
            &["check", "--only", "network", "--proxy", "socks5://h:1"],
            "対応していません",
            "not supported",
        ),
    ];
    for (args, ja, en) in cases {
        for (lang, want, not) in [("ja", ja, en), ("en", en, ja)] {
            let out = certprobe()
                .args(["--lang", lang, "--profile", path.to_str().unwrap()])
                .args(args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {lang}: {err}");
            assert!(err.contains(want), "{args:?} {lang}: {err}");
            assert!(!err.contains(not), "{args:?} {lang}: {err}");
        }
    }
}

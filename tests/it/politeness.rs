//! Polite probing, counted at the server: a relay in front of each server reads the first TLS
//! record of every connection (the ClientHello) and notes who connected (directly, or from
//! tinyproxy's own address) and what the hello offered. From that:
//! - nothing the endpoint's own handshake proved is asked again (a TLS 1.2 handshake settles
//!   TLS 1.2, a TLS 1.3 handshake TLS 1.3), and one server is enumerated once per check;
//! - a single-threaded legacy server (`openssl s_server -tls1`) serves the endpoint's own
//!   connection first, and gets no rustls probe at all after refusing TLS 1.2 and 1.3, and no
//!   TLS 1.0 hello once its answer to the TLS 1.1 hello has settled TLS 1.0;
//! - `certprobe serve` remembers the versions for `versions_cache` and then asks again;
//! - every version probe takes the proxy when there is one (zero direct version probes).

use crate::support::nginx::Nginx;
use crate::support::openssl::SServer;
use crate::support::tinyproxy::Tinyproxy;
use crate::support::{certprobe, pki, ChildGuard};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The address tinyproxy's outgoing connections come from (its `Bind` setting).
const PROXY_SOURCE: &str = "127.0.0.5";

/// What the first record of a connection was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hello {
    /// No ClientHello (the connection closed first, or something else came).
    None,
    /// A hello of TLS 1.1 or older: its `legacy_version`.
    Legacy(u16),
    /// A TLS 1.2-style hello: the versions it offers (`supported_versions`, else 1.2).
    Modern(Vec<u16>),
}

impl Hello {
    /// The endpoint's own handshake (and the proxy's direct look) offer TLS 1.3 and 1.2.
    fn is_main(&self) -> bool {
        *self == Hello::Modern(vec![0x0304, 0x0303])
    }
    /// A version probe: a legacy hello, or a rustls hello restricted to one version.
    fn is_probe(&self) -> bool {
        matches!(self, Hello::Legacy(_) | Hello::Modern(_)) && !self.is_main()
    }
}

#[derive(Debug, Clone)]
struct Seen {
    from_proxy: bool,
    hello: Hello,
}

/// Parse a ClientHello record (enough of it for the versions).
fn parse_hello(rec: &[u8]) -> Hello {
    let get = |i: usize| rec.get(i).copied().map(usize::from);
    if rec.len() < 11 || rec[0] != 22 || rec[5] != 1 {
        return Hello::None;
    }
    let legacy = u16::from_be_bytes([rec[9], rec[10]]);
    if legacy < 0x0303 {
        return Hello::Legacy(legacy);
    }
    // 5 record + 4 handshake + 2 version + 32 random
    let mut i = 43;
    let Some(sid) = get(i) else {
        return Hello::None;
    };
    i += 1 + sid;
    let (Some(a), Some(b)) = (get(i), get(i + 1)) else {
        return Hello::None;
    };
    i += 2 + (a << 8 | b);
    let Some(comp) = get(i) else {
        return Hello::None;
    };
    i += 1 + comp + 2; // compression methods, extensions length
    while let (Some(t0), Some(t1), Some(l0), Some(l1)) =
        (get(i), get(i + 1), get(i + 2), get(i + 3))
    {
        let (ty, len) = (t0 << 8 | t1, l0 << 8 | l1);
        if ty == 43 {
            let body = &rec[(i + 5).min(rec.len())..(i + 4 + len).min(rec.len())];
            return Hello::Modern(
                body.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            );
        }
        i += 4 + len;
    }
    Hello::Modern(vec![legacy])
}

/// A relay on 127.0.0.1 in front of `upstream` that notes every connection in order of
/// acceptance, with its ClientHello.
struct Relay {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Relay {
    fn start(upstream: u16) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(client) = c else { continue };
                let from_proxy = client
                    .peer_addr()
                    .is_ok_and(|a| a.ip().to_string() == PROXY_SOURCE);
                let slot = {
                    let mut v = log.lock().unwrap();
                    v.push(Seen {
                        from_proxy,
                        hello: Hello::None,
                    });
                    v.len() - 1
                };
                let log = log.clone();
                std::thread::spawn(move || relay_one(client, upstream, &log, slot));
            }
        });
        Relay { port, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        // The relay's threads read the last hellos a moment after the client has them answered.
        std::thread::sleep(Duration::from_millis(300));
        self.seen.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

fn relay_one(mut client: TcpStream, upstream: u16, log: &Mutex<Vec<Seen>>, slot: usize) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    // The first record, whole.
    let mut first = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let want = if first.len() >= 5 {
            5 + (usize::from(first[3]) << 8 | usize::from(first[4]))
        } else {
            5
        };
        if first.len() >= want {
            break;
        }
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => first.extend_from_slice(&buf[..n]),
        }
    }
    if let Some(s) = log.lock().unwrap().get_mut(slot) {
        s.hello = parse_hello(&first);
    }
    if server.write_all(&first).is_err() {
        return;
    }
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut s2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut client, &mut server);
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
}

fn count(seen: &[Seen], f: impl Fn(&Seen) -> bool) -> usize {
    seen.iter().filter(|s| f(s)).count()
}

/// The versions of the legacy hellos, in order: SSL 3.0 and TLS 1.1 (0x0300, 0x0302). The
/// answer to the TLS 1.1 hello settles TLS 1.0 on these servers (a TLS 1.0 ServerHello, or
/// `protocol_version`), so no TLS 1.0 hello (0x0301) is sent.
fn legacy(seen: &[Seen]) -> Vec<u16> {
    let mut v: Vec<u16> = seen
        .iter()
        .filter_map(|s| match s.hello {
            Hello::Legacy(v) => Some(v),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// A profile with endpoints `(id, port)` on `localhost`, none presenting the certificate.
fn profile(dir: &Path, endpoints: &[(&str, u16)]) -> std::path::PathBuf {
    let mut text = String::from(
        "name = \"polite\"\ntitle = \"politeness test\"\n\n[client_cert]\nsubject_pattern = \"S47*\"\n\n\
         [certificate_hosts]\nallow = [\"localhost\"]\n",
    );
    for (id, port) in endpoints {
        text.push_str(&format!(
            "\n[[endpoint]]\nid = \"{id}\"\ntitle = {{ en = \"{id}\", ja = \"{id}\" }}\n\
             url = \"https://localhost:{port}/\"\nclient_cert = false\nsection = \"2-1\"\n"
        ));
    }
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `certprobe check --only network` with the profile and `extra` check options; the JSON report.
fn check(profile: &Path, extra: &[&str]) -> serde_json::Value {
    let p = |n: &str| pki(n).display().to_string();
    let out = certprobe()
        .arg("--profile")
        .arg(profile)
        .args(["--format", "json", "--timeout", "20s"])
        .args(["check", "--only", "network", "--cert"])
        .args([p("client-chain.pem"), "--key".into(), p("client.key")])
        .args([
            "--trust".into(),
            p("server-root.pem"),
            "--no-system-trust".into(),
        ])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The `versions` entry of `net.<id>.versions`: `{ "TLSv1.2": "accepted", … }`.
fn versions(report: &serde_json::Value, id: &str) -> serde_json::Map<String, serde_json::Value> {
    let want = format!("net.{id}.versions");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == want.as_str())
        .unwrap_or_else(|| panic!("no {want} in {report}"));
    f["data"]["versions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["result"].clone()))
        .collect()
}

fn s_server(extra: &[&str]) -> SServer {
    let (cert, key) = (pki("server.pem"), pki("server.key"));
    let mut args = vec![
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-www",
    ];
    args.extend_from_slice(extra);
    SServer::start(&args)
}

#[test]
fn a_tls12_handshake_is_not_asked_again() {
    let server = s_server(&["-tls1_2"]);
    let relay = Relay::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    let report = check(&profile(dir.path(), &[("page", relay.port)]), &[]);
    let v = versions(&report, "page");
    assert_eq!(v["TLSv1.2"], "accepted", "{v:?}");
    assert_eq!(v["TLSv1.3"], "refused", "{v:?}");
    let seen = relay.seen();
    assert_eq!(count(&seen, |s| s.hello.is_main()), 1, "{seen:?}");
    assert_eq!(
        count(&seen, |s| matches!(&s.hello, Hello::Modern(_))
            && !s.hello.is_main()),
        0,
        "no rustls version probe after a TLS 1.2 handshake: {seen:?}"
    );
    assert_eq!(legacy(&seen), [0x0300, 0x0302], "{seen:?}");
}

#[test]
fn a_tls13_handshake_is_not_asked_again_and_one_server_is_asked_once() {
    let ng = Nginx::start();
    let relay = Relay::start(ng.open_port);
    let dir = tempfile::tempdir().unwrap();
    // Two endpoints on the same server: one enumeration between them.
    let report = check(
        &profile(dir.path(), &[("one", relay.port), ("two", relay.port)]),
        &[],
    );
    for id in ["one", "two"] {
        let v = versions(&report, id);
        assert_eq!(
            (&v["TLSv1.3"], &v["TLSv1.2"]),
            (&"accepted".into(), &"accepted".into())
        );
        assert_eq!(v["TLSv1.1"], "refused", "{v:?}");
    }
    let seen = relay.seen();
    assert_eq!(count(&seen, |s| s.hello.is_main()), 2, "{seen:?}");
    assert_eq!(
        count(&seen, |s| s.hello == Hello::Modern(vec![0x0304])),
        0,
        "no TLS 1.3-only probe after a TLS 1.3 handshake: {seen:?}"
    );
    assert_eq!(
        count(&seen, |s| s.hello == Hello::Modern(vec![0x0303])),
        1,
        "{seen:?}"
    );
    assert_eq!(legacy(&seen), [0x0300, 0x0302], "{seen:?}");
}

#[test]
fn a_single_threaded_legacy_server_serves_the_endpoint_first() {
    let server = s_server(&["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    let relay = Relay::start(server.port);
    let dir = tempfile::tempdir().unwrap();
    let report = check(&profile(dir.path(), &[("old", relay.port)]), &[]);
    let v = versions(&report, "old");
    assert_eq!(v["TLSv1"], "accepted", "{v:?}");
    for k in ["TLSv1.3", "TLSv1.2", "TLSv1.1", "SSLv3"] {
        assert_eq!(v[k], "refused", "{k}: {v:?}");
    }
    let seen = relay.seen();
    assert!(
        seen.first().is_some_and(|s| s.hello.is_main()),
        "the endpoint's own connection is the first the server gets: {seen:?}"
    );
    // Its protocol_version refusal settles TLS 1.3 and 1.2: no rustls probe at all.
    assert_eq!(
        count(&seen, |s| matches!(s.hello, Hello::Modern(_))),
        1,
        "{seen:?}"
    );
    assert_eq!(legacy(&seen), [0x0300, 0x0302], "{seen:?}");
}

#[test]
fn version_probes_take_the_proxy() {
    let ng = Nginx::start();
    let relay = Relay::start(ng.open_port);
    let proxy = Tinyproxy::start_with(None, &format!("Bind {PROXY_SOURCE}\n"));
    let dir = tempfile::tempdir().unwrap();
    let report = check(
        &profile(dir.path(), &[("page", relay.port)]),
        &["--proxy", &proxy.url()],
    );
    let v = versions(&report, "page");
    assert_eq!(v["TLSv1.3"], "accepted", "{v:?}");
    assert_eq!(v["TLSv1.2"], "accepted", "{v:?}");
    assert_eq!(v["TLSv1.1"], "refused", "{v:?}");
    let seen = relay.seen();
    assert_eq!(
        count(&seen, |s| !s.from_proxy && s.hello.is_probe()),
        0,
        "direct version probes: {seen:?}"
    );
    // Beside the tunnel, only the interception check looks at the server directly (once).
    assert!(count(&seen, |s| !s.from_proxy) <= 1, "{seen:?}");
    assert_eq!(
        count(&seen, |s| s.from_proxy && s.hello.is_probe()),
        3,
        "TLS 1.2, 1.1 and SSL 3.0 through the proxy: {seen:?}"
    );
    let log = proxy.log();
    assert!(
        log.contains(&format!("localhost:{}", relay.port)),
        "tinyproxy saw no request for the server:\n{log}"
    );
}

/// `certprobe serve` with one module on `profile`, versions remembered for `cache`.
fn serve(dir: &Path, profile: &Path, cache: &str) -> (ChildGuard, String) {
    let p = |n: &str| pki(n).display().to_string();
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nversions_cache = \"{cache}\"\n[module.m]\nprofile = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n\
             trust = [\"{}\"]\nno_system_trust = true\n",
            profile.display(),
            p("client-chain.pem"),
            p("client.key"),
            p("server-root.pem"),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_certprobe"))
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env("LANG", "C")
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no listening line: {first}"))
        .to_string();
    (ChildGuard(child), addr)
}

/// One scrape: the metrics text.
fn scrape(addr: &str, target: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /probe?module=m&target={target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

#[test]
fn serve_remembers_versions_for_versions_cache_then_asks_again() {
    let ng = Nginx::start();
    let relay = Relay::start(ng.open_port);
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), &[("page", relay.port)]);
    let (_serve, addr) = serve(dir.path(), &prof, "3s");

    let probes = |seen: &[Seen]| count(seen, |s| s.hello.is_probe());
    let first = scrape(&addr, "page");
    assert!(first.contains("probe_tls_version_info"), "{first}");
    let seen = relay.seen();
    assert_eq!(probes(&seen), 3, "first scrape enumerates: {seen:?}");
    relay.clear();

    let second = scrape(&addr, "page");
    assert!(second.contains("probe_success"), "{second}");
    let seen = relay.seen();
    assert_eq!(probes(&seen), 0, "second scrape within the cache: {seen:?}");
    assert_eq!(count(&seen, |s| s.hello.is_main()), 1, "{seen:?}");
    relay.clear();

    std::thread::sleep(Duration::from_millis(3200));
    scrape(&addr, "page");
    let seen = relay.seen();
    assert_eq!(probes(&seen), 3, "after the cache's lifetime: {seen:?}");
}

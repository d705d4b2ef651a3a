//! `certprobe serve` end to end: the real Prometheus server (Debian `prometheus`) scrapes the
//! exporter, which checks a client-certificate log-in on nginx (tests/it/support/nginx.rs); the
//! series are read back through Prometheus's HTTP API, and `promtool test rules` runs
//! deploy/certprobe-alerts.yml on exactly those series. Then the exporter's own rules: 400s,
//! targets outside the profile, the queue's 503, the scrape-timeout header, no secret anywhere.

use crate::support::{self, fill, need, nginx::Nginx, pki, read_log, repo, ChildGuard};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "certprobe-test";

/// A running `certprobe serve` on a port it chose itself.
struct Serve {
    addr: String,
    child: ChildGuard,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Serve {
    fn start(config: &Path) -> Serve {
        let mut c = Command::new(env!("CARGO_BIN_EXE_certprobe"));
        for var in [
            "CERTPROBE_PROFILE",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "LC_ALL",
            "LC_MESSAGES",
        ] {
            c.env_remove(var);
        }
        let mut child = c
            .env("LANG", "C")
            .args(["-v", "serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start certprobe serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no listening line: {first}"))
            .to_string();
        // Keep reading stderr (the log), so the pipe never fills.
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(first));
        let s2 = stderr.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let mut s = s2.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Serve {
            addr,
            child: ChildGuard(child),
            stderr,
        }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// A plain HTTP/1.1 GET: (status, content type, body).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let ctype = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    // Bodies are small: unchunk if needed.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_string()
    };
    (status, ctype, body)
}

fn unchunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The value of the first sample of `metric` whose line contains all of `has`.
fn sample(body: &str, metric: &str, has: &[&str]) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            (l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
                && has.iter().all(|h| l.contains(h))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

struct World {
    _ng: Nginx,
    dir: tempfile::TempDir,
    config: PathBuf,
}

/// A leaf under the fixture intermediate that expires in `days` days (openssl).
fn expiring_chain(dir: &Path, days: u32) -> PathBuf {
    let openssl = need("openssl", "openssl");
    let csr = dir.join("expiring.csr");
    let leaf = dir.join("expiring.pem");
    let ext = dir.join("ext.cnf");
    std::fs::write(
        &ext,
        "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    let ok = Command::new(&openssl)
        .args(["req", "-new", "-key"])
        .arg(pki("client.key"))
        .args([
            "-subj",
            "/C=JP/O=SECOM Trust Systems CO.,LTD./OU=certprobe test/CN=S47000009",
            "-out",
        ])
        .arg(&csr)
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl req");
    let ok = Command::new(&openssl)
        .args(["x509", "-req", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(pki("inter.pem"))
        .arg("-CAkey")
        .arg(pki("inter.key"))
        .args([
            "-set_serial",
            "4242",
            "-days",
            &days.to_string(),
            "-extfile",
        ])
        .arg(&ext)
        .arg("-out")
        .arg(&leaf)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl x509");
    let chain = dir.join("expiring-chain.pem");
    let mut pem = std::fs::read_to_string(&leaf).unwrap();
    pem.push_str(&std::fs::read_to_string(pki("inter.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    chain
}

/// nginx with client authentication, a profile for it, and a serve configuration with four
/// modules: `good`, `expiring` (10 days left), `expired`, and `p12` (PKCS#12 + password file).
fn world(server: &str, extra: &str) -> World {
    let ng = Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let profile = fill(
        &src,
        &[
            ("HOST", "localhost".into()),
            ("PORT_VERIFY", ng.verify_port.to_string()),
            ("PORT_OPEN", ng.open_port.to_string()),
            ("PATH_LOGIN", "/utf8/login.html".into()),
            ("PATH_CHECK", "/whoami".into()),
        ],
    );
    std::fs::write(dir.path().join("profile.toml"), profile).unwrap();
    let expiring = expiring_chain(dir.path(), 10);
    let p = |n: &str| pki(n).display().to_string();
    let trust = format!(
        "trust = [\"{}\", \"{}\"]\nno_system_trust = true\nprofile = \"profile.toml\"\nendpoints = [\"login\", \"check\"]\n",
        p("server-root.pem"),
        p("root.pem")
    );
    let config = format!(
        "[server]\n{server}\n\
         [module.good]\ncert = \"{}\"\nkey = \"{}\"\n{trust}\n\
         [module.expiring]\ncert = \"{}\"\nkey = \"{}\"\n{trust}\n\
         [module.expired]\ncert = \"{}\"\nkey = \"{}\"\n{trust}\n\
         [module.p12]\ncert = \"{}\"\npassword_file = \"{}\"\n{trust}\n{extra}",
        p("client-chain.pem"),
        p("client.key"),
        expiring.display(),
        p("client.key"),
        p("client-expired.pem"),
        p("client.key"),
        p("client.p12"),
        p("password.txt"),
    );
    let path = dir.path().join("serve.toml");
    std::fs::write(&path, config).unwrap();
    World {
        _ng: ng,
        dir,
        config: path,
    }
}

/// Prometheus on a free port with a temporary storage folder, scraping `serve` every second
/// with the relabelling of deploy/prometheus.yml, and loading deploy/certprobe-alerts.yml.
struct Prometheus {
    port: u16,
    _child: ChildGuard,
    dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(exporter: &str, modules: &[&str]) -> Prometheus {
        let bin = need("prometheus", "prometheus");
        let dir = tempfile::tempdir().unwrap();
        let mut statics = String::new();
        for m in modules {
            statics.push_str(&format!(
                "      - targets: [login]\n        labels:\n          module: {m}\n"
            ));
        }
        let conf = format!(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: certprobe\n    metrics_path: /probe\n    static_configs:\n{statics}\
             \x20   relabel_configs:\n\
             \x20     - source_labels: [__address__]\n        target_label: __param_target\n\
             \x20     - source_labels: [module]\n        target_label: __param_module\n\
             \x20     - source_labels: [__param_target]\n        target_label: instance\n\
             \x20     - target_label: __address__\n        replacement: {exporter}\n\
             \x20 - job_name: certprobe-exporter\n    static_configs:\n      - targets: ['{exporter}']\n",
            repo().join("deploy/certprobe-alerts.yml").display()
        );
        let conf_path = dir.path().join("prometheus.yml");
        std::fs::write(&conf_path, conf).unwrap();
        let mut last = String::new();
        for _ in 0..3 {
            let port = support::free_port();
            let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
            let child = Command::new(&bin)
                .arg(format!("--config.file={}", conf_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start prometheus");
            let mut child = ChildGuard(child);
            let end = Instant::now() + Duration::from_secs(30);
            while Instant::now() < end && child.exited().is_none() {
                if TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && get(&format!("127.0.0.1:{port}"), "/-/ready", &[]).0 == 200
                {
                    return Prometheus {
                        port,
                        _child: child,
                        dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            last = read_log(&dir.path().join("prometheus.log"));
        }
        panic!("prometheus did not start:\n{last}");
    }

    fn api(&self, path: &str) -> Value {
        let (code, _, body) = get(&format!("127.0.0.1:{}", self.port), path, &[]);
        assert_eq!(code, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// The result of an instant query.
    fn query(&self, q: &str) -> Vec<Value> {
        let enc: String = url_encode(q);
        self.api(&format!("/api/v1/query?query={enc}"))["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The result of an instant query once it has one (a scrape may not have happened yet).
    fn query_eventually(&self, q: &str) -> Vec<Value> {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.query(q);
            if !r.is_empty() || Instant::now() >= end {
                return r;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn value(series: &Value) -> f64 {
    series["value"][1].as_str().unwrap().parse().unwrap()
}

fn label<'a>(series: &'a Value, name: &str) -> &'a str {
    series["metric"][name].as_str().unwrap_or("")
}

fn by_module<'a>(result: &'a [Value], module: &str) -> &'a Value {
    result
        .iter()
        .find(|s| label(s, "module") == module)
        .unwrap_or_else(|| panic!("no series for module {module}: {result:#?}"))
}

/// A series selector with every label of an API result (for promtool's input_series).
fn selector(series: &Value) -> String {
    let m = series["metric"].as_object().unwrap();
    let name = m["__name__"].as_str().unwrap();
    let labels: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| {
            let v = v
                .as_str()
                .unwrap()
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{name}{{{}}}", labels.join(","))
}

fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn prometheus_scrapes_certprobe_serve_and_the_alerts_fire() {
    let promtool = need("promtool", "prometheus");
    let w = world("", "");
    let serve = Serve::start(&w.config);
    let prom = Prometheus::start(&serve.addr, &["good", "expiring", "expired", "p12"]);

    // The series appear through Prometheus's HTTP API.
    let end = Instant::now() + Duration::from_secs(90);
    let mut success = Vec::new();
    while Instant::now() < end {
        success = prom.query("probe_success{job=\"certprobe\"}");
        if success.len() == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        success.len(),
        4,
        "series: {success:#?}\nserve log:\n{}\nprometheus log:\n{}",
        serve.log(),
        read_log(&prom.dir.path().join("prometheus.log"))
    );
    assert_eq!(value(by_module(&success, "good")), 1.0);
    assert_eq!(value(by_module(&success, "p12")), 1.0);
    assert_eq!(
        value(by_module(&success, "expiring")),
        1.0,
        "10 days left still logs in"
    );
    assert_eq!(value(by_module(&success, "expired")), 0.0);

    let up = prom.query("up{job=\"certprobe\"}");
    assert!(
        up.iter().all(|s| value(s) == 1.0),
        "every scrape answered: {up:#?}"
    );
    let status = prom.query("probe_http_status_code{job=\"certprobe\",module=\"good\"}");
    assert_eq!(value(&status[0]), 200.0);
    let version = prom.query("probe_tls_version_info{job=\"certprobe\",module=\"good\"}");
    assert!(
        label(&version[0], "version").starts_with("TLS 1."),
        "{version:#?}"
    );

    // Expired is a reason of its own, with its guide section; the server's certificate is
    // still there although nginx refused the log-in.
    let verdicts = prom.query("certprobe_verdict_info{job=\"certprobe\"}");
    let expired = by_module(&verdicts, "expired");
    assert_eq!(label(expired, "reason"), "client_cert_expired");
    assert_eq!(label(expired, "finding"), "cert.validity");
    assert!(!label(expired, "section").is_empty(), "{expired:#}");
    assert_eq!(label(by_module(&verdicts, "good"), "reason"), "ok");
    assert_eq!(
        label(by_module(&verdicts, "expiring"), "reason"),
        "client_cert_expiring"
    );
    let server_cert = prom.query(
        "certprobe_server_cert_expiry_timestamp_seconds{job=\"certprobe\",module=\"expired\",depth=\"0\"}",
    );
    assert_eq!(server_cert.len(), 1, "{server_cert:#?}");
    assert!(value(&server_cert[0]) > 2.0e9);
    assert!(!prom
        .query("probe_ssl_earliest_cert_expiry{job=\"certprobe\",module=\"expired\"}")
        .is_empty());

    // The client certificate and its chain.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let leaves = prom
        .query("certprobe_client_cert_expiry_timestamp_seconds{job=\"certprobe\",role=\"leaf\"}");
    let days = |m: &str| (value(by_module(&leaves, m)) - now) / 86400.0;
    assert!(
        (9.0..=10.01).contains(&days("expiring")),
        "{}",
        days("expiring")
    );
    assert!(days("expired") < 0.0);
    assert!(days("good") > 30.0);
    let anchors = prom.query(
        "certprobe_client_cert_expiry_timestamp_seconds{job=\"certprobe\",module=\"good\",role=\"anchor\"}",
    );
    assert!(!anchors.is_empty(), "the anchor's expiry is there");

    // Prometheus itself loaded the rules and has them pending for the right modules.
    let mut pending = Vec::new();
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        pending = prom.api("/api/v1/alerts")["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<(String, String)> = pending
            .iter()
            .map(|a| (label_of(a, "alertname"), label_of(a, "module")))
            .collect();
        if names.contains(&("ClientCertificateExpiresSoon".into(), "expiring".into()))
            && names.contains(&("ClientCertificateLoginFailing".into(), "expired".into()))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let login_alert = pending
        .iter()
        .find(|a| label_of(a, "alertname") == "ClientCertificateLoginFailing")
        .unwrap_or_else(|| panic!("no log-in alert: {pending:#?}"));
    assert_eq!(label_of(login_alert, "module"), "expired");
    assert_eq!(
        login_alert["annotations"]["guide_section"],
        label(expired, "section")
    );
    assert!(
        !pending.iter().any(|a| label_of(a, "module") == "good"),
        "{pending:#?}"
    );

    // promtool runs the rules over the very series Prometheus scraped, for 15 minutes.
    let success_all = prom.query("probe_success{job=\"certprobe\"}");
    let mut input = String::new();
    for s in &success_all {
        input.push_str(&format!(
            "      - series: {}\n        values: '{}x15'\n",
            yaml_str(&selector(s)),
            value(s)
        ));
    }
    for s in &verdicts {
        input.push_str(&format!(
            "      - series: {}\n        values: '1x15'\n",
            yaml_str(&selector(s))
        ));
    }
    // promtool's clock starts at 0: the expiry becomes "seconds left from now".
    for s in &leaves {
        input.push_str(&format!(
            "      - series: {}\n        values: '{}x15'\n",
            yaml_str(&selector(s)),
            (value(s) - now).round()
        ));
    }
    let soon_at = 6.0 * 60.0;
    let mut soon = String::new();
    for m in ["expiring", "expired"] {
        let s = by_module(&leaves, m);
        let d = ((value(s) - now).round() - soon_at) / 86400.0;
        soon.push_str(&format!(
            "          - exp_labels: {{severity: warning, job: certprobe, instance: login, module: {m}, role: leaf}}\n            exp_annotations:\n              summary: {}\n              description: 'Renew the client certificate before it expires (guide section 2-1 (6)).'\n              guide_section: '2-1 (6)'\n",
            yaml_str(&format!("Client certificate of module {m} expires in {d:.0} days"))
        ));
    }
    let section = label(expired, "section");
    let test = format!(
        "rule_files:\n  - {}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}\
         \x20   alert_rule_test:\n\
         \x20     - eval_time: 6m\n        alertname: ClientCertificateExpiresSoon\n        exp_alerts:\n{soon}\
         \x20     - eval_time: 9m\n        alertname: ClientCertificateLoginFailing\n        exp_alerts: []\n\
         \x20     - eval_time: 11m\n        alertname: ClientCertificateLoginFailing\n        exp_alerts:\n\
         \x20         - exp_labels: {{severity: critical, job: certprobe, instance: login, module: expired, finding: cert.validity, section: {}, reason: client_cert_expired}}\n\
         \x20           exp_annotations:\n\
         \x20             summary: 'Log-in check expired/login failing: client_cert_expired'\n\
         \x20             description: {}\n\
         \x20             guide_section: {}\n",
        repo().join("deploy/certprobe-alerts.yml").display(),
        yaml_str(section),
        yaml_str(&format!(
            "certprobe names cert.validity as the cause; read guide section {section}."
        )),
        yaml_str(section),
    );
    let test_path = w.dir.path().join("alerts.test.yml");
    std::fs::write(&test_path, &test).unwrap();
    let out = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(&test_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool test rules failed:\n{}{}\n--- test file:\n{test}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // And the example test shipped beside the rules.
    let out = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(repo().join("deploy/certprobe-alerts.test.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The exporter's own health was scraped too.
    let requests =
        prom.query_eventually("certprobe_serve_requests_total{path=\"/probe\",code=\"200\"}");
    assert!(
        requests.first().is_some_and(|r| value(r) >= 1.0),
        "{requests:#?}"
    );
    assert_eq!(
        prom.query_eventually("certprobe_serve_probes_in_flight")
            .len(),
        1
    );

    // No secret anywhere: not in the log, not in what Prometheus stored.
    let all = prom.api("/api/v1/series?match[]=%7Bjob%3D~%22certprobe.*%22%7D");
    assert!(!all.to_string().contains(PASSWORD));
    assert!(!serve.log().contains(PASSWORD));
    drop(prom);
    drop(serve);
}

fn label_of(alert: &Value, name: &str) -> String {
    alert["labels"][name].as_str().unwrap_or("").to_string()
}

#[test]
fn bad_queries_get_one_line_400s_and_only_profile_endpoints_are_probed() {
    let w = world("", "");
    let serve = Serve::start(&w.config);
    let a = serve.addr.as_str();
    for (path, expect) in [
        ("/probe?target=login", "missing query parameter `module`"),
        ("/probe?module=good", "missing query parameter `target`"),
        ("/probe?module=nope&target=login", "unknown module `nope`"),
        (
            "/probe?module=good&module=p12&target=login",
            "more than once",
        ),
        (
            "/probe?module=good&target=login&debug=true",
            "unknown query parameter `debug`",
        ),
        (
            "/probe?module=good&target=https%3A%2F%2Fevil.example%2F",
            "target refused",
        ),
        // The profile's host, another port: not an endpoint, so no certificate goes there.
        ("/probe?module=good&target=localhost%3A1", "target refused"),
        ("/probe?module=good&target=issuance", "target refused"),
    ] {
        let (code, _, body) = get(a, path, &[]);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains(expect), "{path}: {body}");
        assert_eq!(body.trim_end().lines().count(), 1, "one line: {body}");
    }
    let (code, _, body) = get(
        a,
        "/probe?module=good&target=login",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(get(a, "/nothing", &[]).0, 404);

    // A target by URL or by host:port works as well as by id.
    let (_, _, body) = get(a, "/probe?module=good&target=login", &[]);
    assert_eq!(sample(&body, "probe_success", &[]), Some(1.0), "{body}");
    let ng_port = body
        .lines()
        .find(|l| l.contains("target=\"localhost:"))
        .and_then(|l| l.split("target=\"localhost:").nth(1))
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let (code, _, body) = get(
        a,
        &format!("/probe?module=good&target=localhost%3A{ng_port}"),
        &[],
    );
    assert_eq!(code, 200);
    assert!(body.contains("endpoint=\"login\"") && body.contains("endpoint=\"check\""));

    // OpenMetrics when asked for.
    let (code, ctype, body) = get(
        a,
        "/probe?module=expired&target=login",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert_eq!(code, 200);
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(body.ends_with("# EOF\n"));
    assert!(body.contains("# TYPE certprobe_verdict info"));
    assert_eq!(sample(&body, "probe_success", &[]), Some(0.0));

    // The PKCS#12 module: its password is read from the file and shown nowhere.
    let (_, _, body) = get(a, "/probe?module=p12&target=login", &[]);
    assert_eq!(sample(&body, "probe_success", &[]), Some(1.0), "{body}");
    assert!(!body.contains(PASSWORD));

    let (code, ctype, index) = get(a, "/", &[]);
    assert_eq!(code, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(
        index.contains("/probe?module=good&amp;target=login"),
        "{index}"
    );
    let (_, _, metrics) = get(a, "/metrics", &[]);
    assert!(
        sample(
            &metrics,
            "certprobe_serve_requests_total",
            &["code=\"400\""]
        )
        .unwrap()
            >= 8.0
    );
    assert_eq!(
        sample(&metrics, "certprobe_serve_probes_in_flight", &[]),
        Some(0.0)
    );
    assert!(sample(&metrics, "process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(!serve.log().contains(PASSWORD));
    assert!(!metrics.contains(PASSWORD) && !index.contains(PASSWORD));
}

#[test]
fn a_full_queue_answers_503_and_the_scrape_timeout_bounds_the_probe() {
    let silent = support::SilentServer::start();
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let profile = fill(
        &src,
        &[
            ("HOST", "127.0.0.1".into()),
            ("PORT_VERIFY", silent.port.to_string()),
            ("PORT_OPEN", silent.port.to_string()),
            ("PATH_LOGIN", "/".into()),
            ("PATH_CHECK", "/".into()),
        ],
    );
    std::fs::write(dir.path().join("p.toml"), profile).unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nmax_concurrent_probes = 1\nmax_queued_probes = 0\ntimeout = \"4s\"\n\
             [module.hung]\nprofile = \"p.toml\"\ncert = \"{}\"\nkey = \"{}\"\ntrust = [\"{}\"]\nno_system_trust = true\n",
            pki("client-chain.pem").display(),
            pki("client.key").display(),
            pki("server-root.pem").display()
        ),
    )
    .unwrap();
    let serve = Serve::start(&config);
    let addr = serve.addr.clone();
    let first = std::thread::spawn(move || get(&addr, "/probe?module=hung&target=login", &[]));
    // Wait until the first probe holds the only slot.
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        let (_, _, m) = get(&serve.addr, "/metrics", &[]);
        if sample(&m, "certprobe_serve_probes_in_flight", &[]) == Some(1.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _, body) = get(&serve.addr, "/probe?module=hung&target=login", &[]);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("too many probes waiting"), "{body}");
    let (code, _, body) = first.join().unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(sample(&body, "probe_success", &[]), Some(0.0));

    // Prometheus's scrape timeout (2 s, minus the 0.5 s offset) cuts the 4 s module bound.
    let (code, _, body) = get(
        &serve.addr,
        "/probe?module=hung&target=login",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
    );
    assert_eq!(code, 200);
    let took = sample(&body, "probe_duration_seconds", &[]).unwrap();
    assert!(
        took < 3.5,
        "bounded by the header, not by the module's 4 s: {took}"
    );
    let (_, _, m) = get(&serve.addr, "/metrics", &[]);
    assert_eq!(
        sample(&m, "certprobe_serve_probes_rejected_total", &[]),
        Some(1.0)
    );
    drop(serve.child);
}

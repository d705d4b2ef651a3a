//! Every output format, produced by the real binary on real (local) findings, parsed back by the
//! rules of its own specification: JSON against the committed JSON Schema, JUnit by an XML
//! parser, Prometheus by the text exposition format's grammar, Nagios by the plugin grammar.
//! The local probes run against a loopback-only profile and the test PKI; the network scenarios
//! run the whole check against nginx on 127.0.0.1 (Debian `nginx-light`; the test fails when it
//! is missing).

use crate::support::certprobe;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// A run of certprobe and what it should show.
#[derive(Clone)]
struct Scenario {
    name: &'static str,
    args: Vec<String>,
    exit: i32,
    /// Exit code with --format nagios (0 OK, 1 WARNING, 2 CRITICAL).
    nagios: i32,
    /// (finding id, status, guide section) that must be in the report.
    expect: Option<(&'static str, &'static str, &'static str)>,
}

fn local(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "check",
        "--only",
        "local",
        "--profile",
        &path("fixtures/profiles/loopback-closed.toml"),
        "--no-system-trust",
        "--trust",
        &path("fixtures/pki/root.pem"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn scenarios() -> Vec<Scenario> {
    let p12 = path("fixtures/pki/client.p12");
    let pw = path("fixtures/pki/password.txt");
    let leaf = path("fixtures/pki/client.pem");
    let key = path("fixtures/pki/client.key");
    let expired = path("fixtures/pki/client-expired.pem");
    let inter = path("fixtures/pki/inter.pem");
    let chain = path("fixtures/pki/client-chain.pem");
    vec![
        Scenario {
            name: "healthy certificate",
            args: local(&["--cert", &p12, "--password-file", &pw]),
            exit: 0,
            nagios: 0,
            expect: Some(("cert.load", "pass", "")),
        },
        Scenario {
            name: "no client certificate",
            args: local(&[]),
            exit: 1,
            nagios: 2,
            expect: Some(("cert.load", "fail", "2-1 (6)")),
        },
        Scenario {
            name: "intermediate missing",
            args: local(&["--cert", &leaf, "--key", &key]),
            exit: 1,
            nagios: 2,
            expect: Some(("cert.chain", "fail", "2-1 (7)")),
        },
        Scenario {
            name: "expired leaf",
            args: local(&["--cert", &expired, "--key", &key, "--ca", &inter]),
            exit: 1,
            nagios: 2,
            expect: Some(("cert.validity", "fail", "2-1 (6)")),
        },
        Scenario {
            name: "certificate expiring soon",
            args: local(&["--cert", &p12, "--password-file", &pw, "--at", "2044-12-20"]),
            exit: 0,
            nagios: 1,
            expect: Some(("cert.validity", "warn", "2-1 (6)")),
        },
        Scenario {
            name: "verify command",
            args: vec![
                "verify".into(),
                "--profile".into(),
                path("fixtures/profiles/loopback-closed.toml"),
                "--no-system-trust".into(),
                "--trust".into(),
                path("fixtures/pki/root.pem"),
                "--cert".into(),
                chain,
            ],
            exit: 0,
            nagios: 0,
            expect: None,
        },
    ]
}

/// Run a scenario in a format and language; check the exit code; return stdout.
fn run(s: &Scenario, format: &str, lang: &str, want_exit: i32) -> String {
    let out = certprobe()
        .args(&s.args)
        .args(["--format", format, "--lang", lang])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).expect("output is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}: panic: {stderr}", s.name);
    assert_eq!(
        out.status.code(),
        Some(want_exit),
        "{} --format {format}: exit code\nstdout:\n{stdout}\nstderr:\n{stderr}",
        s.name
    );
    stdout
}

fn schema() -> Value {
    let src = std::fs::read_to_string(root().join("schema/report.schema.json"))
        .expect("schema/report.schema.json is committed");
    serde_json::from_str(&src).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("the schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not valid against schema/report.schema.json:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

/// Full checks (local, environment, network) against nginx on 127.0.0.1: a healthy log-in and
/// an error page with code 46. The returned guards keep nginx and the profile alive.
fn network_scenarios() -> (
    crate::support::nginx::Nginx,
    tempfile::TempDir,
    Vec<Scenario>,
) {
    let ng = crate::support::nginx::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("fixtures/profiles/loopback.toml.in")).unwrap();
    let mut scenarios = Vec::new();
    for (name, page, exit, expect) in [
        (
            "network: healthy",
            "/utf8/login.html",
            0,
            ("net.login.page", "pass", ""),
        ),
        (
            "network: error code 46",
            "/sjis/error-46.html",
            1,
            ("net.login.page", "fail", "2-2 46"),
        ),
    ] {
        let text = src
            .replace("@HOST@", "localhost")
            .replace("@PORT_VERIFY@", &ng.verify_port.to_string())
            .replace("@PORT_OPEN@", &ng.open_port.to_string())
            .replace("@PATH_LOGIN@", page)
            .replace("@PATH_CHECK@", "/utf8/login.html");
        let file = dir.path().join(format!("{exit}.toml"));
        std::fs::write(&file, text).unwrap();
        scenarios.push(Scenario {
            name,
            args: vec![
                "check".into(),
                "--profile".into(),
                file.display().to_string(),
                "--no-system-trust".into(),
                "--trust".into(),
                path("fixtures/pki/root.pem"),
                "--trust".into(),
                path("fixtures/pki/server-root.pem"),
                "--cert".into(),
                path("fixtures/pki/client.p12"),
                "--password-file".into(),
                path("fixtures/pki/password.txt"),
                "--no-proxy".into(),
                "--timeout".into(),
                "10s".into(),
            ],
            exit,
            nagios: if exit == 0 { 0 } else { 2 },
            expect: Some(expect),
        });
    }
    (ng, dir, scenarios)
}

#[test]
fn every_format_of_a_full_network_check_parses_back() {
    let (_nginx, _dir, scenarios) = network_scenarios();
    let v = validator();
    for s in &scenarios {
        for lang in ["en", "ja"] {
            let out = run(s, "json", lang, s.exit);
            let doc: Value = serde_json::from_str(&out).unwrap();
            assert_valid(&v, &doc, s.name);
            let phases: BTreeSet<&str> = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["phase"].as_str().unwrap())
                .collect();
            assert_eq!(phases.len(), 3, "{}: {phases:?}", s.name);
            let (id, status, section) = s.expect.unwrap();
            let f = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["id"] == id)
                .unwrap_or_else(|| panic!("{}: no {id}:\n{out}", s.name));
            assert_eq!(f["status"], status, "{}: {f}", s.name);
            if !section.is_empty() {
                assert_eq!(f["section"], section);
            }
        }
        let xml = run(s, "junit", "en", s.exit);
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let prom = run(s, "prometheus", "en", s.exit);
        parse_prometheus(&prom).unwrap_or_else(|e| panic!("{}: {e}\n{prom}", s.name));
        for lang in ["en", "ja"] {
            let out = run(s, "nagios", lang, s.nagios);
            check_nagios(&out, s.nagios);
        }
    }
}

// ─── JSON ─────────────────────────────────────────────────────────────────────────────────

#[test]
fn schema_is_valid_draft_2020_12_and_documented() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    jsonschema::meta::validate(&s).expect("schema is valid against its meta-schema");
    assert!(s["description"].as_str().is_some_and(|d| d.len() > 40));
    for (name, prop) in s["properties"].as_object().unwrap() {
        assert!(
            prop.get("description").is_some() || name == "summary",
            "property `{name}` has no description"
        );
    }
    for key in s["required"].as_array().unwrap() {
        assert!(s["properties"].get(key.as_str().unwrap()).is_some());
    }
}

#[test]
fn json_output_validates_against_the_schema() {
    let v = validator();
    for s in scenarios() {
        for lang in ["en", "ja"] {
            let out = run(&s, "json", lang, s.exit);
            let doc: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}):\n{out}", s.name));
            assert_valid(&v, &doc, s.name);
            assert_eq!(doc["exit_code"], s.exit, "{}: exit_code field", s.name);
            assert_eq!(doc["lang"], lang);
            let findings = doc["findings"].as_array().unwrap();
            assert!(!findings.is_empty(), "{}: no findings", s.name);
            let summary_total: u64 = ["pass", "info", "skip", "warn", "fail"]
                .iter()
                .map(|k| doc["summary"][k].as_u64().unwrap())
                .sum();
            assert_eq!(summary_total as usize, findings.len(), "{}", s.name);
            if let Some((id, status, section)) = s.expect {
                let f = findings
                    .iter()
                    .find(|f| f["id"] == id)
                    .unwrap_or_else(|| panic!("{}: no finding {id}:\n{out}", s.name));
                assert_eq!(f["status"], status, "{}: {id}", s.name);
                if !section.is_empty() {
                    assert_eq!(f["section"], section, "{}: {id}", s.name);
                    assert!(f["fix"].as_str().is_some_and(|x| !x.is_empty()));
                }
            }
            if s.exit == 1 {
                let verdict = &doc["verdict"];
                assert_eq!(verdict["status"], "fail", "{}", s.name);
                let cause = verdict["cause"].as_str().unwrap();
                assert!(verdict["rule"].as_str().is_some_and(|r| !r.is_empty()));
                assert!(findings.iter().any(|f| f["id"] == cause));
            }
            if lang == "ja" && s.exit == 1 {
                let text = doc["verdict"]["summary"].as_str().unwrap().to_string()
                    + doc["verdict"]["first_action"].as_str().unwrap_or("");
                assert!(
                    text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                    "{}: --lang ja gave no Japanese: {text}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn the_schema_rejects_documents_that_break_the_contract() {
    let v = validator();
    let s = &scenarios()[1];
    let good: Value = serde_json::from_str(&run(s, "json", "en", 1)).unwrap();
    assert_valid(&v, &good, "baseline");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "no schema_version",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("schema_version");
            }),
        ),
        (
            "future schema_version",
            Box::new(|d| d["schema_version"] = 3.into()),
        ),
        (
            "verdict without its rule",
            Box::new(|d| {
                d["verdict"].as_object_mut().unwrap().remove("rule");
            }),
        ),
        (
            "verdict cause that is not a finding id",
            Box::new(|d| d["verdict"]["cause"] = "The chain is broken".into()),
        ),
        (
            "unknown status",
            Box::new(|d| d["findings"][0]["status"] = "broken".into()),
        ),
        (
            "upper-case id",
            Box::new(|d| d["findings"][0]["id"] = "Cert.Load".into()),
        ),
        (
            "failure without a section",
            Box::new(|d| {
                let f = d["findings"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|f| f["status"] == "fail")
                    .unwrap();
                f["section"] = Value::Null;
            }),
        ),
        ("bad date", Box::new(|d| d["started"] = "yesterday".into())),
        ("extra field", Box::new(|d| d["surprise"] = true.into())),
        (
            "exit code 2 in a report",
            Box::new(|d| d["exit_code"] = 2.into()),
        ),
    ];
    for (what, mutate) in mutations {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!v.is_valid(&doc), "schema accepted a document with {what}");
    }
}

// ─── JUnit ────────────────────────────────────────────────────────────────────────────────

#[test]
fn junit_output_is_well_formed_with_one_testcase_per_finding() {
    let ts = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").unwrap();
    for s in scenarios() {
        let json: Value = serde_json::from_str(&run(&s, "json", "en", s.exit)).unwrap();
        let findings = json["findings"].as_array().unwrap();
        let xml = run(&s, "junit", "ja", s.exit);
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{}: not XML ({e}):\n{xml}", s.name));
        let top = doc.root_element();
        assert_eq!(top.tag_name().name(), "testsuites");
        let suites: Vec<_> = top.children().filter(|n| n.is_element()).collect();
        assert_eq!(suites.len(), 1, "{}", s.name);
        let suite = suites[0];
        assert_eq!(suite.tag_name().name(), "testsuite");
        for attr in ["name", "tests", "failures", "errors", "time", "timestamp"] {
            assert!(
                suite.attribute(attr).is_some(),
                "{}: testsuite@{attr}",
                s.name
            );
        }
        assert!(
            ts.is_match(suite.attribute("timestamp").unwrap()),
            "JUnit timestamp must be ISO 8601 without zone: {}",
            suite.attribute("timestamp").unwrap()
        );
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.is_element())
            .inspect(|n| assert_eq!(n.tag_name().name(), "testcase"))
            .collect();
        assert_eq!(cases.len(), findings.len(), "{}", s.name);
        let count =
            |n: roxmltree::Node, tag: &str| n.children().filter(|c| c.has_tag_name(tag)).count();
        let failures: usize = cases.iter().map(|c| count(*c, "failure")).sum();
        let skipped: usize = cases.iter().map(|c| count(*c, "skipped")).sum();
        let num = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<usize>().unwrap();
        assert_eq!(num(suite, "tests"), cases.len());
        assert_eq!(num(suite, "failures"), failures, "{}", s.name);
        assert_eq!(num(top, "failures"), failures);
        assert_eq!(num(suite, "skipped"), skipped);
        let json_fail = findings.iter().filter(|f| f["status"] == "fail").count();
        assert_eq!(failures, json_fail, "{}: failures", s.name);
        assert_eq!(failures > 0, s.exit == 1);
        for (case, f) in cases.iter().zip(findings) {
            let name = case.attribute("name").unwrap();
            assert!(name.starts_with(f["id"].as_str().unwrap()), "{name}");
            assert!(case
                .attribute("classname")
                .unwrap()
                .starts_with("certprobe."));
            let t: f64 = case.attribute("time").unwrap().parse().unwrap();
            assert!(t >= 0.0);
            for fail in case.children().filter(|c| c.has_tag_name("failure")) {
                assert!(!fail.attribute("message").unwrap().is_empty());
                let body = fail.text().unwrap_or_default();
                if let Some(sec) = f["section"].as_str() {
                    assert!(body.contains(sec), "{}: failure body lacks {sec}", s.name);
                }
            }
        }
    }
}

// ─── Prometheus ───────────────────────────────────────────────────────────────────────────

/// One sample of the text exposition format 0.0.4.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A strict parser of the Prometheus text exposition format (version 0.0.4), as specified in
/// https://prometheus.io/docs/instrumenting/exposition_formats/: `# HELP` and `# TYPE` lines,
/// samples `name{label="value",…} value [timestamp]`, label values escaping only `\\`, `\"`
/// and `\n`, one TYPE per family before its samples, each family's lines together, no
/// duplicate series, a final newline.
fn parse_prometheus(text: &str) -> Result<Vec<Sample>, String> {
    let name_re = regex::Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$").unwrap();
    let label_re = regex::Regex::new(r"^[a-zA-Z_][a-zA-Z0-9_]*$").unwrap();
    if !text.ends_with('\n') {
        return Err("the exposition must end with a newline".into());
    }
    let mut samples = Vec::new();
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<String> = BTreeSet::new();
    let mut enter = |family: &str, current: &mut Option<String>| -> Result<(), String> {
        if current.as_deref() != Some(family) {
            if finished.contains(family) {
                return Err(format!("family {family} is split"));
            }
            if let Some(prev) = current.take() {
                finished.insert(prev);
            }
            *current = Some(family.to_string());
        }
        Ok(())
    };
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let err = |m: &str| format!("line {n}: {m}: {line:?}");
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("HELP ") {
                let (name, doc) = r.split_once(' ').unwrap_or((r, ""));
                if !name_re.is_match(name) {
                    return Err(err("bad metric name in HELP"));
                }
                let mut chars = doc.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' && !matches!(chars.next(), Some('\\') | Some('n')) {
                        return Err(err("bad escape in HELP"));
                    }
                }
                if !helped.insert(name.to_string()) {
                    return Err(err("second HELP"));
                }
                enter(name, &mut current)?;
            } else if let Some(r) = rest.strip_prefix("TYPE ") {
                let (name, ty) = r.split_once(' ').ok_or_else(|| err("TYPE without type"))?;
                if !name_re.is_match(name) {
                    return Err(err("bad metric name in TYPE"));
                }
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&ty) {
                    return Err(err("unknown type"));
                }
                if typed.insert(name.to_string(), ty.to_string()).is_some() {
                    return Err(err("second TYPE"));
                }
                if samples.iter().any(|s: &Sample| s.name == name) {
                    return Err(err("TYPE after samples"));
                }
                enter(name, &mut current)?;
            }
            continue;
        }
        // name, optional {labels}, value, optional timestamp
        let name_end = line.find(['{', ' ']).ok_or_else(|| err("no value"))?;
        let name = &line[..name_end];
        if !name_re.is_match(name) {
            return Err(err("bad metric name"));
        }
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices().peekable();
            let end;
            loop {
                // label name
                let start = match chars.peek() {
                    Some(&(_, '}')) => {
                        end = Some(chars.next().unwrap().0);
                        break;
                    }
                    Some(&(i, _)) => i,
                    None => return Err(err("unclosed label set")),
                };
                let mut eq = None;
                for (i, c) in chars.by_ref() {
                    if c == '=' {
                        eq = Some(i);
                        break;
                    }
                }
                let eq = eq.ok_or_else(|| err("label without ="))?;
                let lname = &r[start..eq];
                if !label_re.is_match(lname) || lname.starts_with("__") {
                    return Err(err("bad label name"));
                }
                if chars.next().map(|x| x.1) != Some('"') {
                    return Err(err("label value not quoted"));
                }
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            Some((_, 'n')) => value.push('\n'),
                            _ => return Err(err("bad escape in label value")),
                        },
                        Some((_, '"')) => break,
                        Some((_, '\n')) | None => return Err(err("unterminated label value")),
                        Some((_, c)) => value.push(c),
                    }
                }
                if labels.insert(lname.to_string(), value).is_some() {
                    return Err(err("repeated label"));
                }
                match chars.next() {
                    Some((_, ',')) => continue,
                    Some((i, '}')) => {
                        end = Some(i);
                        break;
                    }
                    _ => return Err(err("expected , or } after a label")),
                }
            }
            rest = &r[end.unwrap() + 1..];
        }
        let mut parts = rest.split(' ').filter(|p| !p.is_empty());
        let value_s = parts.next().ok_or_else(|| err("no value"))?;
        let value = match value_s {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse::<f64>().map_err(|_| err("value is not a float"))?,
        };
        if let Some(ts) = parts.next() {
            ts.parse::<i64>()
                .map_err(|_| err("timestamp is not an integer"))?;
        }
        if parts.next().is_some() {
            return Err(err("junk after the sample"));
        }
        let family = name.to_string();
        if !typed.contains_key(&family) {
            return Err(err("sample without a TYPE line"));
        }
        enter(&family, &mut current)?;
        let key = format!("{name}{labels:?}");
        if !series.insert(key) {
            return Err(err("duplicate series"));
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(samples)
}

#[test]
fn the_prometheus_parser_is_strict() {
    let ok = "# HELP a_b x\\ny\n# TYPE a_b gauge\na_b{x=\"q\\\"\\\\\\n\"} 1.5\na_b 2 1700000000\n";
    assert_eq!(parse_prometheus(ok).unwrap().len(), 2);
    for bad in [
        "# TYPE a gauge\na 1",                        // no final newline
        "a 1\n",                                      // no TYPE
        "# TYPE a gauge\na{x=\"\\t\"} 1\n",           // bad escape
        "# TYPE a gauge\na{x=y} 1\n",                 // unquoted
        "# TYPE a gauge\na one\n",                    // not a float
        "# TYPE a gauge\na 1\na 2\n",                 // duplicate series
        "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n", // TYPE and samples apart
        "# TYPE a gauge\na 1\n# TYPE a gauge\n",      // second TYPE
        "# TYPE 1a gauge\n1a 1\n",                    // bad name
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",     // repeated label
    ] {
        assert!(parse_prometheus(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn prometheus_output_follows_the_text_format() {
    for s in scenarios() {
        let json: Value = serde_json::from_str(&run(&s, "json", "en", s.exit)).unwrap();
        let findings = json["findings"].as_array().unwrap();
        let text = run(&s, "prometheus", "en", s.exit);
        let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", s.name));
        // One gauge per finding and status, exactly one of them 1.
        for f in findings {
            let mine: Vec<&Sample> = samples
                .iter()
                .filter(|x| {
                    x.name == "certprobe_finding_status"
                        && x.labels.get("id") == f["id"].as_str().map(String::from).as_ref()
                })
                .collect();
            assert_eq!(mine.len(), 5, "{}: {}", s.name, f["id"]);
            let on: Vec<&&Sample> = mine.iter().filter(|x| x.value == 1.0).collect();
            assert_eq!(on.len(), 1);
            assert_eq!(on[0].labels["status"], f["status"].as_str().unwrap());
            assert_eq!(on[0].labels["profile"], "loopback-closed");
            if f["elapsed_ms"].is_number() {
                assert!(samples
                    .iter()
                    .any(|x| x.name == "certprobe_finding_duration_seconds"
                        && x.labels.get("id").map(String::as_str) == f["id"].as_str()
                        && x.value >= 0.0));
            }
        }
        let success = samples
            .iter()
            .find(|x| x.name == "certprobe_success")
            .expect("certprobe_success");
        assert_eq!(success.value, if s.exit == 0 { 1.0 } else { 0.0 });
        let fails = samples
            .iter()
            .find(|x| x.name == "certprobe_findings" && x.labels["status"] == "fail")
            .unwrap();
        assert_eq!(
            fails.value as u64,
            json["summary"]["fail"].as_u64().unwrap()
        );
        assert!(samples
            .iter()
            .any(|x| x.name == "certprobe_last_run_timestamp_seconds" && x.value > 1.7e9));
    }
}

// ─── Nagios ───────────────────────────────────────────────────────────────────────────────

/// Split perfdata on spaces outside single-quoted labels.
fn perf_items(perf: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in perf.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c)
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    items.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        items.push(cur);
    }
    items
}

/// Check output against the Nagios plugin guidelines; return (state word, perfdata labels).
fn check_nagios(out: &str, exit: i32) -> (String, Vec<String>) {
    let status =
        regex::Regex::new(r"^CERTPROBE (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.+))?$")
            .unwrap();
    // 'label'=value[UOM];[warn];[crit];[min];[max]  (label: no = or ', '' escapes a quote)
    let item = regex::Regex::new(
        r"^(?:'(?:[^'=]|'')+'|[^'= ]+)=(-?[0-9]+(?:\.[0-9]+)?)(s|ms|us|%|B|KB|MB|TB|c)?(?:;(-?[0-9.:~@]*)){0,4}$",
    )
    .unwrap();
    let mut lines = out.lines();
    let first = lines.next().expect("a status line");
    let caps = status
        .captures(first)
        .unwrap_or_else(|| panic!("status line does not follow the plugin grammar: {first:?}"));
    let word = caps[1].to_string();
    let want = match word.as_str() {
        "OK" => 0,
        "WARNING" => 1,
        "CRITICAL" => 2,
        _ => 3,
    };
    assert_eq!(exit, want, "exit code {exit} does not match state {word}");
    assert!(!caps[2].trim().is_empty());
    let mut labels = Vec::new();
    if let Some(perf) = caps.get(3) {
        for it in perf_items(perf.as_str()) {
            assert!(
                item.is_match(&it),
                "perfdata item {it:?} breaks the grammar"
            );
            labels.push(it.split('=').next().unwrap().trim_matches('\'').to_string());
        }
    }
    for l in lines {
        assert!(!l.contains('|'), "long text may not contain `|`: {l:?}");
    }
    (word, labels)
}

#[test]
fn the_nagios_checker_is_strict() {
    let (w, labels) = check_nagios("CERTPROBE OK - fine | 'a b'=1.5s;;;0; x=3;1;2\n", 0);
    assert_eq!((w.as_str(), labels.len()), ("OK", 2));
    for bad in [
        "CERTPROBE OK fine\n",
        "CERTPROBE OK - fine | 'a'=1.5sec\n",
        "CERTPROBE OK - fine | a=b\n",
        "CERTPROBE OK - fine | 'a'=1;;;;;;\n",
    ] {
        let r = std::panic::catch_unwind(|| check_nagios(bad, 0));
        assert!(r.is_err(), "accepted {bad:?}");
    }
}

#[test]
fn nagios_output_follows_the_plugin_grammar_and_exit_codes() {
    for s in scenarios() {
        for lang in ["en", "ja"] {
            let out = run(&s, "nagios", lang, s.nagios);
            let (word, labels) = check_nagios(&out, s.nagios);
            assert_eq!(word == "CRITICAL", s.exit == 1, "{}", s.name);
            for l in ["duration", "fail", "warn", "pass"] {
                assert!(labels.iter().any(|x| x == l), "{}: no perfdata {l}", s.name);
            }
            if let Some((id, "fail" | "warn", section)) = s.expect {
                assert!(
                    out.lines().any(|l| l.contains(id) && l.contains(section)),
                    "{}: long text lacks {id} ({section}):\n{out}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn nagios_strict_turns_warnings_critical() {
    // The intermediate is missing: failures and a warning; --strict keeps CRITICAL.
    let s = &scenarios()[2];
    let out = certprobe()
        .args(&s.args)
        .args(["--format", "nagios", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    check_nagios(&String::from_utf8(out.stdout).unwrap(), 2);
}

#[test]
fn strict_makes_a_warning_fail() {
    let s = scenarios()
        .into_iter()
        .find(|s| s.nagios == 1)
        .expect("a warning-only scenario");
    for (format, plain, strict) in [
        ("json", 0, 1),
        ("table", 0, 1),
        ("nagios", 1, 2),
        ("junit", 0, 1),
    ] {
        run(&s, format, "en", plain);
        let out = certprobe()
            .args(&s.args)
            .args(["--format", format, "--strict"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(strict),
            "--strict --format {format}"
        );
        if format == "junit" {
            let xml = String::from_utf8(out.stdout).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            assert_eq!(
                doc.descendants()
                    .filter(|n| n.has_tag_name("failure"))
                    .count(),
                1
            );
        }
    }
}

#[test]
fn nagios_reports_bad_input_as_unknown() {
    let out = certprobe()
        .args([
            "check",
            "--only",
            "local",
            "--format",
            "nagios",
            "--profile",
            &path("fixtures/profiles/does-not-exist.toml"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    let (word, _) = check_nagios(&stdout, 3);
    assert_eq!(word, "UNKNOWN");
    assert!(stdout.contains("does-not-exist.toml"), "{stdout}");
}

// ─── Table ────────────────────────────────────────────────────────────────────────────────

#[test]
fn table_output_has_verdict_headers_and_fixes_in_both_languages() {
    let s = &scenarios()[2]; // intermediate missing
    let mut s = s.clone();
    s.args.push("--details".into());
    let s = &s;
    let en = run(s, "table", "en", 1);
    for want in [
        "Verdict:",
        "Step",
        "Target",
        "Result",
        "Detail",
        "Guide",
        "2-1 (7)",
        "What to do:",
    ] {
        assert!(en.contains(want), "no {want:?} in:\n{en}");
    }
    assert!(!en.contains('\u{1b}'), "colour without a terminal:\n{en}");
    let ja = run(s, "table", "ja", 1);
    for want in [
        "診断:",
        "ステップ",
        "対象",
        "結果",
        "詳細",
        "ガイド",
        "2-1 (7)",
        "対処方法:",
    ] {
        assert!(ja.contains(want), "no {want:?} in:\n{ja}");
    }
    let colour = certprobe()
        .args(&s.args)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&colour.stdout).contains('\u{1b}'));
}

//! The first screen a person sees (the compact table format): a golden file per demo scenario,
//! in English and Japanese, with what changes from run to run (ports, times, temporary paths)
//! replaced by placeholders. `CERTPROBE_UPDATE_GOLDEN=1` rewrites the files after a wanted change.
//! Also: the double-click start writes the report into Documents and waits for Enter.

use crate::support::{certprobe, repo};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const WIDTH: usize = 100;

fn scenarios() -> Vec<String> {
    let out = certprobe().args(["demo", "--list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(str::to_string)
        .collect();
    assert!(names.contains(&"healthy".to_string()), "{text}");
    assert!(names.len() >= 5, "{text}");
    names
}

/// Ports, durations, dates and temporary folders differ on every run; so does the wording of a
/// refused handshake (whether the server's alert or its hang-up is read first is a race). A
/// network step's spelled-out line keeps its mark, title and guide section.
fn normalise(s: &str) -> String {
    let rules: [(&str, &str); 5] = [
        (r"\d{4}-\d{2}-\d{2}", "DATE"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"\(\d+(\.\d+)? (ms|s)\)", "(TIME)"),
        (r"/tmp/certprobe-demo-[A-Za-z0-9]+", "/tmp/DEMO"),
        (r"\d+ min \d+ s|\d+(\.\d+)? (ms|s)\b", "TIME"),
    ];
    let mut text = s.to_string();
    for (re, to) in rules {
        text = regex::Regex::new(re)
            .unwrap()
            .replace_all(&text, to)
            .into_owned();
    }
    let section = regex::Regex::new(r"\[[^\]]+\]$").unwrap();
    let mut out = String::new();
    let mut in_endpoint = false;
    let mut step: Option<String> = None;
    let flush = |step: &mut Option<String>, out: &mut String| {
        if let Some(s) = step.take() {
            let title = s.split([':', '：']).next().unwrap_or(&s).to_string();
            let sec = section.find(&s).map(|m| m.as_str()).unwrap_or("");
            out.push_str(&format!("{title}: … {sec}\n"));
        }
    };
    for line in text.lines() {
        let spelled = line.starts_with("    ") && !line.starts_with("      ");
        let continued = line.starts_with("      ");
        if let Some(s) = step.as_mut().filter(|_| in_endpoint && continued) {
            s.push(' ');
            s.push_str(line.trim());
            continue;
        }
        flush(&mut step, &mut out);
        if !line.starts_with(' ') {
            in_endpoint = line.contains("127.0.0.1:PORT  ·");
        }
        if in_endpoint && spelled {
            step = Some(line.to_string());
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    flush(&mut step, &mut out);
    out
}

fn screen(scenario: &str, lang: &str) -> String {
    let out = certprobe()
        .args(["--lang", lang, "demo", "--scenario", scenario])
        .env("COLUMNS", WIDTH.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{scenario}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn compact_screen_golden_per_scenario() {
    let update = std::env::var_os("CERTPROBE_UPDATE_GOLDEN").is_some();
    let dir = repo().join("tests/it/golden/screen");
    let mut differ = Vec::new();
    for name in scenarios() {
        for lang in ["en", "ja"] {
            let got = normalise(&screen(&name, lang));
            for line in got.lines() {
                let w = textwrap::core::display_width(line);
                assert!(w <= WIDTH, "{name} {lang}: {w} columns: {line}");
            }
            assert!(!got.contains('\u{1b}'), "{name}: colour without a terminal");
            let file = dir.join(format!("{name}.{lang}.txt"));
            if update {
                std::fs::write(&file, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (CERTPROBE_UPDATE_GOLDEN=1 writes it)",
                    file.display()
                )
            });
            if want != got {
                differ.push(format!("== {name} {lang}\n-- want\n{want}\n-- got\n{got}"));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn healthy_screen_fits_25_lines() {
    for lang in ["en", "ja"] {
        let s = screen("healthy", lang);
        let n = s.lines().count();
        assert!(n <= 25, "{lang}: {n} lines:\n{s}");
        assert!(s.contains("✓"), "{s}");
    }
}

#[test]
fn a_shared_fix_is_printed_once() {
    let s = screen("missing-intermediate", "en");
    let fix = "Download the intermediate CA certificate";
    assert_eq!(s.matches(fix).count(), 1, "{s}");
}

#[test]
fn details_gives_the_full_table() {
    let out = certprobe()
        .args(["demo", "--scenario", "healthy", "--details"])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    for want in [
        "Step",
        "Target",
        "Result",
        "net.login.tls",
        "cert.key_match",
    ] {
        assert!(s.contains(want), "no {want} in\n{s}");
    }
}

#[test]
fn double_click_writes_the_report_into_documents_and_waits_for_enter() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("Documents")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("certprobe");
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LANG", "ja_JP.UTF-8")
        .env("CERTPROBE_DOUBLE_CLICK", "1")
        .env(
            "CERTPROBE_PROFILE",
            repo().join("tests/it/support/local_profile.toml"),
        )
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It writes the report, then waits: still running until Enter is pressed.
    let docs = home.path().join("Documents");
    let mut written = None;
    for _ in 0..600 {
        // The report is written to a temporary file beside it and then renamed into place.
        let done = std::fs::read_dir(&docs).unwrap().flatten().find(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.starts_with("certprobe-report-") && n.ends_with(".html")
        });
        if let Some(e) = done {
            written = Some(e.path());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = written.expect("a report in Documents");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "certprobe closed without waiting for Enter"
    );
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Enter キーで閉じます"), "{stdout}");
    assert!(stdout.contains(&report.display().to_string()), "{stdout}");
    let name = report.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("certprobe-report-"), "{name}");
    let body = std::fs::read_to_string(&report).unwrap();
    assert!(body.contains("certprobe"), "{body}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stdout}");
}

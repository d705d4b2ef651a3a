//! The command line as a person meets it, through the real binary: help and version, exit codes
//! for bad input, profiles good and bad, `explain` for every section and code in both languages.
//! Nothing here touches the network: every check runs `--only local` on a loopback profile.

use crate::support::certprobe;
use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

fn path(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run and check the one rule that holds for every run: no panic reaches a person.
fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    let r = Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "panic: {}",
        r.stderr
    );
    r
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// A usage or input error: exit 2, nothing on stdout, one message on stderr.
fn assert_input_error(r: &Run, what: &str) {
    assert_eq!(r.code, Some(2), "{what}: exit code\nstderr: {}", r.stderr);
    assert!(r.stdout.is_empty(), "{what}: stdout: {}", r.stdout);
    assert!(!r.stderr.trim().is_empty(), "{what}: no message");
}

// ─── help and version ─────────────────────────────────────────────────────────────────────

#[test]
fn help_describes_the_commands_and_exit_codes() {
    let r = run(certprobe().arg("--help"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for want in [
        "Usage: certprobe",
        "check",
        "explain",
        "profile",
        "completions",
        "--format",
        "--lang",
        "Exit codes:",
        "0  nothing failed",
        "2  usage or input error",
        "3  internal error",
        "nagios",
    ] {
        assert!(
            r.stdout.contains(want),
            "--help lacks {want:?}:\n{}",
            r.stdout
        );
    }
    let short = run(certprobe().arg("-h"));
    assert_eq!(short.code, Some(0));
    assert!(short.stdout.contains("Usage: certprobe"));
    let sub = run(certprobe().args(["explain", "--help"]));
    assert_eq!(sub.code, Some(0));
    assert!(sub.stdout.contains("--list") && sub.stdout.contains("SECTION"));
}

#[test]
fn version_names_the_program() {
    let r = run(certprobe().arg("--version"));
    assert_eq!(r.code, Some(0));
    assert_eq!(
        r.stdout.trim(),
        format!("certprobe {}", env!("CARGO_PKG_VERSION"))
    );
    let sub = run(certprobe().args(["explain", "--version"]));
    assert_eq!(sub.code, Some(0), "version propagates to subcommands");
}

// ─── usage errors ─────────────────────────────────────────────────────────────────────────

#[test]
fn bad_command_lines_exit_2_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "frobnicate"),
        (&["--bogus"], "--bogus"),
        (&["check", "--only", "everything"], "everything"),
        (&["--format", "xml", "explain", "46"], "xml"),
        (&["--lang", "fr", "explain", "46"], "fr"),
        (&["--timeout", "fast", "explain", "46"], "fast"),
        (&["--timeout", "10h", "explain", "46"], "10h"),
        (&["explain"], "SECTION"),
        (&["completions", "tcsh"], "tcsh"),
        (&["profile"], "Usage"),
        (&["profile", "check"], "FILE"),
    ];
    for (args, mention) in cases {
        let r = run(certprobe().args(*args));
        assert_input_error(&r, &args.join(" "));
        assert!(
            r.stderr.contains(mention),
            "{args:?}: message does not mention {mention:?}: {}",
            r.stderr
        );
    }
}

// ─── profiles ─────────────────────────────────────────────────────────────────────────────

/// A problem a message must report: its line, and words (the key first) it must name.
type Problem = (u32, &'static [&'static str]);

/// Each bad fixture and its problems.
const BAD_PROFILES: &[(&str, &[Problem])] = &[
    ("bad-syntax.toml", &[(3, &["title", "string"])]),
    ("bad-type.toml", &[(4, &["expiry_warning_days", "thirty"])]),
    ("bad-unknown-key.toml", &[(5, &["colour"])]),
    (
        "bad-values.toml",
        &[
            (15, &["endpoint[0].section", "9-9"]),
            (20, &["endpoint[1].url", "example.invalid"]),
            (24, &["page[0].pattern", "regular expression"]),
        ],
    ),
];

#[test]
fn a_bad_profile_is_reported_with_file_line_and_key() {
    for (file, problems) in BAD_PROFILES {
        let p = path(&format!("fixtures/profiles/{file}"));
        for args in [
            vec!["profile", "check", p.as_str()],
            vec!["profile", "show", p.as_str()],
            vec!["check", "--only", "local", "--profile", p.as_str()],
            vec!["explain", "46", "--profile", p.as_str()], // explain never needs the profile
        ] {
            let r = run(certprobe().args(&args));
            if args[0] == "explain" {
                assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
                continue;
            }
            assert_input_error(&r, &args.join(" "));
            for (line, words) in *problems {
                let at = format!("{p}:{line}:");
                let msg = r
                    .stderr
                    .lines()
                    .find(|l| l.contains(&at))
                    .unwrap_or_else(|| panic!("{args:?}: no message at {at}:\n{}", r.stderr));
                for w in *words {
                    assert!(msg.contains(w), "{args:?}: {msg:?} does not name {w:?}");
                }
            }
            assert_eq!(
                r.stderr.lines().count(),
                problems.len(),
                "{args:?}: one line per problem:\n{}",
                r.stderr
            );
        }
    }
}

#[test]
fn an_unreadable_profile_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80, b'\n']).unwrap();
    let missing = dir.path().join("missing.toml");
    for (p, mention) in [
        (missing.display().to_string(), "missing.toml"),
        (dir.path().display().to_string(), "cannot read profile"),
        (binary.display().to_string(), "binary.toml"),
    ] {
        for args in [
            vec!["profile", "check", p.as_str()],
            vec!["check", "--only", "local", "--profile", p.as_str()],
        ] {
            let r = run(certprobe().args(&args));
            assert_input_error(&r, &args.join(" "));
            assert!(r.stderr.contains(mention), "{args:?}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        }
    }
    // The same through the environment variable.
    let r = run(certprobe()
        .args(["check", "--only", "local"])
        .env("CERTPROBE_PROFILE", &missing));
    assert_input_error(&r, "CERTPROBE_PROFILE");
}

#[test]
fn a_good_profile_checks_and_shows() {
    let p = path("fixtures/profiles/loopback-closed.toml");
    let r = run(certprobe().args(["profile", "check", &p]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("loopback-closed") && r.stdout.contains("valid"));

    // `profile show` prints TOML that is itself a valid profile with the same content.
    let shown = run(certprobe().args(["profile", "show", &p]));
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.toml");
    std::fs::write(&copy, &shown.stdout).unwrap();
    let again = run(certprobe().args(["profile", "show", copy.to_str().unwrap()]));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(again.stdout, shown.stdout);
    assert!(shown.stdout.contains("https://127.0.0.1:1/"));

    // The built-in profile is shown without touching the network, and checks clean.
    let builtin = run(certprobe().args(["profile", "show"]));
    assert_eq!(builtin.code, Some(0));
    assert!(builtin.stdout.contains("ds.e-kakushin.com"));
    let copy = dir.path().join("ebunsho.toml");
    std::fs::write(&copy, &builtin.stdout).unwrap();
    let r = run(certprobe().args(["profile", "check", copy.to_str().unwrap()]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ─── exit codes of a real check ───────────────────────────────────────────────────────────

fn local_check() -> Command {
    let mut c = certprobe();
    c.args([
        "check",
        "--only",
        "local",
        "--profile",
        &path("fixtures/profiles/loopback-closed.toml"),
        "--no-system-trust",
        "--trust",
        &path("fixtures/pki/root.pem"),
    ]);
    c
}

#[test]
fn exit_0_when_nothing_fails_and_1_for_a_missing_certificate() {
    let ok = run(local_check().args([
        "--cert",
        &path("fixtures/pki/client.p12"),
        "--password-file",
        &path("fixtures/pki/password.txt"),
    ]));
    assert_eq!(ok.code, Some(0), "{}\n{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("Verdict:"));

    let missing = run(&mut local_check());
    assert_eq!(
        missing.code,
        Some(1),
        "{}\n{}",
        missing.stdout,
        missing.stderr
    );
    assert!(
        missing.stdout.contains("no client certificate given"),
        "{}",
        missing.stdout
    );
    assert!(missing.stdout.contains("2-1 (6)"), "{}", missing.stdout);

    let ja = run(local_check().env("LANG", "ja_JP.UTF-8"));
    assert_eq!(ja.code, Some(1));
    assert!(
        ja.stdout.contains("診断:"),
        "LANG=ja_JP.UTF-8: {}",
        ja.stdout
    );
}

#[test]
fn a_missing_certificate_file_is_an_input_error() {
    let r = run(local_check().args(["--cert", &path("fixtures/pki/no-such.p12")]));
    assert_input_error(&r, "--cert no-such.p12");
    assert!(r.stderr.contains("no-such.p12"), "{}", r.stderr);
}

#[cfg(not(windows))]
#[test]
fn the_certificate_store_flags_are_windows_only() {
    for args in [
        &[
            "--cert-thumbprint",
            "00112233445566778899aabbccddeeff00112233",
        ][..],
        &["--cert-subject", "S47"][..],
        &["--machine-store"][..],
    ] {
        let r = run(local_check().args(args));
        assert_input_error(&r, args[0]);
        assert!(
            r.stderr.contains(args[0]) && r.stderr.contains("Windows-only"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("--cert FILE"), "{}", r.stderr);
    }
    let r = run(certprobe().args(["verify", "--cert-subject", "S47"]));
    assert_input_error(&r, "verify --cert-subject");
}

// ─── explain ──────────────────────────────────────────────────────────────────────────────

/// `schema/explain.schema.json`, compiled once per use.
fn explain_schema() -> jsonschema::Validator {
    let src = std::fs::read_to_string(path("schema/explain.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&src).unwrap();
    jsonschema::meta::validate(&schema).expect("explain schema is valid draft 2020-12");
    jsonschema::validator_for(&schema).expect("explain schema compiles")
}

fn assert_explain_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc:#}");
}

fn list(lang: &str) -> Vec<Value> {
    let r = run(certprobe().args(["explain", "--list", "--format", "json", "--lang", lang]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_explain_valid(&explain_schema(), &v);
    assert_eq!(v["lang"], lang);
    v["sections"].as_array().unwrap().clone()
}

#[test]
fn the_explain_schema_rejects_broken_documents() {
    let v = explain_schema();
    let r = run(certprobe().args(["explain", "46", "--format", "json"]));
    let good: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v.is_valid(&good));
    let mut extra = good.clone();
    extra["surprise"] = 1.into();
    let mut both = good.clone();
    both["sections"] = serde_json::json!([]);
    let mut no_fix = good.clone();
    no_fix["section"].as_object_mut().unwrap().remove("fix");
    let mut bad_id = good.clone();
    bad_id["section"]["id"] = "46".into();
    for (what, doc) in [
        ("extra", extra),
        ("both", both),
        ("no fix", no_fix),
        ("bad id", bad_id),
    ] {
        assert!(!v.is_valid(&doc), "accepted: {what}");
    }
}

#[test]
fn explain_list_shows_every_guide_section() {
    let sections = list("en");
    let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for want in [
        "1-1",
        "1-2",
        "1-3",
        "1-3 (5)-(8)",
        "1-4",
        "1-5",
        "1-6",
        "2-1",
        "2-1 (1)",
        "2-1 (2)",
        "2-1 (3)",
        "2-1 (4)",
        "2-1 (5)",
        "2-1 (6)",
        "2-1 (7)",
        "2-2",
        "2-2 42",
        "2-2 44",
        "2-2 46",
        "2-2 53",
        "2-2 other",
        "2-3",
        "2-4",
    ] {
        assert!(ids.contains(&want), "explain --list lacks {want}");
    }
    let table = run(certprobe().args(["explain", "--list"]));
    assert_eq!(table.code, Some(0));
    for id in &ids {
        assert!(table.stdout.contains(id), "table list lacks {id}");
    }
    let ja = run(certprobe().args(["explain", "--list", "--lang", "ja"]));
    assert!(
        ja.stdout.contains("ページが表示できません"),
        "{}",
        ja.stdout
    );
    let md = run(certprobe().args(["explain", "--list", "--format", "markdown"]));
    assert_eq!(md.code, Some(0));
    assert!(md.stdout.contains("| 2-2 46 |"));
}

#[test]
fn explain_every_section_in_both_languages() {
    let en = list("en");
    let ja = list("ja");
    assert_eq!(en.len(), ja.len());
    let schema = explain_schema();
    for (e, j) in en.iter().zip(&ja) {
        let id = e["id"].as_str().unwrap();
        let title_en = e["title"].as_str().unwrap();
        let title_ja = j["title"].as_str().unwrap();
        assert_ne!(title_en, title_ja, "{id}: title not translated");
        assert!(has_japanese(title_ja), "{id}: Japanese title {title_ja:?}");

        // English, by flag.
        let r = run(certprobe().args(["explain", id, "--lang", "en"]));
        assert_eq!(r.code, Some(0), "{id}: {}", r.stderr);
        assert!(
            r.stdout.contains(id) && r.stdout.contains(title_en),
            "{id}:\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("What to do"), "{id}:\n{}", r.stdout);

        // Japanese, by flag and by LANG; LC_ALL=C overrides LANG.
        let by_flag = run(certprobe().args(["explain", id, "--lang", "ja"]));
        let by_env = run(certprobe().args(["explain", id]).env("LANG", "ja_JP.UTF-8"));
        for (how, r) in [("--lang ja", &by_flag), ("LANG=ja_JP.UTF-8", &by_env)] {
            assert_eq!(r.code, Some(0), "{id} {how}: {}", r.stderr);
            assert!(r.stdout.contains(title_ja), "{id} {how}:\n{}", r.stdout);
            assert!(r.stdout.contains("対処方法"), "{id} {how}:\n{}", r.stdout);
        }
        let c = run(certprobe()
            .args(["explain", id])
            .env("LANG", "ja_JP.UTF-8")
            .env("LC_ALL", "C"));
        assert!(
            c.stdout.contains(title_en),
            "{id}: LC_ALL=C must win over LANG"
        );

        // Structured, in both languages.
        for (lang, title) in [("en", title_en), ("ja", title_ja)] {
            let r = run(certprobe().args(["explain", id, "--format", "json", "--lang", lang]));
            assert_eq!(r.code, Some(0), "{id}: {}", r.stderr);
            let v: Value = serde_json::from_str(&r.stdout).unwrap();
            assert_explain_valid(&schema, &v);
            let s = &v["section"];
            assert_eq!(s["id"], id);
            assert_eq!(s["title"], title);
            for field in ["cause", "fix"] {
                assert!(
                    s[field].as_str().is_some_and(|t| !t.trim().is_empty()),
                    "{id} {lang}: empty {field}"
                );
            }
            if lang == "ja" {
                assert!(
                    has_japanese(s["fix"].as_str().unwrap()),
                    "{id}: fix not Japanese"
                );
            }
        }
    }
}

#[test]
fn explain_finds_codes_and_steps_by_their_short_names() {
    for (query, id) in [
        ("42", "2-2 42"),
        ("44", "2-2 44"),
        ("46", "2-2 46"),
        ("53", "2-2 53"),
        ("other", "2-2 other"),
        ("code 46", "2-2 46"),
        ("エラーコード46", "2-2 46"),
        ("2-1(7)", "2-1 (7)"),
        ("2-1 (7)", "2-1 (7)"),
        ("1-3 (5)-(8)", "1-3 (5)-(8)"),
        ("proxy", "1-3 (5)-(8)"),
    ] {
        let r = run(certprobe().args(["explain", query, "--format", "json"]));
        assert_eq!(r.code, Some(0), "{query}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["section"]["id"], id, "{query}");
    }
}

#[test]
fn explain_of_a_section_with_steps_lists_the_steps() {
    let r = run(certprobe().args(["explain", "2-1"]));
    assert_eq!(r.code, Some(0));
    for i in 1..=7 {
        assert!(
            r.stdout.contains(&format!("2-1 ({i})")),
            "step {i}:\n{}",
            r.stdout
        );
    }
    let codes = run(certprobe().args(["explain", "2-2", "--format", "json"]));
    let v: Value = serde_json::from_str(&codes.stdout).unwrap();
    let steps: Vec<&str> = v["section"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["2-2 42", "2-2 44", "2-2 46", "2-2 53", "2-2 other"]);
}

#[test]
fn explain_fixes_cover_todays_systems() {
    let r = run(certprobe().args(["explain", "2-1 (7)", "--format", "json"]));
    let fix = serde_json::from_str::<Value>(&r.stdout).unwrap()["section"]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    for want in [
        "certutil -user -addstore CA",
        "Firefox",
        "Keychain Access",
        "update-ca-certificates",
        "2023-09-30",
        "RootCA2",
    ] {
        assert!(fix.contains(want), "2-1 (7) fix lacks {want:?}");
    }
    let ja = run(certprobe().args(["explain", "2-1 (7)", "--lang", "ja"]));
    assert!(ja.stdout.contains("キーチェーンアクセス"));
}

#[test]
fn explain_of_an_unknown_section_is_one_clear_line() {
    for (query, lang) in [("9-9", "en"), ("47", "en"), ("2-1 (8)", "ja"), ("", "en")] {
        let r = run(certprobe().args(["explain", query, "--lang", lang]));
        assert_input_error(&r, query);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("explain --list"), "{}", r.stderr);
        if lang == "ja" {
            assert!(has_japanese(&r.stderr), "{}", r.stderr);
        }
    }
    // Terminal control characters in the query are not echoed raw.
    let r = run(certprobe().args(["explain", "\u{1b}[31mred"]));
    assert_input_error(&r, "escape");
    assert!(!r.stderr.contains('\u{1b}'));
    // Formats explain does not speak are a usage error.
    let r = run(certprobe().args(["explain", "46", "--format", "junit"]));
    assert_input_error(&r, "--format junit");
}

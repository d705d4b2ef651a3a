//! Every word a person reads comes from the ja/en catalogue, in both languages: the catalogue
//! itself (a), every demo scenario on every screen (b), every error (c), and the source, where
//! no user-facing literal may hide (d).

mod words;

use crate::support::{certprobe, repo};
use regex::Regex;
use std::path::{Path, PathBuf};
use words::{english_in_japanese, has_japanese, japanese_in_english};

/// A text that failed a language check: where it came from, the text and the odd words.
fn check_pair(what: &str, en: &str, ja: &str, problems: &mut Vec<String>) {
    let bad = english_in_japanese(ja);
    if !bad.is_empty() {
        problems.push(format!("{what} (ja): English {bad:?} in {ja:?}"));
    }
    let bad = japanese_in_english(en);
    if !bad.is_empty() {
        problems.push(format!("{what} (en): Japanese {bad:?} in {en:?}"));
    }
    if !has_japanese(ja) && !ja.trim().is_empty() && !english_in_japanese(en).is_empty() {
        problems.push(format!("{what} (ja): not translated: {ja:?}"));
    }
}

/// `{name}` placeholders filled with a value that is neither English nor Japanese, as the code
/// fills them with numbers, names and paths.
fn filled(t: &str) -> String {
    Regex::new(r"\{[a-z_0-9]+\}")
        .unwrap()
        .replace_all(t, "1")
        .into_owned()
}

// ─── (a) the catalogue ───────────────────────────────────────────────────────────────────

#[test]
fn every_catalogue_entry_is_in_its_own_language() {
    let cat = certprobe::guide::catalogue();
    let mut problems = Vec::new();
    let mut checked = 0;
    for s in cat.sections() {
        let parts = [("title", Some(&s.title)), ("symptom", s.symptom.as_ref())];
        let parts = parts
            .into_iter()
            .chain([("cause", Some(&s.cause)), ("fix", Some(&s.fix))]);
        for (field, t) in parts {
            if let Some(t) = t {
                let what = format!("section {} {field}", s.id);
                check_pair(&what, &filled(&t.en), &filled(&t.ja), &mut problems);
                checked += 1;
            }
        }
    }
    for key in cat.fix_keys() {
        let t = cat.fix_text(key).unwrap();
        check_pair(
            &format!("fix {key}"),
            &filled(&t.en),
            &filled(&t.ja),
            &mut problems,
        );
        checked += 1;
    }
    for key in cat.label_keys() {
        let t = cat.label_text(key).unwrap();
        check_pair(
            &format!("label {key}"),
            &filled(&t.en),
            &filled(&t.ja),
            &mut problems,
        );
        checked += 1;
    }
    assert!(checked > 400, "only {checked} entries found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ─── (d) the source ──────────────────────────────────────────────────────────────────────

/// Folders whose texts are still being moved into the catalogue. The test fails when one of
/// them is clean (remove it here) and on any finding elsewhere.
const PENDING: &[&str] = &[];

/// Files that may hold Japanese characters that are not words a person reads as a message.
const JAPANESE_ALLOWED: &[(&str, &str)] = &[(
    "src/text/wrap.rs",
    "the line-breaking table: punctuation and small kana that may not begin a line",
)];

/// The source with `// comments` and `#[cfg(test)]` modules taken out: what the binary says.
fn shipped_code(src: &str) -> String {
    let comment = Regex::new(r"(?m)(^|\s)//.*$").unwrap();
    let literal = Regex::new(r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)'"#).unwrap();
    let mut out = String::new();
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows: up to its matching closing brace, or its `;`.
            let mut depth = 0i32;
            let mut opened = false;
            for l in lines.by_ref() {
                // Braces inside string and char literals do not open or close anything.
                let l = literal.replace_all(l, "\"\"");
                depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                opened |= l.contains('{');
                if (opened && depth <= 0) || (!opened && l.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        out.push_str(&comment.replace(line, ""));
        out.push('\n');
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// What a file's shipped code does that only the catalogue may do.
fn literal_texts(rel: &str, code: &str) -> Vec<String> {
    let rules = [
        (
            r"\btext!\(",
            "the text! macro (texts belong in the catalogue)",
        ),
        (r#"Text::new\(\s*r?#*""#, "Text::new with a string literal"),
        (
            r#"(?:AppError::input|\bInput|\bUsage)\(\s*(?:format!|r?#*")"#,
            "an error built from a literal or format! (use AppError::catalogued)",
        ),
    ];
    let mut found = Vec::new();
    for (pattern, what) in rules {
        let n = Regex::new(pattern).unwrap().find_iter(code).count();
        if n > 0 {
            found.push(format!("{rel}: {n} × {what}"));
        }
    }
    if !JAPANESE_ALLOWED.iter().any(|(f, _)| *f == rel) {
        let mut rest = code.to_string();
        for n in words::JAPANESE_NAMES {
            rest = rest.replace(n, "");
        }
        let lines: Vec<usize> = rest
            .lines()
            .enumerate()
            .filter(|(_, l)| words::has_kana_kanji(l))
            .map(|(i, _)| i + 1)
            .collect();
        if !lines.is_empty() {
            found.push(format!("{rel}: kana or kanji on lines {lines:?}"));
        }
    }
    found
}

#[test]
fn no_user_facing_literal_in_the_source() {
    let root = repo();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut problems = Vec::new();
    let mut pending_dirty = std::collections::BTreeSet::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // Unit-test files declared `#[cfg(test)] mod tests;` are test code as a whole.
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(path).unwrap();
        let found = literal_texts(&rel, &shipped_code(&src));
        if found.is_empty() {
            continue;
        }
        match PENDING.iter().find(|p| rel.starts_with(**p)) {
            Some(p) => {
                pending_dirty.insert(*p);
            }
            None => problems.extend(found),
        }
    }
    for p in PENDING {
        if !pending_dirty.contains(p) {
            problems.push(format!("{p} is clean now: remove it from PENDING"));
        }
    }
    assert!(files.len() > 50, "only {} files", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_source_scan_sees_through_comments_and_tests() {
    let src = "fn a() { f(\"証明書\"); } // 証明書\n#[cfg(test)]\nmod tests {\n    fn b() { g(\"鍵\"); }\n}\nfn c() {}\n";
    let code = shipped_code(src);
    assert_eq!(code.matches("証明書").count(), 1, "{code}");
    assert!(!code.contains('鍵') && code.contains("fn c()"), "{code}");
    let found = literal_texts("src/x.rs", "let e = AppError::input(format!(\"x {y}\"));");
    assert_eq!(found.len(), 1, "{found:?}");
}

// ─── (b) every demo scenario on every screen ─────────────────────────────────────────────

/// Texts of the folders still being moved (see [`PENDING`]) that reach the demo's Japanese
/// screens in English, each with where it is made. They are taken out before the check; the
/// test fails when one of them is no longer seen (remove it here).
const PENDING_WORDS: &[(&str, &str)] = &[];

/// Names, not words: what the demo's own test PKI puts in its certificates' subjects, and the
/// demo profile's name.
const DEMO_NAMES: &[&str] = &[
    certprobe::demo::pki::OTHER_CA_CN,
    certprobe::demo::pki::INTERCEPT_CA_CN,
    "Example Corp",
    "SECOM Trust Systems CO.,LTD.",
    "Demo Corporation",
    "demo",
];

/// The titles of the simulated service's pages (`src/demo/pages.toml`): the service's own
/// words, which certprobe quotes as the server sent them.
fn service_words() -> Vec<&'static str> {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS
        .get_or_init(|| {
            let src = std::fs::read_to_string(repo().join("src/demo/pages.toml")).unwrap();
            let doc: toml::Table = toml::from_str(&src).unwrap();
            let mut out: Vec<String> = doc
                .values()
                .filter_map(|v| v.as_table())
                .flat_map(|t| t.iter())
                .filter(|(k, _)| k.ends_with("title"))
                .filter_map(|(_, v)| v.as_str().map(str::to_string))
                .collect();
            // Longest first, so that a title is not cut by a shorter one inside it.
            out.sort_by_key(|t| std::cmp::Reverse(t.len()));
            out
        })
        .iter()
        .map(String::as_str)
        .collect()
}

/// Run certprobe with wide, unwrapped tables (so that no name is cut in two).
fn run(args: &[&str]) -> std::process::Output {
    certprobe()
        .env("COLUMNS", "1000")
        .args(args)
        .output()
        .expect("certprobe runs")
}

fn scenarios() -> Vec<String> {
    let out = run(&["--lang", "en", "demo", "--list"]);
    assert!(out.status.success(), "demo --list failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 9, "scenarios: {names:?}\n{text}");
    names
}

/// The words of one screen that are not in its language: subjects and pending texts taken
/// out first, lines joined (the compact screen wraps a sentence over several).
fn screen_problems(
    what: &str,
    lang: &str,
    text: &str,
    seen: &mut Vec<&'static str>,
) -> Vec<String> {
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for name in DEMO_NAMES.iter().copied().chain(service_words()) {
        text = text.replace(name, " ");
    }
    let mut text = words::strip_non_prose(&text);
    for (pending, _) in PENDING_WORDS {
        if text.contains(pending) {
            seen.push(pending);
            text = text.replace(pending, " ");
        }
    }
    let bad = if lang == "ja" {
        english_in_japanese(&text)
    } else {
        japanese_in_english(&text)
    };
    match bad.first() {
        None => Vec::new(),
        Some(first) => {
            let at = text.find(first.as_str()).unwrap_or(0);
            let context: String = text[at..].chars().take(120).collect();
            vec![format!("{what}: {bad:?}, first in …{context}…")]
        }
    }
}

/// What a browser shows of an HTML report: no style or script, `<code>` as backticks, entities
/// decoded.
fn visible_text(html: &str) -> String {
    let html = Regex::new(r"(?s)<(style|script)[^>]*>.*?</(style|script)>")
        .unwrap()
        .replace_all(html, " ");
    let html = Regex::new(r"</?code[^>]*>")
        .unwrap()
        .replace_all(&html, "`");
    let text = Regex::new(r"<[^>]*>").unwrap().replace_all(&html, " ");
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[test]
fn every_demo_scenario_speaks_one_language_on_every_screen() {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    let mut screens = 0;
    for scenario in scenarios() {
        for lang in ["ja", "en"] {
            for mode in [
                &[][..],
                &["--details"][..],
                &["--format", "markdown"][..],
                &["--format", "html"][..],
            ] {
                let mut args = vec!["--lang", lang, "demo", "--scenario", scenario.as_str()];
                args.extend_from_slice(mode);
                let out = run(&args);
                let what = args.join(" ");
                assert!(
                    matches!(out.status.code(), Some(0 | 1)),
                    "{what}: exit {:?}\n{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                );
                let mut text = String::from_utf8(out.stdout).unwrap();
                if mode.contains(&"html") {
                    text = visible_text(&text);
                }
                assert!(!text.trim().is_empty(), "{what}: nothing on screen");
                if lang == "ja" {
                    assert!(has_japanese(&text), "{what}: no Japanese at all");
                }
                problems.extend(screen_problems(&what, lang, &text, &mut seen));
                screens += 1;
            }
        }
    }
    for (pending, whence) in PENDING_WORDS {
        if !seen.contains(pending) {
            problems.push(format!(
                "{pending:?} ({whence}) is gone: remove it from PENDING_WORDS"
            ));
        }
    }
    assert!(screens >= 72, "only {screens} screens");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ─── (c) every error ─────────────────────────────────────────────────────────────────────

/// A bad invocation, and, while its message is still made in a folder of [`PENDING`], where.
struct BadRun {
    args: Vec<String>,
    pending: Option<&'static str>,
}

fn bad(args: &[&str]) -> BadRun {
    BadRun {
        args: args.iter().map(|a| a.to_string()).collect(),
        pending: None,
    }
}

#[test]
fn every_error_is_one_line_in_the_language_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_str().unwrap().to_string();
    let wrong_password = dir.path().join("wrong-password.txt");
    std::fs::write(&wrong_password, "not the password\n").unwrap();
    let wrong_password = wrong_password.to_str().unwrap();
    let existing = dir.path().join("report.md");
    std::fs::write(&existing, "kept\n").unwrap();
    let existing = existing.to_str().unwrap();
    let fixture = |p: &str| {
        repo()
            .join("fixtures")
            .join(p)
            .to_str()
            .unwrap()
            .to_string()
    };
    let (p12, empty, garbage) = (
        fixture("pki/client.p12"),
        fixture("pki/empty.pem"),
        fixture("pki/garbage.bin"),
    );
    let profile = |name: &str| fixture(&format!("profiles/{name}"));
    let (bad_type, bad_key, bad_syntax) = (
        profile("bad-type.toml"),
        profile("bad-unknown-key.toml"),
        profile("bad-syntax.toml"),
    );
    let runs = [
        // files
        bad(&["inspect", "/nonexistent/me.p12"]),
        bad(&["inspect", &folder]),
        bad(&["inspect", &empty]),
        bad(&["report", "--out", existing]),
        bad(&["inspect", &garbage]),
        bad(&["inspect", "--password-file", wrong_password, &p12]),
        bad(&[
            "inspect",
            "--password-env",
            "CERTPROBE_NO_SUCH_VARIABLE",
            &p12,
        ]),
        // profiles
        bad(&["profile", "check", "/nonexistent/profile.toml"]),
        bad(&["profile", "check", &bad_type]),
        bad(&["profile", "check", &bad_key]),
        bad(&["profile", "check", &bad_syntax]),
        // flags and their values
        bad(&["frobnicate"]),
        bad(&["--bogus"]),
        bad(&["explain"]),
        bad(&["--timeout", "fast", "explain", "46"]),
        bad(&["--timeout", "10h", "explain", "46"]),
        bad(&["--format", "xml", "explain", "46"]),
        bad(&["check", "--only", "everything"]),
        bad(&["completions", "tcsh"]),
        bad(&["verify", "--at", "someday"]),
        bad(&["explain", "9-9"]),
        bad(&["demo", "--scenario", "nope"]),
        bad(&["tls", "http://example.test/"]),
        bad(&["tls", ""]),
        bad(&["check", "--proxy", "ftp://proxy.test"]),
    ];
    let mut problems = Vec::new();
    for run_case in &runs {
        for lang in ["ja", "en"] {
            let mut args = vec!["--lang", lang];
            args.extend(run_case.args.iter().map(String::as_str));
            let what = args.join(" ");
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "{what}: exit code\n{stderr}");
            assert!(out.stdout.is_empty(), "{what}: wrote to stdout");
            let line = stderr.trim_end();
            assert_eq!(line.lines().count(), 1, "{what}: not one line:\n{stderr}");
            assert!(line.starts_with("certprobe: "), "{what}: {line}");
            let bad = if lang == "ja" {
                let mut bad = english_in_japanese(line);
                if !words::has_kana_kanji(line) {
                    bad.push("(no Japanese at all)".into());
                }
                bad
            } else {
                japanese_in_english(line)
            };
            match (run_case.pending, bad.is_empty()) {
                (None, false) => problems.push(format!("{what}: {bad:?} in {line:?}")),
                (Some(whence), true) if lang == "ja" => problems.push(format!(
                    "{what}: the message ({whence}) is in Japanese now: it is no longer pending"
                )),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

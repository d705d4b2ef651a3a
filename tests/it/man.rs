//! The man pages in `man/` are generated from the clap definitions (`certprobe::cli::Cli`) with
//! clap_mangen and committed. This test regenerates them in memory and fails when a committed
//! page differs; run it with `CERTPROBE_UPDATE_MAN=1` to rewrite them:
//!
//!     CERTPROBE_UPDATE_MAN=1 cargo test --test it man::
//!
//! It also checks the shell completion scripts `certprobe completions SHELL` prints.

use assert_cmd::Command;
use clap::CommandFactory;
use clap_mangen::Man;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn man_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// Escape plain text for roff: backslashes, and a leading `.` or `'` that would start a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// EXIT STATUS, from the same text `--help` prints (`certprobe::cli::EXIT_CODES`).
fn exit_status() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    for line in certprobe::cli::EXIT_CODES.lines().skip(1) {
        let t = line.trim();
        match t.split_once("  ") {
            Some((code, meaning)) if code.chars().all(|c| c.is_ascii_digit()) => {
                out.push_str(&format!(
                    ".TP\n\\fB{code}\\fR\n{}\n",
                    roff_text(meaning.trim())
                ));
            }
            _ => out.push_str(&format!(".PP\n{}\n", roff_text(t))),
        }
    }
    out
}

const ENVIRONMENT: &[(&str, &str)] = &[
    ("CERTPROBE_PROFILE", "Service profile file, as --profile."),
    ("CERTPROBE_CERT", "Client certificate file, as --cert."),
    ("CERTPROBE_KEY", "Private key file, as --key."),
    ("CERTPROBE_TOKEN", "Per-user token of the issuance URL, as --token."),
    ("CERTPROBE_SIGNUP_CODE", "Per-user code of the sign-up URL, as --signup-code."),
    ("LC_ALL, LC_MESSAGES, LANG", "Language of the output when --lang is not given: the first one set decides; a value starting with ja means Japanese, anything else English."),
    ("NO_COLOR", "When set and not empty, --color auto does not colour the output."),
    ("HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "The proxy settings certprobe checks and uses, unless --proxy or --no-proxy is given."),
];

fn environment() -> String {
    let mut out = String::from(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(name),
            roff_text(what)
        ));
    }
    out
}

fn see_also(pages: &[String], me: &str) -> String {
    let refs: Vec<String> = pages
        .iter()
        .filter(|p| p.as_str() != me)
        .map(|p| format!("\\fB{}\\fR(1)", roff_text(p)))
        .collect();
    format!(".SH \"SEE ALSO\"\n{}\n", refs.join(", "))
}

/// Render one page: clap_mangen's sections, then exit status, environment and see-also.
fn page(cmd: clap::Command, pages: &[String]) -> String {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    let man = Man::new(cmd.clone()).manual("certprobe manual");
    let mut buf: Vec<u8> = Vec::new();
    man.render_title(&mut buf).unwrap();
    man.render_name_section(&mut buf).unwrap();
    man.render_synopsis_section(&mut buf).unwrap();
    man.render_description_section(&mut buf).unwrap();
    let has_args = cmd.get_arguments().any(|a| !a.is_hide_set());
    if has_args {
        man.render_options_section(&mut buf).unwrap();
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf).unwrap();
    }
    let mut out = String::from_utf8(buf).unwrap();
    out.push_str(&exit_status());
    if name == "certprobe" {
        out.push_str(&environment());
    }
    out.push_str(&see_also(pages, &name));
    let mut buf: Vec<u8> = Vec::new();
    man.render_version_section(&mut buf).unwrap();
    out.push_str(&String::from_utf8(buf).unwrap());
    out
}

/// Every page, by file name: `certprobe.1`, `certprobe-check.1`, `certprobe-profile-show.1`…
fn generate() -> BTreeMap<String, String> {
    fn collect(cmd: &clap::Command, out: &mut Vec<clap::Command>) {
        out.push(cmd.clone());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            collect(sub, out);
        }
    }
    let mut root = certprobe::cli::Cli::command().disable_help_subcommand(true);
    root.build();
    let mut cmds = Vec::new();
    collect(&root, &mut cmds);
    let names: Vec<String> = cmds
        .iter()
        .map(|c| {
            c.get_display_name()
                .unwrap_or_else(|| c.get_name())
                .to_string()
        })
        .collect();
    cmds.into_iter()
        .zip(&names)
        .map(|(c, n)| (format!("{n}.1"), page(c, &names)))
        .collect()
}

#[test]
fn man_pages_are_up_to_date() {
    let pages = generate();
    let dir = man_dir();
    if std::env::var_os("CERTPROBE_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
        eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
        return;
    }
    let mut stale = Vec::new();
    for (name, text) in &pages {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if &committed == text => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(_) => stale.push(format!("{name} is missing")),
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".1") && !pages.contains_key(&name) {
            stale.push(format!("{name} has no command any more"));
        }
    }
    assert!(
        stale.is_empty(),
        "man pages are out of date ({}); regenerate with:\n  CERTPROBE_UPDATE_MAN=1 cargo test --test man",
        stale.join(", ")
    );
}

#[test]
fn the_main_page_covers_commands_exit_status_and_environment() {
    let pages = generate();
    let main = &pages["certprobe.1"];
    assert!(
        main.starts_with(".ie \\n(.g .ds Aq") || main.contains(".TH certprobe 1"),
        "{main}"
    );
    assert!(main.contains(".TH certprobe 1"));
    assert!(main.contains(".SH \"EXIT STATUS\""));
    for code in ["0", "1", "2", "3"] {
        assert!(
            main.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit {code} missing"
        );
    }
    assert!(main.contains("nagios"));
    assert!(main.contains(".SH ENVIRONMENT") && main.contains("CERTPROBE_PROFILE"));
    for cmd in [
        "check",
        "inspect",
        "verify",
        "tls",
        "explain",
        "report",
        "demo",
        "profile",
        "completions",
    ] {
        assert!(main.contains(cmd), "{cmd} missing from the main page");
        assert!(
            pages.contains_key(&format!("certprobe-{cmd}.1")),
            "no page for {cmd}"
        );
    }
    assert!(pages.contains_key("certprobe-profile-check.1"));
    let explain = &pages["certprobe-explain.1"];
    assert!(
        explain.contains("\\-\\-list") && explain.contains("\\-\\-lang"),
        "global options on subcommand pages"
    );
    for (name, text) in &pages {
        assert!(
            text.contains(".SH \"EXIT STATUS\""),
            "{name} has no EXIT STATUS"
        );
    }
}

/// `man` itself formats the committed page without a warning.
#[test]
fn man_formats_the_committed_page() {
    let page = man_dir().join("certprobe.1");
    let out = std::process::Command::new("man")
        .args(["--warnings", "-E", "UTF-8", "-l"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .expect("`man` (package man-db) is needed to check the man page");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man failed: {stderr}");
    assert!(stderr.trim().is_empty(), "man warnings:\n{stderr}");
    // Without a terminal, grotty marks bold text by overstriking (`X\bX`): undo that.
    let plain = regex::Regex::new(".\x08").unwrap().replace_all(&stdout, "");
    for want in [
        "NAME",
        "SYNOPSIS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "certprobe-explain(1)",
    ] {
        assert!(plain.contains(want), "{want} missing:\n{plain}");
    }
}

fn completions(shell: &str) -> String {
    let out = Command::cargo_bin("certprobe")
        .unwrap()
        .args(["completions", shell])
        .env_remove("CERTPROBE_PROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "completions {shell}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_name_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef certprobe"),
        ("fish", "complete -c certprobe"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer"),
    ] {
        let script = completions(shell);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        let flags = if shell == "fish" {
            ["-l format", "-l lang"]
        } else {
            ["--format", "--lang"]
        };
        for word in ["explain", "check", "profile"].into_iter().chain(flags) {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
}

/// The bash script is valid bash (bash is always there); it completes subcommands.
#[test]
fn bash_completion_is_valid_and_completes_subcommands() {
    let script = completions("bash");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certprobe.bash");
    std::fs::write(&file, &script).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    let probe = format!(
        "source {}; COMP_WORDS=(certprobe ex); COMP_CWORD=1; COMP_LINE='certprobe ex'; COMP_POINT=12; _certprobe certprobe ex certprobe; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &probe])
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.lines().any(|w| w == "explain"),
        "completions for `ex`: {words:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = Command::cargo_bin("certprobe")
        .unwrap()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

//! `certprobe report`: one private file with the guide's items, the findings and summaries, and
//! never a private key, a password, a proxy credential, a token or a sign-up code.
//!
//! Runs the real binary with the loopback test profile (every endpoint on localhost:9, refused).

use serde_json::Value;
use std::path::{Path, PathBuf};

const PROXY_USER: &str = "markerproxyuser";
const PROXY_PASS: &str = "MarkerProxyPass42";
const TOKEN: &str = "MarkerTokenZZ81";
const SIGNUP: &str = "MarkerSignupQQ27";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    root().join("fixtures/pki").join(name).display().to_string()
}

fn profile() -> String {
    root()
        .join("tests/it/support/local_profile.toml")
        .display()
        .to_string()
}

fn password() -> String {
    std::fs::read_to_string(fixture("password.txt"))
        .unwrap()
        .trim()
        .to_string()
}

/// The base64 lines of a PEM private key (what must never be copied anywhere).
fn key_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_string)
        .collect()
}

fn certprobe(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("certprobe").unwrap();
    c.current_dir(dir)
        .env_remove("CERTPROBE_PROFILE")
        .env_remove("CERTPROBE_CERT")
        .env_remove("CERTPROBE_KEY")
        .env_remove("CERTPROBE_TOKEN")
        .env_remove("CERTPROBE_SIGNUP_CODE")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env(
            "HTTPS_PROXY",
            format!("http://{PROXY_USER}:{PROXY_PASS}@127.0.0.1:9"),
        )
        .env("NO_PROXY", "")
        .timeout(std::time::Duration::from_secs(60))
        .args(["--profile", &profile(), "--timeout", "5s"]);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    file: PathBuf,
    body: String,
}

fn report(dir: &Path, args: &[&str]) -> Run {
    let out = certprobe(dir).arg("report").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let line = stdout.lines().last().unwrap_or("");
    let file = line
        .rsplit_once(' ')
        .map(|(_, p)| PathBuf::from(p))
        .unwrap_or_default();
    let file = if file.is_absolute() {
        file
    } else {
        dir.join(file)
    };
    let body = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "no report at {} ({e}); stdout: {stdout}\nstderr: {stderr}",
            file.display()
        )
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        file,
        body,
    }
}

fn assert_no_secrets(run: &Run, extra: &[String]) {
    let mut markers: Vec<String> = vec![
        PROXY_USER.into(),
        PROXY_PASS.into(),
        TOKEN.into(),
        SIGNUP.into(),
        password(),
        "PRIVATE KEY".into(),
    ];
    markers.extend(extra.iter().cloned());
    for m in &markers {
        for (what, text) in [
            ("report", &run.body),
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
        ] {
            assert!(
                !text.contains(m.as_str()),
                "{what} contains secret {m:?}:\n{text}"
            );
        }
    }
}

fn secret_args() -> Vec<String> {
    vec![
        "--token".into(),
        TOKEN.into(),
        "--signup-code".into(),
        SIGNUP.into(),
    ]
}

#[test]
fn pkcs12_with_password_and_proxy_credentials_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--cert".to_string(),
        fixture("client.p12"),
        "--password-file".into(),
        fixture("password.txt"),
        "--trust".into(),
        fixture("root.pem"),
        "--no-system-trust".into(),
        "--message".into(),
        "ページを表示できません".into(),
        "--out".into(),
        "r.md".into(),
    ];
    args.extend(secret_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = report(dir.path(), &args);
    assert_no_secrets(&run, &[]);
    // The report is real: findings, the certificate from the PKCS#12, the proxy without credentials.
    for want in [
        "cert.load",
        "CN=S47000001",
        "SHA-256",
        "[1] ",
        "ページを表示できません",
        "[4] ",
        "[6] ",
        "HTTPS_PROXY=http://127.0.0.1:9",
        "Security Communication RootCA1",
    ] {
        assert!(run.body.contains(want), "missing {want:?}:\n{}", run.body);
    }
    assert!(run.stdout.contains("r.md"), "{}", run.stdout);
    assert!(
        matches!(run.code, 0 | 1),
        "exit {}: {}",
        run.code,
        run.stderr
    );
}

#[test]
fn pem_key_and_encrypted_key_never_appear_in_markdown_or_json() {
    let dir = tempfile::tempdir().unwrap();
    for (key, extra) in [
        ("client.key", vec![]),
        (
            "client-enc.key",
            vec!["--password-file".to_string(), fixture("password.txt")],
        ),
    ] {
        for format in ["markdown", "json"] {
            let out = format!("r-{key}.{format}");
            let mut args = vec![
                "--format".to_string(),
                format.into(),
                "--cert".into(),
                fixture("client.pem"),
                "--key".into(),
                fixture(key),
                "--ca".into(),
                fixture("inter.pem"),
                "--trust".into(),
                fixture("root.pem"),
                "--no-system-trust".into(),
                "--proxy".into(),
                format!("http://{PROXY_USER}:{PROXY_PASS}@127.0.0.1:9"),
                "--out".into(),
                out,
            ];
            args.extend(extra.iter().cloned());
            args.extend(secret_args());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = report(dir.path(), &args);
            assert_no_secrets(&run, &key_lines(key));
            if format == "json" {
                let v: Value = serde_json::from_str(&run.body).expect("report is JSON");
                assert_eq!(v["kind"], "certprobe-support-report");
                assert!(v["check"]["findings"].as_array().unwrap().len() > 3);
                assert!(v["certificates"].as_array().unwrap().len() >= 3);
                let proxies = v["environment"]["proxy"].to_string();
                assert!(proxies.contains("http://127.0.0.1:9"), "{proxies}");
            }
        }
    }
}

#[test]
fn redact_masks_user_id_serials_and_the_client_subject() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "--cert",
        &fixture("client-chain.pem"),
        "--key",
        &fixture("client.key"),
        "--trust",
        &fixture("root.pem"),
        "--no-system-trust",
        "--only",
        "local",
        "--user-id",
        "MarkerUser0815",
    ]
    .map(str::to_string);
    let plain = report(
        dir.path(),
        &[
            &base.iter().map(String::as_str).collect::<Vec<_>>()[..],
            &["--out", "plain.md"],
        ]
        .concat(),
    );
    assert!(plain.body.contains("MarkerUser0815"));
    assert!(plain.body.contains("S47000001"));
    let serial_line = plain
        .body
        .lines()
        .find(|l| l.contains("Serial number"))
        .expect("a serial line")
        .to_string();
    let serial = serial_line.rsplit(": ").next().unwrap().trim().to_string();

    let red = report(
        dir.path(),
        &[
            &base.iter().map(String::as_str).collect::<Vec<_>>()[..],
            &["--redact", "--out", "red.md"],
        ]
        .concat(),
    );
    for gone in ["MarkerUser0815", "S47000001", serial.as_str()] {
        assert!(!red.body.contains(gone), "{gone:?} still in:\n{}", red.body);
    }
    assert!(red.body.contains("[redacted]"));
    assert!(red.body.contains("SECOM Passport for Member PUB CA1"));
}

#[cfg(unix)]
#[test]
fn default_file_is_dated_in_the_current_folder_and_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let run = report(dir.path(), &["--only", "local"]);
    let name = run.file.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("certprobe-report-20") && name.ends_with(".md"),
        "{name}"
    );
    assert_eq!(run.file.parent().unwrap(), dir.path());
    let mode = std::fs::metadata(&run.file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
    // No certificate given: the check says so, and the report still carries the blanks.
    assert!(run.body.contains("cert.load"), "{}", run.body);
    assert!(run.body.contains("(please fill in)"));

    // An existing file given by --out is left alone without --force (exit 2), and with it
    // replaced by a new file of mode 0600 (its old mode is never changed in place).
    let out = dir.path().join("old.md");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = certprobe(dir.path())
        .args(["report", "--only", "local", "--out", "old.md"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    report(
        dir.path(),
        &["--only", "local", "--out", "old.md", "--force"],
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn other_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = certprobe(dir.path())
        .args(["report", "--format", "junit", "--only", "local"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Markdown, JSON or HTML"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // With --format nagios every error is a plugin UNKNOWN (exit 3), and still no file.
    let out = certprobe(dir.path())
        .args(["report", "--format", "nagios", "--only", "local"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("CERTPROBE UNKNOWN"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

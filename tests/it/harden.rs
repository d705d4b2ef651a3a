//! Local input and written files, tried as an attacker would: escape-laden subjects, file names
//! and profile strings in every subcommand and format; links, FIFOs, device nodes and existing
//! files planted where certprobe writes; /dev/zero, FIFOs and oversized files as every input
//! flag; a PKCS#12 key-bag bomb and a regular-expression bomb.

use crate::support::measure::{raw_controls, run, Measured};
use crate::support::{pki, repo};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Hang guard for one run (never reached by a passing test).
const HARD: Duration = Duration::from_secs(60);

/// Terminal controls of every kind: CSI, OSC 52 (clipboard), OSC 0 (title) with BEL, a C1 CSI,
/// NEL, bidi overrides and isolates, zero-width characters.
const EVIL: &str =
    "\u{1b}[31mRED\u{1b}]52;c;SGk=\u{7}\u{1b}]0;title\u{1b}\\\u{9b}2J\u{85}\u{202e}gpj\u{2066}\u{200b}\u{feff}";

fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

fn args(list: &[&dyn AsRefOs]) -> Vec<OsString> {
    list.iter().map(|a| a.os()).collect()
}

trait AsRefOs {
    fn os(&self) -> OsString;
}
impl AsRefOs for &str {
    fn os(&self) -> OsString {
        OsString::from(self)
    }
}
impl AsRefOs for String {
    fn os(&self) -> OsString {
        OsString::from(self)
    }
}
impl AsRefOs for PathBuf {
    fn os(&self) -> OsString {
        self.as_os_str().to_owned()
    }
}

/// The local test profile with `name`, `title` and a CA name carrying escapes.
fn evil_profile(dir: &Path) -> PathBuf {
    let src = std::fs::read_to_string(repo().join("tests/it/support/local_profile.toml")).unwrap();
    let toml_evil: String = EVIL
        .chars()
        .map(|c| {
            if c.is_control() || (c as u32) >= 0x80 {
                format!("\\u{:04X}", c as u32)
            } else if c == '\\' {
                "\\\\".to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let src = src
        .replacen(
            "name = \"local-test\"",
            &format!("name = \"evil{toml_evil}\""),
            1,
        )
        .replacen(
            "title = \"SECOM",
            &format!("title = \"{toml_evil} SECOM"),
            1,
        )
        .replacen(
            "name = \"SECOM Passport for Member PUB CA1\"\n",
            &format!("name = \"CA{toml_evil}\"\n"),
            1,
        );
    let p = dir.join("evil.toml");
    std::fs::write(&p, src).unwrap();
    p
}

/// A client certificate (with its key, in one PEM file) whose subject carries escapes, saved
/// under a file name that carries them too.
fn evil_identity(dir: &Path) -> PathBuf {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["h.example".to_string()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("S47{EVIL}"));
    dn.push(DnType::OrganizationName, EVIL);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).unwrap();
    let p = dir.join(format!("id{EVIL}.pem"));
    std::fs::write(&p, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    p
}

fn assert_clean(what: &str, r: &Measured) {
    assert!(!r.killed, "{what}: hung (killed after {HARD:?})");
    assert!(!r.err().contains("panicked"), "{what}: {}", r.err());
    if let Some(bad) = raw_controls(&r.stdout) {
        panic!("{what}: raw character in stdout: {bad}");
    }
    if let Some(bad) = raw_controls(&r.stderr) {
        panic!("{what}: raw character in stderr: {bad}");
    }
}

#[test]
fn escapes_reach_no_output_of_any_subcommand_or_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let profile = evil_profile(d);
    let id = evil_identity(d);
    let profile_flag = || vec![os("--profile"), profile.clone().into_os_string()];
    let formats = ["table", "json", "markdown", "junit", "prometheus", "nagios"];
    let mut runs: Vec<(String, Vec<OsString>)> = Vec::new();
    for f in formats {
        runs.push((
            format!("verify {f}"),
            args(&[
                &"--format",
                &f,
                &"verify",
                &"--no-system-trust",
                &"--cert",
                &id,
            ]),
        ));
        let mut a = args(&[
            &"--format",
            &f,
            &"--timeout",
            &"2s",
            &"check",
            &"--no-system-trust",
            &"--cert",
            &id,
        ]);
        a.extend(profile_flag());
        runs.push((format!("check {f}"), a));
        let mut a = args(&[&"--format", &f, &"--timeout", &"2s", &"tls", &"localhost:9"]);
        a.extend([os("--cert"), id.clone().into_os_string()]);
        runs.push((format!("tls {f}"), a));
        let mut a = args(&[&"--format", &f, &"--timeout", &"2s", &"fetch-ca", &"--out"]);
        a.push(d.join(format!("cas-{f}")).into_os_string());
        a.extend(profile_flag());
        runs.push((format!("fetch-ca {f}"), a));
        // Errors: a file that does not exist, a section and a scenario that do not exist.
        runs.push((
            format!("missing file {f}"),
            args(&[
                &"--format",
                &f,
                &"verify",
                &"--cert",
                &d.join(format!("no{EVIL}.pem")),
            ]),
        ));
    }
    for f in ["table", "json"] {
        runs.push((
            format!("inspect {f}"),
            args(&[&"--format", &f, &"inspect", &id]),
        ));
        runs.push((
            format!("explain {f}"),
            args(&[&"--format", &f, &"explain", &EVIL]),
        ));
    }
    runs.push(("demo".into(), args(&[&"demo", &"--scenario", &EVIL])));
    runs.push((
        "profile check".into(),
        args(&[&"profile", &"check", &profile]),
    ));
    runs.push((
        "profile show".into(),
        args(&[&"profile", &"show", &profile]),
    ));
    runs.push(("unknown flag".into(), vec![os(format!("--x{EVIL}"))]));
    runs.push((
        "bad profile path".into(),
        args(&[&"--profile", &d.join(format!("p{EVIL}.toml")), &"check"]),
    ));
    let mut seen_escaped = 0;
    for (what, a) in &runs {
        let r = run(a, Some(d), HARD);
        assert_clean(what, &r);
        if (r.out() + &r.err()).contains("\\u{1b}") || r.out().contains("\\u001b") {
            seen_escaped += 1;
        }
        assert!(
            matches!(r.code, Some(0..=3)),
            "{what}: exit {:?}: {}",
            r.code,
            r.err()
        );
    }
    // The escapes did reach the outputs — shown, not obeyed.
    assert!(
        seen_escaped >= runs.len() / 2,
        "{seen_escaped} of {}",
        runs.len()
    );

    // The support report, in both formats: the written file is clean too.
    for (f, ext) in [("markdown", "md"), ("json", "json")] {
        let out = d.join(format!("report{EVIL}.{ext}"));
        let mut a = args(&[
            &"--format",
            &f,
            &"report",
            &"--only",
            &"local",
            &"--no-system-trust",
            &"--message",
            &EVIL,
            &"--cert",
            &id,
            &"--out",
            &out,
        ]);
        a.extend(profile_flag());
        let r = run(&a, Some(d), HARD);
        assert_clean(&format!("report {f}"), &r);
        let body = std::fs::read(&out).unwrap_or_else(|e| panic!("report {f}: {e}: {}", r.err()));
        if let Some(bad) = raw_controls(&body) {
            panic!("report {f}: raw character in the file: {bad}");
        }
        if f == "json" {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("report is JSON");
            assert_eq!(v["kind"], "certprobe-support-report");
        }
    }
}

/// Mode, owner, whether a link, and content (or link target) of a path.
type State = (u32, u32, bool, Vec<u8>);

/// The [`State`] of a path (not following a link), to compare before/after.
fn state(p: &Path) -> State {
    let m = std::fs::symlink_metadata(p).unwrap();
    let content = if m.file_type().is_file() {
        std::fs::read(p).unwrap()
    } else if m.file_type().is_symlink() {
        std::fs::read_link(p)
            .unwrap()
            .into_os_string()
            .into_encoded_bytes()
    } else {
        Vec::new()
    };
    (m.mode(), m.uid(), m.file_type().is_symlink(), content)
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A character device node like /dev/null (1:3). Needs root, as the test machines run.
fn mknod_null(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(
        r,
        0,
        "mknod needs root: {}",
        std::io::Error::last_os_error()
    );
}

/// The planted things of one folder: a victim file, and at `name` a link to it, a FIFO, a device
/// node or an existing file. Returns the paths whose state must not change.
fn plant(dir: &Path, name: &str, kind: &str) -> Vec<PathBuf> {
    let victim = dir.join(format!("victim-{kind}"));
    std::fs::write(&victim, b"precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let at = dir.join(name);
    match kind {
        "symlink" => std::os::unix::fs::symlink(&victim, &at).unwrap(),
        "fifo" => mkfifo(&at),
        "device" => mknod_null(&at),
        "existing" => {
            std::fs::write(&at, b"old report").unwrap();
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        other => unreachable!("{other}"),
    }
    vec![victim, at]
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn assert_refused_untouched(what: &str, r: &Measured, watched: &[(PathBuf, State)]) {
    assert!(!r.killed, "{what}: hung");
    assert_eq!(r.code, Some(2), "{what}: {}{}", r.out(), r.err());
    assert_eq!(r.err().trim_end().lines().count(), 1, "{what}: {}", r.err());
    for (p, before) in watched {
        assert_eq!(&state(p), before, "{what}: {} changed", p.display());
    }
    eprintln!(
        "[harden] {what}: exit 2 in {} ms: {}",
        r.elapsed.as_millis(),
        r.err().trim_end()
    );
}

#[test]
fn report_out_never_writes_through_links_fifos_devices_or_existing_files() {
    for kind in ["symlink", "fifo", "device", "existing"] {
        for force in [false, true] {
            if kind == "existing" && force {
                continue; // the allowed case, below
            }
            let dir = tempfile::tempdir().unwrap();
            let watched: Vec<_> = plant(dir.path(), "r.md", kind)
                .into_iter()
                .map(|p| {
                    let s = state(&p);
                    (p, s)
                })
                .collect();
            let before = listing(dir.path());
            let mut a = vec!["report", "--only", "local", "--out", "r.md"];
            if force {
                a.push("--force");
            }
            let r = run(&a, Some(dir.path()), HARD);
            assert_refused_untouched(&format!("report --out {kind} force={force}"), &r, &watched);
            assert_eq!(listing(dir.path()), before, "no file left behind");
        }
    }
    // /dev/null itself: its mode is never touched.
    let before = state(Path::new("/dev/null"));
    for force in [false, true] {
        let mut a = vec!["report", "--only", "local", "--out", "/dev/null"];
        if force {
            a.push("--force");
        }
        let r = run(&a, None, HARD);
        assert_refused_untouched(
            "report --out /dev/null",
            &r,
            &[(PathBuf::from("/dev/null"), before.clone())],
        );
    }

    // An existing file with --force is replaced by a new file (a hard link to the old one
    // keeps the old contents and mode: nothing was written into it).
    let dir = tempfile::tempdir().unwrap();
    plant(dir.path(), "r.md", "existing");
    let link = dir.path().join("old-link");
    std::fs::hard_link(dir.path().join("r.md"), &link).unwrap();
    let r = run(
        &["report", "--only", "local", "--out", "r.md", "--force"],
        Some(dir.path()),
        HARD,
    );
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.err());
    let new = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(new.contains("certprobe support report"), "{new}");
    let mode = std::fs::metadata(dir.path().join("r.md")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read(&link).unwrap(), b"old report");
    assert_eq!(std::fs::metadata(&link).unwrap().mode() & 0o777, 0o644);
}

#[test]
fn default_report_name_planted_as_a_link_is_refused() {
    // The default name holds the time to the second: links for the next 40 seconds.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let f = time::macros::format_description!("[year][month][day]-[hour][minute][second]Z");
    for s in 0..40 {
        let t = time::OffsetDateTime::from_unix_timestamp(now + s).unwrap();
        let name = format!("certprobe-report-{}.md", t.format(&f).unwrap());
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
    }
    let before = state(&victim);
    let r = run(&["report", "--only", "local"], Some(dir.path()), HARD);
    assert_refused_untouched("report (default name)", &r, &[(victim, before)]);
    assert!(r.err().contains("symbolic link"), "{}", r.err());
}

#[test]
fn fetch_ca_never_writes_through_links_fifos_devices_or_existing_files() {
    for kind in ["symlink", "fifo", "device", "existing"] {
        for force in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("cas");
            std::fs::create_dir(&out).unwrap();
            let watched: Vec<_> = plant(&out, "Security_Communication_RootCA1.cer", kind)
                .into_iter()
                .map(|p| {
                    let s = state(&p);
                    (p, s)
                })
                .collect();
            let mut a = vec![
                os("--timeout"),
                os("2s"),
                os("--profile"),
                repo().join("tests/it/support/local_profile.toml").into(),
                os("fetch-ca"),
                os("--out"),
                out.clone().into_os_string(),
            ];
            if force {
                a.push(os("--force"));
            }
            let r = run(&a, Some(dir.path()), HARD);
            let what = format!("fetch-ca {kind} force={force}");
            if kind == "existing" && force {
                // Allowed: the download fails (nothing listens on localhost:9), so the old
                // file stays as it was.
                assert!(!r.killed, "{what}: hung");
                for (p, before) in &watched {
                    assert_eq!(&state(p), before, "{what}: {} changed", p.display());
                }
                continue;
            }
            assert_refused_untouched(&what, &r, &watched);
        }
    }
}

/// Every input flag with /dev/zero, /dev/urandom, a FIFO, a folder and an oversized file: exit
/// 2 with one line, at once, within the address-space bound of [`run`].
#[test]
fn hostile_local_inputs_end_at_once_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("fifo");
    mkfifo(&fifo);
    let big = d.join("big.pem");
    std::fs::write(&big, vec![b'A'; 5 * 1024 * 1024]).unwrap();
    let login_profile = d.join("login.toml");
    let src = std::fs::read_to_string(repo().join("tests/it/support/local_profile.toml")).unwrap();
    std::fs::write(
        &login_profile,
        format!(
            "{src}\n[login]\nurl = \"https://localhost:9/login\"\nuser_field = \"u\"\npassword_field = \"p\"\nsuccess_pattern = \"ok\"\n"
        ),
    )
    .unwrap();
    let cert = pki("client.pem").into_os_string();
    let p12 = pki("client.p12").into_os_string();
    let lp = login_profile.into_os_string();
    for input in [
        PathBuf::from("/dev/zero"),
        PathBuf::from("/dev/urandom"),
        fifo.clone(),
        d.to_path_buf(),
        big.clone(),
    ] {
        let i = input.clone().into_os_string();
        let cases: Vec<(&str, Vec<OsString>)> = vec![
            ("--cert", vec![os("verify"), os("--cert"), i.clone()]),
            (
                "--key",
                vec![
                    os("verify"),
                    os("--cert"),
                    cert.clone(),
                    os("--key"),
                    i.clone(),
                ],
            ),
            (
                "--ca",
                vec![
                    os("verify"),
                    os("--cert"),
                    cert.clone(),
                    os("--ca"),
                    i.clone(),
                ],
            ),
            (
                "--trust",
                vec![
                    os("verify"),
                    os("--cert"),
                    cert.clone(),
                    os("--trust"),
                    i.clone(),
                ],
            ),
            ("--profile", vec![os("--profile"), i.clone(), os("check")]),
            ("profile check", vec![os("profile"), os("check"), i.clone()]),
            ("inspect", vec![os("inspect"), i.clone()]),
            (
                "--password-file",
                vec![
                    os("verify"),
                    os("--cert"),
                    p12.clone(),
                    os("--password-file"),
                    i.clone(),
                ],
            ),
            (
                "--login-password-file",
                vec![
                    os("--profile"),
                    lp.clone(),
                    os("check"),
                    os("--login"),
                    os("--login-user"),
                    os("u1"),
                    os("--login-password-file"),
                    i.clone(),
                ],
            ),
        ];
        for (flag, a) in cases {
            let what = format!("{flag} {}", input.display());
            let r = run(&a, Some(d), HARD);
            assert!(!r.killed, "{what}: hung");
            assert_eq!(r.code, Some(2), "{what}: {}{}", r.out(), r.err());
            assert_eq!(r.err().trim_end().lines().count(), 1, "{what}: {}", r.err());
            eprintln!(
                "[harden] {what:<40} exit 2 in {:>4} ms: {}",
                r.elapsed.as_millis(),
                r.err().trim_end()
            );
        }
    }
    // The FIFO is still a FIFO (nobody wrote into it or replaced it).
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// DER in a few lines, for the bomb.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let b = (n as u32).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        v.push(0x80 | (4 - skip) as u8);
        v.extend_from_slice(&b[skip..]);
    }
    v.extend_from_slice(content);
    v
}

#[test]
fn pkcs12_key_bag_bomb_ends_within_the_timeout() {
    // One shrouded key at 1,000,000 PBKDF2 rounds (paid once here, by openssl), repeated in 60
    // bags of a PKCS#12 without a MAC: reading them all would run 60 key derivations.
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("key.p8.der");
    let out = std::process::Command::new(crate::support::need("openssl", "openssl"))
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-iter",
            "1000000",
            "-outform",
            "DER",
        ])
        .arg("-in")
        .arg(pki("client.key"))
        .arg("-out")
        .arg(&enc)
        .args(["-passout", "pass:secret"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let epki = std::fs::read(&enc).unwrap();
    // SafeBag { pkcs8ShroudedKeyBag, [0] EncryptedPrivateKeyInfo }
    let oid_shrouded = [
        0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
    ];
    let bag = tlv(0x30, &[&oid_shrouded[..], &tlv(0xa0, &epki)].concat());
    let bags: Vec<u8> = std::iter::repeat_n(bag, 60).flatten().collect();
    let safe_contents = tlv(0x30, &bags);
    let oid_data = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let content_info = |inner: &[u8]| {
        tlv(
            0x30,
            &[&oid_data[..], &tlv(0xa0, &tlv(0x04, inner))].concat(),
        )
    };
    let auth_safe = tlv(0x30, &content_info(&safe_contents));
    let pfx = tlv(
        0x30,
        &[&[0x02, 0x01, 0x03][..], &content_info(&auth_safe)].concat(),
    );
    let bomb = dir.path().join("bomb.p12");
    std::fs::write(&bomb, &pfx).unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "secret\n").unwrap();
    for a in [
        vec![
            os("--timeout"),
            os("5s"),
            os("inspect"),
            os("--password-file"),
            pw.clone().into(),
            bomb.clone().into(),
        ],
        vec![
            os("--timeout"),
            os("5s"),
            os("verify"),
            os("--password-file"),
            pw.clone().into(),
            os("--cert"),
            bomb.clone().into(),
        ],
    ] {
        let r = run(&a, None, HARD);
        assert!(!r.killed, "hung");
        assert_eq!(r.code, Some(2), "{}{}", r.out(), r.err());
        assert!(r.err().contains("4000000"), "names the limit: {}", r.err());
        eprintln!(
            "[harden] PKCS#12 bomb: exit 2 in {} ms: {}",
            r.elapsed.as_millis(),
            r.err().trim_end()
        );
    }
}

#[test]
fn regex_bomb_profile_ends_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("tests/it/support/local_profile.toml")).unwrap();
    let mut bomb = src.clone();
    for _ in 0..1000 {
        bomb.push_str(
            "\n[[page]]\npattern = '\\w{200}N'\nsection = \"2-2 other\"\nstatus = \"fail\"\n",
        );
    }
    let p = dir.path().join("bomb.toml");
    std::fs::write(&p, &bomb).unwrap();
    for a in [
        vec![
            os("--timeout"),
            os("5s"),
            os("profile"),
            os("check"),
            p.clone().into(),
        ],
        vec![
            os("--timeout"),
            os("5s"),
            os("--profile"),
            p.clone().into(),
            os("check"),
            os("--only"),
            os("local"),
        ],
    ] {
        let r = run(&a, None, HARD);
        assert!(!r.killed, "hung");
        assert_eq!(r.code, Some(2), "{}{}", r.out(), r.err());
        assert!(r.err().contains("MiB"), "names the limit: {}", r.err());
        eprintln!(
            "[harden] regex bomb ({} bytes): exit 2 in {} ms: {}",
            bomb.len(),
            r.elapsed.as_millis(),
            r.err().lines().next().unwrap_or("")
        );
    }
}

#[test]
fn a_pem_with_too_many_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one = std::fs::read_to_string(pki("client.pem")).unwrap();
    let p = dir.path().join("many.pem");
    std::fs::write(&p, one.repeat(1001)).unwrap();
    let r = run(&[os("inspect"), p.into()], None, HARD);
    assert_eq!(r.code, Some(2), "{}", r.err());
    assert!(r.err().contains("more than 1000 PEM blocks"), "{}", r.err());
}

#[test]
fn proxy_passwords_with_url_special_characters_never_reach_the_report() {
    let specials = ["pa#ss", "pa/ss", "pa?ss", "pa@ss", "pa%23ss", "p:a;s=s&[x]"];
    for (i, pw) in specials.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let marker = format!("Zq{i}{pw}Xv");
        for f in ["markdown", "json"] {
            let r = run(
                &[
                    "--format",
                    f,
                    "--timeout",
                    "2s",
                    "report",
                    "--only",
                    "local",
                    "--proxy",
                    &format!("http://user{i}:{marker}@127.0.0.1:9"),
                    "--out",
                    &format!("r.{f}"),
                ],
                Some(dir.path()),
                HARD,
            );
            assert!(matches!(r.code, Some(0 | 1)), "{}", r.err());
            let body = std::fs::read_to_string(dir.path().join(format!("r.{f}"))).unwrap();
            for part in [marker.as_str(), &marker[..marker.len() / 2], &marker[2..]] {
                assert!(!body.contains(part), "{pw}: `{part}` in the {f} report");
            }
            assert!(body.contains("http://127.0.0.1:9"), "{f}: proxy shown");
            assert!(!r.out().contains(&marker) && !r.err().contains(&marker));
        }
        // The check itself, on screen, through the proxy setting of the flag and of the
        // environment (percent-encoded there).
        for f in ["table", "json", "markdown"] {
            for a in [vec![
                "--format".to_string(),
                f.to_string(),
                "--timeout".into(),
                "2s".into(),
                "check".into(),
                "--only".into(),
                "environment".into(),
                "--proxy".into(),
                format!("http://user{i}:{marker}@127.0.0.1:9"),
                "-vvv".into(),
            ]] {
                let r = run(&a, Some(dir.path()), HARD);
                assert!(!r.killed);
                for part in [marker.as_str(), &marker[..marker.len() / 2], &marker[2..]] {
                    assert!(
                        !r.out().contains(part) && !r.err().contains(part),
                        "{pw}: `{part}` in check {f}: {}{}",
                        r.out(),
                        r.err()
                    );
                }
            }
        }
    }
}

#[test]
fn redact_masks_the_fingerprint_and_the_certificate_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("yamada.taro");
    std::fs::create_dir(&home).unwrap();
    let cert = home.join("taro-cert.pem");
    std::fs::copy(pki("client.pem"), &cert).unwrap();
    let key = home.join("taro-key.pem");
    std::fs::copy(pki("client.key"), &key).unwrap();
    let r = run(
        &[
            os("--format"),
            os("json"),
            os("inspect"),
            cert.clone().into(),
        ],
        None,
        HARD,
    );
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let sha = v["files"][0]["certificates"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sha.len() >= 64, "{sha}");
    for f in ["markdown", "json"] {
        let out = dir.path().join(format!("r.{f}"));
        let r = run(
            &[
                os("--format"),
                os(f),
                os("report"),
                os("--only"),
                os("local"),
                os("--redact"),
                os("--cert"),
                cert.clone().into(),
                os("--key"),
                key.clone().into(),
                os("--out"),
                out.clone().into(),
            ],
            None,
            HARD,
        );
        assert!(matches!(r.code, Some(0 | 1)), "{}", r.err());
        let body = std::fs::read_to_string(&out).unwrap();
        let bare = sha.replace(':', "");
        for gone in [
            sha.as_str(),
            &sha.to_ascii_lowercase(),
            &bare,
            &bare.to_ascii_lowercase(),
            "yamada.taro",
            "taro-cert.pem",
            "taro-key.pem",
        ] {
            assert!(
                !body.contains(gone),
                "{f}: `{gone}` left in the redacted report"
            );
        }
        assert!(body.contains("[redacted]"));
    }
}

#[test]
fn der_keys_old_encrypted_keys_and_huge_san_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = crate::support::need("openssl", "openssl");
    let sh = |args: &[&str]| {
        let o = std::process::Command::new(&openssl)
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    // A DER private key: read, and it matches its certificate.
    let key = pki("client.key");
    sh(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-outform",
        "DER",
        "-in",
        key.to_str().unwrap(),
        "-out",
        "key.der",
    ]);
    let r = run(
        &[
            os("--format"),
            os("json"),
            os("check"),
            os("--only"),
            os("local"),
            os("--cert"),
            pki("client.pem").into(),
            os("--key"),
            d.join("key.der").into(),
        ],
        None,
        HARD,
    );
    let v: serde_json::Value =
        serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.err()));
    let fm = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert.key_match")
        .unwrap();
    assert_eq!(fm["status"], "pass", "{fm}");
    let r = run(&[os("inspect"), d.join("key.der").into()], None, HARD);
    assert_eq!(r.code, Some(0), "{}", r.err());
    assert!(r.out().contains("PKCS#8 (DER)"), "{}", r.out());

    // The old OpenSSL encrypted PEM key: the conversion hint.
    sh(&[
        "rsa",
        "-in",
        pki("client-rsa.key").to_str().unwrap(),
        "-aes128",
        "-traditional",
        "-passout",
        "pass:x",
        "-out",
        "old.key",
    ]);
    let r = run(
        &[
            os("verify"),
            os("--cert"),
            pki("client-rsa.pem").into(),
            os("--key"),
            d.join("old.key").into(),
        ],
        None,
        HARD,
    );
    assert_eq!(r.code, Some(2), "{}", r.err());
    assert!(
        r.err().contains("Proc-Type: 4,ENCRYPTED") && r.err().contains("openssl pkcs8 -topk8"),
        "{}",
        r.err()
    );

    // A certificate with 10,000 SANs: its key still matches.
    let mut cnf = String::from("[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=S47many\n[ext]\nsubjectAltName=@alt\n[alt]\n");
    for i in 0..10_000 {
        cnf.push_str(&format!("DNS.{i}=h{i}.example.com\n"));
    }
    std::fs::write(d.join("san.cnf"), cnf).unwrap();
    sh(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "san.key",
        "-out",
        "san.pem",
        "-days",
        "30",
        "-config",
        "san.cnf",
        "-extensions",
        "ext",
    ]);
    let r = run(
        &[
            os("--format"),
            os("json"),
            os("check"),
            os("--only"),
            os("local"),
            os("--cert"),
            d.join("san.pem").into(),
            os("--key"),
            d.join("san.key").into(),
        ],
        None,
        HARD,
    );
    let v: serde_json::Value =
        serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.err()));
    let fm = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert.key_match")
        .unwrap();
    assert_eq!(fm["status"], "pass", "{fm}");
}

/// A server whose certificate subject, headers and page carry escapes: `check` and `tls` in
/// every format, and the support report, show them escaped.
#[test]
fn escapes_from_a_server_reach_no_output() {
    use crate::support::hostile::{Behavior, HostileServer, Http, TestCa};
    let ca = TestCa::new(&format!("CA{EVIL}"));
    let mut cert = ca.server(
        &["127.0.0.1", "localhost"],
        &[(DnType::CommonName, format!("srv{EVIL}"))],
        0,
    );
    cert.request_client_cert = true;
    let body = format!("<title>t{EVIL}</title><p>エラーコード：46 {EVIL}</p>");
    let server = HostileServer::start(
        "127.0.0.1",
        Behavior::Tls {
            cert: std::sync::Arc::new(cert),
            http: Http::Page {
                status: 200,
                // C1, bidi and zero-width characters are legal header bytes (obs-text); an
                // ESC would make the answer invalid HTTP (tests/it/hostile.rs covers that).
                headers: vec![
                    "Server: nginx\u{9b}2J\u{85}\u{202e}\u{200b}"
                        .as_bytes()
                        .to_vec(),
                    "X-Note: \u{9b}31m\u{202e}txt.exe".as_bytes().to_vec(),
                ],
                body: body.into_bytes(),
            },
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = format!("https://{}/", server.addr);
    std::fs::write(
        d.join("p.toml"),
        format!(
            r#"name = "hostile"
title = "t"

[client_cert]
subject_pattern = "S47*"
issuers = ["SECOM Passport for Member PUB CA1"]
roots = ["Security Communication RootCA1"]

[certificate_hosts]
allow = ["127.0.0.1"]

[[endpoint]]
id = "login"
title = {{ en = "Log-in site", ja = "ログインサイト" }}
url = "{url}"
client_cert = true
section = "2-1"

[[page]]
pattern = "エラーコード\\s*[:：]?\\s*46"
section = "2-2 46"
"#
        ),
    )
    .unwrap();
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let common = |a: &mut Vec<OsString>| {
        a.extend(
            [
                "--profile",
                "p.toml",
                "--no-proxy",
                "--no-system-trust",
                "--trust",
                "ca.pem",
                "--timeout",
                "3s",
            ]
            .map(os),
        );
        a.extend([os("--cert"), pki("client-chain.pem").into()]);
        a.extend([os("--key"), pki("client.key").into()]);
    };
    let mut seen_escaped = 0;
    let formats = ["table", "json", "markdown", "junit", "prometheus", "nagios"];
    for f in formats {
        let mut a = vec![
            os("--format"),
            os(f),
            os("check"),
            os("--only"),
            os("network"),
        ];
        common(&mut a);
        let r = run(&a, Some(d), HARD);
        assert_clean(&format!("check {f}"), &r);
        assert!(matches!(r.code, Some(0..=2)), "check {f}: {}", r.err());
        if r.out().contains("\\u{1b}") || r.out().contains("\\u001b") {
            seen_escaped += 1;
        }
    }
    for f in ["table", "json"] {
        let mut a = vec![
            os("--format"),
            os(f),
            os("tls"),
            os(server.addr.to_string()),
        ];
        a.extend(
            [
                "--no-proxy",
                "--no-system-trust",
                "--trust",
                "ca.pem",
                "--timeout",
                "3s",
            ]
            .map(os),
        );
        let r = run(&a, Some(d), HARD);
        assert_clean(&format!("tls {f}"), &r);
    }
    for (f, ext) in [("markdown", "md"), ("json", "json")] {
        let mut a = vec![
            os("--format"),
            os(f),
            os("report"),
            os("--out"),
            os(format!("r.{ext}")),
        ];
        common(&mut a);
        let r = run(&a, Some(d), HARD);
        assert_clean(&format!("report {f}"), &r);
        let file = std::fs::read(d.join(format!("r.{ext}")))
            .unwrap_or_else(|e| panic!("report {f}: {e}: {}", r.err()));
        if let Some(bad) = raw_controls(&file) {
            panic!("report {f}: raw character in the file: {bad}");
        }
    }
    // The server's text did arrive (and was shown escaped) in most formats.
    assert!(seen_escaped >= 3, "escapes seen in {seen_escaped} formats");
    assert!(
        server.stats.get(&server.stats.requests) > 0,
        "the server was asked"
    );
}

/// An encrypted PKCS#8 key whose PBKDF2 round count or scrypt memory was raised (in place, so
/// only the number changes): refused before any derivation runs.
#[test]
fn encrypted_key_bombs_are_refused_before_deriving() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = crate::support::need("openssl", "openssl");
    let make = |extra: &[&str], out: &str| {
        let o = std::process::Command::new(&openssl)
            .args(["pkcs8", "-topk8", "-outform", "DER", "-passout", "pass:pw"])
            .args(extra)
            .arg("-in")
            .arg(pki("client.key"))
            .arg("-out")
            .arg(d.join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(d.join(out)).unwrap()
    };
    let patch = |der: &mut Vec<u8>, from: &[u8], to: &[u8]| {
        let at = der
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{from:02x?} not in the key"));
        der[at..at + to.len()].copy_from_slice(to);
    };
    // PBKDF2 at 65536 rounds (02 03 01 00 00) → 8,388,607 (02 03 7f ff ff).
    let mut pbkdf2 = make(&["-v2", "aes-256-cbc", "-iter", "65536"], "a.der");
    patch(
        &mut pbkdf2,
        &[0x02, 0x03, 0x01, 0x00, 0x00],
        &[0x02, 0x03, 0x7f, 0xff, 0xff],
    );
    // scrypt N = 16384, r = 8 (02 02 40 00 02 01 08) → r = 127: 254 MiB.
    let mut scrypt = make(
        &["-scrypt", "-scrypt_N", "16384", "-scrypt_r", "8"],
        "b.der",
    );
    patch(
        &mut scrypt,
        &[0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x08],
        &[0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x7f],
    );
    let pw = d.join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    for (name, der, expect) in [("pbkdf2", pbkdf2, "8388607"), ("scrypt", scrypt, "254 MiB")] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let pem_path = d.join(format!("{name}.pem"));
        std::fs::write(&pem_path, pem).unwrap();
        let der_path = d.join(format!("{name}.key.der"));
        std::fs::write(&der_path, &der).unwrap();
        for key in [pem_path, der_path] {
            let r = run(
                &[
                    os("--timeout"),
                    os("5s"),
                    os("verify"),
                    os("--cert"),
                    pki("client.pem").into(),
                    os("--key"),
                    key.clone().into(),
                    os("--password-file"),
                    pw.clone().into(),
                ],
                None,
                HARD,
            );
            assert!(!r.killed, "{name}: hung");
            assert_eq!(r.code, Some(2), "{name}: {}{}", r.out(), r.err());
            assert!(r.err().contains(expect), "{name}: {}", r.err());
            eprintln!(
                "[harden] {} key bomb: exit 2 in {} ms: {}",
                name,
                r.elapsed.as_millis(),
                r.err().trim_end()
            );
        }
    }
}

/// Key bags hidden inside an encrypted safe cannot be counted before the password opens it:
/// 40 shrouded keys at 1,000,000 rounds each there. The run still ends at `--timeout` plus the
/// start-up allowance, by the watchdog, with exit 2 and one line.
#[test]
fn key_bags_inside_an_encrypted_safe_are_bounded_by_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = crate::support::need("openssl", "openssl");
    let ossl = |args: &[&str]| {
        let o = std::process::Command::new(&openssl)
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let key = pki("client.key");
    ossl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-iter",
        "1000000",
        "-outform",
        "DER",
        "-passout",
        "pass:pw",
        "-in",
        key.to_str().unwrap(),
        "-out",
        "k.der",
    ]);
    let epki = std::fs::read(d.join("k.der")).unwrap();
    let oid = |body: &[u8]| tlv(0x06, body);
    let shrouded = oid(&[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
    ]);
    let bag = tlv(0x30, &[shrouded, tlv(0xa0, &epki)].concat());
    let inner = tlv(
        0x30,
        &std::iter::repeat_n(bag, 40).flatten().collect::<Vec<u8>>(),
    );
    std::fs::write(d.join("inner.der"), &inner).unwrap();
    // PBES2 (PBKDF2-HMAC-SHA256, 1 round; AES-256-CBC) with the password "pw".
    let salt = "0102030405060708";
    let iv = "000102030405060708090a0b0c0d0e0f";
    let k = ossl(&[
        "kdf",
        "-keylen",
        "32",
        "-kdfopt",
        "digest:SHA256",
        "-kdfopt",
        "pass:pw",
        "-kdfopt",
        &format!("hexsalt:{salt}"),
        "-kdfopt",
        "iter:1",
        "PBKDF2",
    ])
    .trim()
    .replace(':', "");
    ossl(&[
        "enc",
        "-aes-256-cbc",
        "-K",
        &k,
        "-iv",
        iv,
        "-in",
        "inner.der",
        "-out",
        "inner.enc",
    ]);
    let enc = std::fs::read(d.join("inner.enc")).unwrap();
    let hex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    let pkcs = |last: &[u8]| oid(&[&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d][..], last].concat());
    let prf = tlv(0x30, &[pkcs(&[0x02, 0x09]), vec![0x05, 0x00]].concat());
    let kdf_params = tlv(
        0x30,
        &[tlv(0x04, &hex(salt)), vec![0x02, 0x01, 0x01], prf].concat(),
    );
    let kdf = tlv(0x30, &[pkcs(&[0x01, 0x05, 0x0c]), kdf_params].concat());
    let aes = tlv(
        0x30,
        &[
            oid(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a]),
            tlv(0x04, &hex(iv)),
        ]
        .concat(),
    );
    let alg = tlv(
        0x30,
        &[pkcs(&[0x01, 0x05, 0x0d]), tlv(0x30, &[kdf, aes].concat())].concat(),
    );
    let data_oid = pkcs(&[0x01, 0x07, 0x01]);
    let enc_content = tlv(0x30, &[data_oid.clone(), alg, tlv(0x80, &enc)].concat());
    let enc_data = tlv(0x30, &[vec![0x02, 0x01, 0x00], enc_content].concat());
    let ci_enc = tlv(
        0x30,
        &[pkcs(&[0x01, 0x07, 0x06]), tlv(0xa0, &enc_data)].concat(),
    );
    let auth_safe = tlv(0x30, &ci_enc);
    let ci_data = tlv(
        0x30,
        &[data_oid, tlv(0xa0, &tlv(0x04, &auth_safe))].concat(),
    );
    let pfx = tlv(0x30, &[vec![0x02, 0x01, 0x03], ci_data].concat());
    let bomb = d.join("hidden.p12");
    std::fs::write(&bomb, &pfx).unwrap();
    let pw = d.join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let r = run(
        &[
            os("--timeout"),
            os("2s"),
            os("inspect"),
            os("--password-file"),
            pw.into(),
            bomb.into(),
        ],
        None,
        HARD,
    );
    assert!(!r.killed, "hung");
    assert_eq!(r.code, Some(2), "{}{}", r.out(), r.err());
    assert_eq!(r.err().trim_end().lines().count(), 1, "{}", r.err());
    assert!(r.err().contains("gave up"), "{}", r.err());
    eprintln!(
        "[harden] hidden key bags (--timeout 2s): exit 2 in {} ms: {}",
        r.elapsed.as_millis(),
        r.err().trim_end()
    );
}

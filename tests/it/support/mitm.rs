//! mitmproxy (PyPI `mitmproxy`) in regular mode: a real TLS-intercepting proxy on 127.0.0.1
//! (or, with [`Mitm::passthrough`], a proxy that relays TLS untouched).
//!
//! `mitmdump` is looked up in `$CERTPROBE_MITMDUMP`, then `/tmp/certprobe-mitm/bin/mitmdump`
//! (a venv: `python3 -m venv /tmp/certprobe-mitm && /tmp/certprobe-mitm/bin/pip install
//! mitmproxy`), then `PATH`. When none is there the test fails and says how to install it.

use super::{free_port, read_log, wait_tcp, ChildGuard};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Mitm {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: ChildGuard,
}

fn mitmdump() -> PathBuf {
    if let Some(p) = std::env::var_os("CERTPROBE_MITMDUMP") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        panic!("CERTPROBE_MITMDUMP={} is not a file", p.display());
    }
    let venv = Path::new("/tmp/certprobe-mitm/bin/mitmdump");
    if venv.is_file() {
        return venv.to_path_buf();
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("mitmdump");
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "this test needs `mitmdump` (PyPI `mitmproxy`): python3 -m venv /tmp/certprobe-mitm && \
         /tmp/certprobe-mitm/bin/pip install mitmproxy  (or set CERTPROBE_MITMDUMP)"
    );
}

impl Mitm {
    /// Intercepting proxy that trusts `upstream_ca` for the servers behind it.
    pub fn start(upstream_ca: &Path) -> Mitm {
        Mitm::start_with(upstream_ca, None)
    }

    /// The same, minting its certificates from `ca` (key and certificate in one PEM file),
    /// as a corporate inspection proxy does with its own CA.
    pub fn start_with_ca(upstream_ca: &Path, ca: &Path) -> Mitm {
        Mitm::start_with(upstream_ca, Some(ca))
    }

    fn start_with(upstream_ca: &Path, ca: Option<&Path>) -> Mitm {
        let trust = format!("ssl_verify_upstream_trusted_ca={}", upstream_ca.display());
        Mitm::spawn(ca, &["--set", &trust], &[])
    }

    /// A proxy that relays TLS untouched (`--ignore-hosts .*`: no interception, the client
    /// certificate reaches the server) with the addon `script` loaded and `env` set for it.
    pub fn passthrough(script: &Path, env: &[(&str, String)]) -> Mitm {
        let script = script.display().to_string();
        Mitm::spawn(None, &["--ignore-hosts", ".*", "-s", &script], env)
    }

    /// An intercepting proxy (its own CA, "mitmproxy") that trusts `upstream_ca`, with the addon
    /// `script` loaded and `env` set for it.
    pub fn intercepting(upstream_ca: &Path, script: &Path, env: &[(&str, String)]) -> Mitm {
        let trust = format!("ssl_verify_upstream_trusted_ca={}", upstream_ca.display());
        let script = script.display().to_string();
        Mitm::spawn(None, &["--set", &trust, "-s", &script], env)
    }

    fn spawn(ca: Option<&Path>, extra: &[&str], env: &[(&str, String)]) -> Mitm {
        let bin = mitmdump();
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            if let Some(ca) = ca {
                std::fs::copy(ca, dir.path().join("mitmproxy-ca.pem")).expect("copy the CA");
            }
            let port = free_port();
            let log = dir.path().join("mitm.log");
            let out = std::fs::File::create(&log).unwrap();
            let child = Command::new(&bin)
                .args(["--listen-host", "127.0.0.1", "--listen-port"])
                .arg(port.to_string())
                .arg("--set")
                .arg(format!("confdir={}", dir.path().display()))
                .args(extra)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("start mitmdump");
            let mut child = ChildGuard(child);
            if wait_tcp(port, Duration::from_secs(30)) && child.exited().is_none() {
                return Mitm { port, dir, child };
            }
            last = read_log(&log);
        }
        panic!("mitmdump did not start:\n{last}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

//! A small harness for end-to-end tests: real servers on 127.0.0.1, each on a free port, each
//! stopped (killed and reaped) when its guard is dropped. A server binary that is missing makes
//! the test fail with a message naming the Debian package — never a silent skip.
#![allow(dead_code)]

pub mod dnsmasq;
pub mod hostile;
pub mod measure;
pub mod mitm;
pub mod nginx;
pub mod openssl;
pub mod scenario;
pub mod tinyproxy;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the test PKI (fixtures/pki).
pub fn pki(name: &str) -> PathBuf {
    repo().join("fixtures/pki").join(name)
}

/// The path of a server binary, or a failing test that says which package to install.
pub fn need(bin: &str, package: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p;
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(bin);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("this test needs `{bin}` (Debian package `{package}`), which is not installed");
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A port free for both UDP and TCP on 127.0.0.1 (for DNS servers).
pub fn free_udp_tcp_port() -> u16 {
    for _ in 0..50 {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = u.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1");
}

/// Wait until something accepts TCP connections on 127.0.0.1:port.
pub fn wait_tcp(port: u16, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A child process killed and reaped on drop.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
    /// Has it exited already? (Then its output says why.)
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A listener that accepts connections and never sends a byte (a hung server). The accepted
/// sockets are held until the guard is dropped.
pub struct SilentServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What a [`SilentServer`] saw, in order: a connection accepted, or one the client closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnEvent {
    Accepted,
    Closed,
}

/// A log that several silent servers share, so a test can see the order of events across them.
pub type ConnLog = std::sync::Arc<std::sync::Mutex<Vec<ConnEvent>>>;

impl SilentServer {
    /// Accepts connections and never answers; holds them until the client gives up.
    pub fn start() -> SilentServer {
        Self::start_logged(ConnLog::default())
    }

    /// As [`SilentServer::start`], recording every accept and every close by the client in `log`.
    pub fn start_logged(log: ConnLog) -> SilentServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            let mut buf = [0u8; 4096];
            while !s2.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((s, _)) = l.accept() {
                    let _ = s.set_nonblocking(true);
                    log.lock().unwrap().push(ConnEvent::Accepted);
                    held.push(s);
                    continue;
                }
                // A read of 0 bytes: the client closed (what it sent is read and dropped).
                held.retain_mut(|s| match s.read(&mut buf) {
                    Ok(0) => {
                        log.lock().unwrap().push(ConnEvent::Closed);
                        false
                    }
                    Ok(_) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                    Err(_) => {
                        log.lock().unwrap().push(ConnEvent::Closed);
                        false
                    }
                });
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Read a file a server wrote (its log), for failure messages.
pub fn read_log(p: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(p) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

/// Fill `@NAME@` placeholders.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("@{k}@"), v);
    }
    out
}

/// The certprobe binary in a clean environment: no settings from the developer's shell (profile,
/// identity, proxies, language), English, no colour, and a generous ceiling so a hang fails the
/// test instead of stalling the run.
pub fn certprobe() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("certprobe").expect("the certprobe binary is built");
    for var in [
        "CERTPROBE_PROFILE",
        "CERTPROBE_CERT",
        "CERTPROBE_KEY",
        "CERTPROBE_TOKEN",
        "CERTPROBE_SIGNUP_CODE",
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
    c.env("LANG", "C")
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120));
    c
}

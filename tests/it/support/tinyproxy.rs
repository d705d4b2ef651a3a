//! tinyproxy (Debian `tinyproxy`) as a plain HTTP CONNECT proxy on 127.0.0.1, optionally
//! with Basic authentication.

use super::{free_port, need, read_log, wait_tcp, ChildGuard};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Tinyproxy {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: ChildGuard,
}

impl Tinyproxy {
    /// `auth`: `Some((user, password))` for `BasicAuth`.
    pub fn start(auth: Option<(&str, &str)>) -> Tinyproxy {
        Tinyproxy::start_with(auth, "")
    }

    /// With extra configuration lines (e.g. `ConnectPort 443` to refuse other ports).
    pub fn start_with(auth: Option<(&str, &str)>, extra: &str) -> Tinyproxy {
        let bin = need("tinyproxy", "tinyproxy");
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let log = dir.path().join("tinyproxy.log");
            let mut conf = format!(
                "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\nMaxClients 50\n\
                 LogLevel Info\nLogFile \"{}\"\n",
                log.display()
            );
            conf.push_str(extra);
            if let Some((u, p)) = auth {
                conf.push_str(&format!("BasicAuth {u} {p}\n"));
            }
            let conf_path = dir.path().join("tinyproxy.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let child = Command::new(&bin)
                .arg("-d")
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start tinyproxy");
            let mut child = ChildGuard(child);
            if wait_tcp(port, Duration::from_secs(5)) && child.exited().is_none() {
                return Tinyproxy { port, dir, child };
            }
            last = read_log(&log);
        }
        panic!("tinyproxy did not start:\n{last}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        read_log(&self.dir.path().join("tinyproxy.log"))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

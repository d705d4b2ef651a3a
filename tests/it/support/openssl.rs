//! `openssl s_server` (Debian `openssl`) as a second, independent TLS implementation.

use super::{need, ChildGuard};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct SServer {
    pub port: u16,
    child: ChildGuard,
}

impl SServer {
    /// `openssl s_server -accept 127.0.0.1:0 ARGS…`; the port is read from its `ACCEPT` line.
    pub fn start(args: &[&str]) -> SServer {
        let bin = need("openssl", "openssl");
        let mut child = Command::new(bin)
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start openssl s_server");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(addr) = line.strip_prefix("ACCEPT ") {
                        let port = addr
                            .rsplit(':')
                            .next()
                            .and_then(|p| p.trim().parse::<u16>().ok());
                        let _ = tx.send(port);
                        sent = true;
                    }
                }
            }
        });
        let (etx, erx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = etx.send(all.clone());
            }
        });
        let guard = ChildGuard(child);
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(port)) => SServer { port, child: guard },
            _ => {
                let err = erx.try_iter().last().unwrap_or_default();
                panic!("openssl s_server did not start ({args:?}):\n{err}");
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

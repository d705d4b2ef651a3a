//! dnsmasq (Debian `dnsmasq-base`) as a DNS server on 127.0.0.1 for `--resolver`.

use super::{free_udp_tcp_port, need, wait_tcp, ChildGuard};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Dnsmasq {
    pub port: u16,
    child: ChildGuard,
}

impl Dnsmasq {
    /// A DNS server with no upstream and no system files; `records` are dnsmasq options such as
    /// `--host-record=login.test,127.0.0.1` or `--address=/#/` (everything else NXDOMAIN).
    pub fn start(records: &[&str]) -> Dnsmasq {
        let bin = need("dnsmasq", "dnsmasq-base");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_udp_tcp_port();
            let out = tempfile::NamedTempFile::new().unwrap();
            let mut child = Command::new(&bin)
                .args([
                    "-d",
                    "-C",
                    "/dev/null",
                    "--no-resolv",
                    "--no-hosts",
                    "--no-poll",
                    "--bind-interfaces",
                    "--listen-address=127.0.0.1",
                    "--pid-file",
                    "--user=root",
                ])
                .arg(format!("--port={port}"))
                .args(records)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(out.reopen().unwrap())
                .spawn()
                .expect("start dnsmasq");
            if wait_tcp(port, Duration::from_secs(5)) && child.try_wait().ok().flatten().is_none() {
                return Dnsmasq {
                    port,
                    child: ChildGuard(child),
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last = super::read_log(out.path());
        }
        panic!("dnsmasq did not start:\n{last}");
    }

    /// `127.0.0.1:PORT`, for `--resolver`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

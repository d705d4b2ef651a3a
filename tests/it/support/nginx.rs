//! nginx (Debian `nginx-light`) with the test PKI: a client-certificate site, an open site and
//! a site with an untrusted server certificate, on three free ports of 127.0.0.1.

use super::{fill, need, read_log, repo, wait_tcp, ChildGuard};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    /// `ssl_verify_client on`, acceptable CA: the fixture root.
    pub verify_port: u16,
    /// No client authentication.
    pub open_port: u16,
    /// Server certificate from a CA nobody trusts.
    pub unknown_port: u16,
    pub dir: tempfile::TempDir,
    child: ChildGuard,
}

impl Nginx {
    pub fn start() -> Nginx {
        let bin = need("nginx", "nginx-light");
        let mut last = String::new();
        // A port taken between choosing and binding makes nginx exit: try again with others.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let (v, o, u) = (super::free_port(), super::free_port(), super::free_port());
            let template = std::fs::read_to_string(repo().join("fixtures/nginx/nginx.conf.in"))
                .expect("fixtures/nginx/nginx.conf.in");
            let conf = fill(
                &template,
                &[
                    ("DIR", dir.path().display().to_string()),
                    ("PKI", repo().join("fixtures/pki").display().to_string()),
                    (
                        "PAGES",
                        repo().join("fixtures/nginx/pages").display().to_string(),
                    ),
                    ("PORT_VERIFY", v.to_string()),
                    ("PORT_OPEN", o.to_string()),
                    ("PORT_UNKNOWN", u.to_string()),
                ],
            );
            let conf_path = dir.path().join("nginx.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let log = dir.path().join("error.log");
            let child = Command::new(&bin)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&conf_path)
                .arg("-e")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start nginx");
            let mut child = ChildGuard(child);
            let ready = [v, o, u]
                .iter()
                .all(|p| wait_tcp(*p, Duration::from_secs(5)));
            if ready && child.exited().is_none() {
                return Nginx {
                    verify_port: v,
                    open_port: o,
                    unknown_port: u,
                    dir,
                    child,
                };
            }
            last = read_log(&log);
        }
        panic!("nginx did not start:\n{last}");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn access_log(&self) -> String {
        read_log(&self.dir.path().join("access.log"))
    }
}

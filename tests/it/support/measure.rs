//! Running the binary under a hang guard and a memory bound while measuring it, and a check
//! for raw control characters in what it wrote.
//!
//! Memory is bounded, not sampled: the child runs with an address-space limit
//! ([`ADDRESS_SPACE_LIMIT`]), so a run that tried to read /dev/zero into memory or to build a
//! 12 GB regular expression dies of a failed allocation (no exit code) instead of passing.
//! `wait4`'s peak RSS is kept for the log only: it also counts the pages the child shared with
//! this (large, multi-threaded) test process before `exec`.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

/// One finished (or killed) run of the binary.
pub struct Measured {
    /// `None` when it was killed by the hang guard (or by a signal).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    pub max_rss_kib: i64,
    pub killed: bool,
}

impl Measured {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The address space one run may use (a check against a live server needs under 300 MiB of it,
/// most of it thread stacks and allocator arenas reserved, not used).
pub const ADDRESS_SPACE_LIMIT: u64 = 512 * 1024 * 1024;

/// Run certprobe with `args` in `cwd` in a clean environment (as [`super::certprobe`]) under
/// [`ADDRESS_SPACE_LIMIT`]; kill it after `hard` (a hang guard, not a timing assertion).
/// Reaped by `wait4`.
#[allow(clippy::zombie_processes)]
pub fn run<S: AsRef<OsStr>>(args: &[S], cwd: Option<&Path>, hard: Duration) -> Measured {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certprobe"));
    cmd.args(args);
    for var in [
        "CERTPROBE_PROFILE",
        "CERTPROBE_CERT",
        "CERTPROBE_KEY",
        "CERTPROBE_TOKEN",
        "CERTPROBE_SIGNUP_CODE",
        "CERTPROBE_LOGIN_USER",
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
        cmd.env_remove(var);
    }
    cmd.env("LANG", "C").env("NO_COLOR", "1");
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: ADDRESS_SPACE_LIMIT as libc::rlim_t,
                    rlim_max: ADDRESS_SPACE_LIMIT as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start certprobe");
    let start = Instant::now();
    let pid = child.id() as libc::pid_t;
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > hard && !killed {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
        elapsed,
        max_rss_kib: ru.ru_maxrss,
        killed,
    }
}

/// Any raw control character (C0 but newline, DEL, C1), a bidirectional or zero-width
/// formatting character, or bytes that are not UTF-8 — with where it stands.
pub fn raw_controls(bytes: &[u8]) -> Option<String> {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => return Some(format!("not UTF-8: {e}")),
    };
    for (i, c) in s.char_indices() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        if bad {
            let from = s[..i]
                .char_indices()
                .rev()
                .nth(40)
                .map(|(j, _)| j)
                .unwrap_or(0);
            let ctx: String = s[from..].chars().take(80).collect();
            return Some(format!("U+{:04X} at byte {i}: {ctx:?}", c as u32));
        }
    }
    None
}

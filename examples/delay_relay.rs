//! A TCP relay on 127.0.0.1 that adds a round-trip time, for the benchmark (`scripts/bench.sh`).
//!
//! This kernel has no `netem`, so the delay is added in user space: every chunk of bytes is held
//! for RTT/2 in each direction, in order, and end-of-stream (FIN) is delayed the same way.
//!
//! A relay cannot delay the TCP handshake itself (the kernel completes `connect()` before the
//! relay even accepts). It stands in for it instead: the client's first bytes are released no
//! earlier than one RTT after the connection was accepted, plus the one-way delay — exactly when
//! they would reach the server if `connect()` had cost one RTT. For protocols where the client
//! speaks first (TLS, HTTP, a CONNECT proxy) the wall time then matches a real link with that
//! RTT; only the client's own split between "connect" and "first reply" differs.
//!
//! Usage: `delay_relay --rtt-ms N UPSTREAM...` (UPSTREAM = HOST:PORT). For each upstream it
//! listens on an ephemeral port and prints `RELAY 127.0.0.1:PORT UPSTREAM`, then `READY`.
//! It runs until its standard input closes or it is killed.
//!
//! Standard library only (a thread per direction and connection), so the benchmark can build it
//! in seconds with `rustc -O examples/delay_relay.rs`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!("usage: delay_relay --rtt-ms N UPSTREAM(HOST:PORT)...");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut rtt_ms: Option<u64> = None;
    let mut upstreams: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rtt-ms" => rtt_ms = args.next().and_then(|v| v.parse().ok()),
            "-h" | "--help" => usage(),
            _ => upstreams.push(a),
        }
    }
    let Some(rtt_ms) = rtt_ms else { usage() };
    if upstreams.is_empty() {
        usage()
    }
    let rtt = Duration::from_millis(rtt_ms);

    let mut lines = String::new();
    for up in upstreams {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => {
                eprintln!("delay_relay: cannot listen: {e}");
                std::process::exit(1);
            }
        };
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        lines.push_str(&format!("RELAY {local} {up}\n"));
        thread::spawn(move || accept_loop(listener, up, rtt));
    }
    lines.push_str("READY\n");
    let mut out = std::io::stdout();
    let _ = out.write_all(lines.as_bytes());
    let _ = out.flush();

    // Stop when standard input closes (the benchmark holds it open while it needs the relay).
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
}

fn accept_loop(listener: TcpListener, upstream: String, rtt: Duration) {
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let accepted = Instant::now();
        let upstream = upstream.clone();
        thread::spawn(move || {
            // Dropping the client when the upstream refuses closes it, as a refused connection would.
            if let Ok(server) = TcpStream::connect(&upstream) {
                relay(client, server, accepted, rtt);
            }
        });
    }
}

fn relay(client: TcpStream, server: TcpStream, accepted: Instant, rtt: Duration) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let one_way = rtt / 2;
    // The client's first bytes could not have left before a real handshake's RTT had passed.
    let up = thread::spawn(move || pump(client, server2, one_way, Some(accepted + rtt)));
    pump(server, client2, one_way, None);
    let _ = up.join();
}

/// Copy `from` → `to`, each chunk held until `max(read time, not_before) + delay`.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration, not_before: Option<Instant>) {
    let (tx, rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>();
    let writer = thread::spawn(move || {
        while let Ok((at, data)) = rx.recv() {
            let now = Instant::now();
            if at > now {
                thread::sleep(at - now);
            }
            match data {
                Some(d) => {
                    if to.write_all(&d).is_err() {
                        break;
                    }
                }
                None => {
                    let _ = to.shutdown(Shutdown::Write);
                    break;
                }
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let now = Instant::now();
        let sent = match not_before {
            Some(t) if t > now => t,
            _ => now,
        };
        let data = (n > 0).then(|| buf[..n].to_vec());
        let end = data.is_none();
        if tx.send((sent + delay, data)).is_err() || end {
            break;
        }
    }
    let _ = writer.join();
}

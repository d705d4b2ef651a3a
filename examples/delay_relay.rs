//! A TCP relay on 127.0.0.1 that adds a round-trip time, for the benchmark (`scripts/bench.sh`).
//!
//! This kernel has no `netem`, so the delay is added in user space: every chunk of bytes is held
//! for RTT/2 in each direction, in order, and end-of-stream (FIN) is delayed the same way.
//!
//! A relay cannot delay the TCP handshake itself (the kernel completes `connect()` before the
//! relay even accepts). It emulates it instead: the client's first bytes are released no earlier
//! than one RTT after the connection was accepted, plus the one-way delay — exactly when they
//! would reach the server if `connect()` had cost one RTT. For protocols where the client speaks
//! first (TLS, HTTP, a CONNECT proxy) the wall time then matches a real link of that RTT; only
//! the client's own split between "connect" and "first reply" differs.
//!
//! Usage: `delay_relay --rtt-ms N UPSTREAM...` (UPSTREAM = HOST:PORT). For each upstream it
//! listens on an ephemeral port and prints `RELAY 127.0.0.1:PORT UPSTREAM`, then `READY`.
//! It runs until standard input closes or it is killed.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One chunk in flight: when it may be written, and the bytes (`None`: end of stream).
type Item = (Instant, Option<Vec<u8>>);

fn usage() -> ! {
    eprintln!("usage: delay_relay --rtt-ms N UPSTREAM(HOST:PORT)...");
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
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
    let (Some(rtt_ms), false) = (rtt_ms, upstreams.is_empty()) else {
        usage()
    };
    let rtt = Duration::from_millis(rtt_ms);

    let mut lines = String::new();
    for up in upstreams {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("delay_relay: cannot listen: {e}");
                std::process::exit(1);
            }
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        lines.push_str(&format!("RELAY {local} {up}\n"));
        tokio::spawn(accept_loop(listener, up, rtt));
    }
    print!("{lines}READY\n");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    // Stop when standard input closes (the benchmark holds it open while it needs the relay).
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

async fn accept_loop(listener: TcpListener, upstream: String, rtt: Duration) {
    loop {
        let Ok((client, _peer)) = listener.accept().await else {
            continue;
        };
        let accepted = Instant::now();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return; // dropping the client closes it, as a refused connection would
            };
            relay(client, server, accepted, rtt).await;
        });
    }
}

async fn relay(client: TcpStream, server: TcpStream, accepted: Instant, rtt: Duration) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let one_way = rtt / 2;
    // The client's first bytes could not have left before a real handshake's RTT had passed.
    let earliest_client_send = accepted + rtt;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, one_way, Some(earliest_client_send));
    let down = pump(sr, cw, one_way, None);
    tokio::join!(up, down);
}

/// Copy `from` → `to`, each chunk held until `max(read time, not_before) + delay`.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    not_before: Option<Instant>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Item>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
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
    };
    let writer = async move {
        while let Some((at, data)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            match data {
                Some(d) => {
                    if to.write_all(&d).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    break;
                }
            }
        }
    };
    tokio::join!(reader, writer);
}

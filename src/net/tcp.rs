//! Opening a byte stream to `host:port`. Everything above (TLS, HTTP) runs over a
//! [`BoxStream`], so a proxied stream (HTTP CONNECT) can stand in for a direct one.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Any bidirectional byte stream the TLS and HTTP layers can run over.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

pub type BoxStream = Box<dyn ByteStream>;

/// Why one address could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    Refused,
    TimedOut,
    Unreachable(String),
    Other(String),
    /// Still trying when another address connected: not waited for.
    Abandoned,
    /// Not tried: another address connected first, or the time ran out.
    NotTried,
}

impl ConnectFailure {
    pub fn code(&self) -> &'static str {
        match self {
            ConnectFailure::Refused => "refused",
            ConnectFailure::TimedOut => "timeout",
            ConnectFailure::Unreachable(_) => "unreachable",
            ConnectFailure::Other(_) => "error",
            ConnectFailure::Abandoned => "abandoned",
            ConnectFailure::NotTried => "not_tried",
        }
    }

    fn from_io(e: &io::Error) -> ConnectFailure {
        use io::ErrorKind::*;
        match e.kind() {
            ConnectionRefused => ConnectFailure::Refused,
            TimedOut => ConnectFailure::TimedOut,
            HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
                ConnectFailure::Unreachable(e.to_string())
            }
            _ => ConnectFailure::Other(e.to_string()),
        }
    }
}

/// The outcome for one address.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub addr: SocketAddr,
    pub result: Result<Duration, ConnectFailure>,
}

/// A connected stream and what every address did.
pub struct Connected {
    pub stream: BoxStream,
    pub peer: SocketAddr,
    pub attempts: Vec<Attempt>,
}

/// RFC 8305's "Connection Attempt Delay": the next address is tried this long after the
/// previous attempt started, or at once when it failed.
pub const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Addresses in the order they are tried: the families interleaved (RFC 8305 §4), starting
/// with the family of the first address.
pub fn attempt_order(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let Some(first) = addrs.first() else {
        return vec![];
    };
    let (mut lead, mut other): (Vec<IpAddr>, Vec<IpAddr>) =
        addrs.iter().partition(|a| a.is_ipv6() == first.is_ipv6());
    lead.reverse();
    other.reverse();
    let mut out = Vec::with_capacity(addrs.len());
    while !lead.is_empty() || !other.is_empty() {
        out.extend(lead.pop());
        out.extend(other.pop());
    }
    out
}

async fn attempt(i: usize, addr: SocketAddr, deadline: tokio::time::Instant) -> AttemptResult {
    let start = Instant::now();
    let r = tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await;
    let elapsed = start.elapsed();
    let r = match r {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok((s, elapsed))
        }
        Ok(Err(e)) => Err(ConnectFailure::from_io(&e)),
        Err(_) => Err(ConnectFailure::TimedOut),
    };
    (i, r)
}

type AttemptResult = (usize, Result<(TcpStream, Duration), ConnectFailure>);

/// Happy Eyeballs (RFC 8305): attempts start one after another, [`ATTEMPT_DELAY`] apart (at
/// once after a failure); the first address that connects wins and the attempts still running
/// are abandoned, reported as [`ConnectFailure::Abandoned`] but not waited for. Addresses never
/// tried are reported as [`ConnectFailure::NotTried`]. Everything ends by `timeout`.
pub async fn connect_direct(
    addrs: &[IpAddr],
    port: u16,
    timeout: Duration,
) -> Result<Connected, Vec<Attempt>> {
    let order: Vec<SocketAddr> = attempt_order(addrs)
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut results: Vec<Option<Result<Duration, ConnectFailure>>> = vec![None; order.len()];
    let mut running = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut next_at = tokio::time::Instant::now();
    let attempts = |results: Vec<Option<Result<Duration, ConnectFailure>>>, started: usize| {
        order
            .iter()
            .zip(results)
            .enumerate()
            .map(|(i, (addr, r))| Attempt {
                addr: *addr,
                result: r.unwrap_or(Err(if i < started {
                    ConnectFailure::Abandoned
                } else {
                    ConnectFailure::NotTried
                })),
            })
            .collect::<Vec<_>>()
    };
    loop {
        if next < order.len() && (running.is_empty() || tokio::time::Instant::now() >= next_at) {
            tracing::debug!(addr = %order[next], "tcp attempt");
            running.spawn(attempt(next, order[next], deadline));
            next += 1;
            next_at = tokio::time::Instant::now() + ATTEMPT_DELAY;
            continue;
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            done = running.join_next() => {
                let Some(Ok((i, r))) = done else { continue };
                match r {
                    Ok((stream, elapsed)) => {
                        results[i] = Some(Ok(elapsed));
                        running.abort_all();
                        let peer = order[i];
                        tracing::debug!(%peer, ms = elapsed.as_millis() as u64, "tcp connected");
                        return Ok(Connected {
                            stream: Box::new(stream),
                            peer,
                            attempts: attempts(results, next),
                        });
                    }
                    Err(e) => {
                        tracing::debug!(addr = %order[i], error = e.code(), "tcp attempt failed");
                        results[i] = Some(Err(e));
                        // A failure starts the next attempt at once.
                        next_at = tokio::time::Instant::now();
                    }
                }
            }
            _ = tokio::time::sleep_until(next_at), if next < order.len() => {}
            _ = tokio::time::sleep_until(deadline) => {
                running.abort_all();
                break;
            }
        }
    }
    let mut all = attempts(results, next);
    for a in &mut all {
        if a.result == Err(ConnectFailure::Abandoned) {
            a.result = Err(ConnectFailure::TimedOut);
        }
    }
    Err(all)
}

/// Run futures concurrently and collect their outputs in order.
pub(crate) async fn join_all<F>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(v) => out.push(v),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_interleaved_from_the_first() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let got = attempt_order(&[
            ip("192.0.2.1"),
            ip("192.0.2.2"),
            ip("2001:db8::1"),
            ip("2001:db8::2"),
            ip("192.0.2.3"),
        ]);
        let want = [
            ip("192.0.2.1"),
            ip("2001:db8::1"),
            ip("192.0.2.2"),
            ip("2001:db8::2"),
            ip("192.0.2.3"),
        ];
        assert_eq!(got, want);
        assert!(attempt_order(&[]).is_empty());
    }

    /// A listener on 127.0.0.2 whose accept queue is full (its SYNs go unanswered) and a
    /// working one on 127.0.0.1, on the same port.
    async fn dropping_and_working() -> (
        tokio::net::TcpListener,
        Vec<std::net::TcpStream>,
        tokio::net::TcpListener,
        u16,
    ) {
        for _ in 0..20 {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            if s.bind("127.0.0.2:0".parse().unwrap()).is_err() {
                continue;
            }
            let full = s.listen(0).unwrap();
            let port = full.local_addr().unwrap().port();
            let Ok(good) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await else {
                continue;
            };
            let addr = full.local_addr().unwrap();
            let mut fillers = Vec::new();
            for _ in 0..8 {
                match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                    Ok(s) => fillers.push(s),
                    Err(_) => break,
                }
            }
            assert!(
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err()
            );
            return (full, fillers, good, port);
        }
        panic!("no common free port on 127.0.0.1 and 127.0.0.2");
    }

    #[tokio::test]
    async fn an_address_that_drops_packets_is_not_waited_for() {
        let (_full, _fillers, _good, port) = dropping_and_working().await;
        let addrs: Vec<IpAddr> = vec!["127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let Ok(c) = connect_direct(&addrs, port, Duration::from_secs(20)).await else {
            panic!("the working address did not connect");
        };
        assert_eq!(c.peer, SocketAddr::new(addrs[1], port));
        // The first attempt was still running when the second won: abandoned, not timed out.
        assert_eq!(c.attempts[0].result, Err(ConnectFailure::Abandoned));
        assert!(c.attempts[1].result.is_ok());
    }

    #[tokio::test]
    async fn refused_and_connected_are_told_apart() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let ok = connect_direct(
            &["127.0.0.1".parse().unwrap()],
            port,
            Duration::from_secs(2),
        )
        .await
        .ok()
        .unwrap();
        assert_eq!(ok.peer.port(), port);
        drop(l);
        drop(ok);
        let err = connect_direct(
            &["127.0.0.1".parse().unwrap()],
            port,
            Duration::from_secs(2),
        )
        .await
        .err()
        .unwrap();
        assert_eq!(err[0].result, Err(ConnectFailure::Refused));
    }
}

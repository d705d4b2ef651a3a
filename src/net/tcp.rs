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
}

impl ConnectFailure {
    pub fn code(&self) -> &'static str {
        match self {
            ConnectFailure::Refused => "refused",
            ConnectFailure::TimedOut => "timeout",
            ConnectFailure::Unreachable(_) => "unreachable",
            ConnectFailure::Other(_) => "error",
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

/// Connect to every address at once (IPv4 and IPv6) and keep the first one in address
/// order that answered; each attempt is bounded by `timeout`. The others are closed.
pub async fn connect_direct(
    addrs: &[IpAddr],
    port: u16,
    timeout: Duration,
) -> Result<Connected, Vec<Attempt>> {
    let tasks = addrs.iter().map(|ip| {
        let addr = SocketAddr::new(*ip, port);
        async move {
            let start = Instant::now();
            let r = tokio::time::timeout(timeout, TcpStream::connect(addr)).await;
            let elapsed = start.elapsed();
            match r {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    (
                        Attempt {
                            addr,
                            result: Ok(elapsed),
                        },
                        Some(s),
                    )
                }
                Ok(Err(e)) => (
                    Attempt {
                        addr,
                        result: Err(ConnectFailure::from_io(&e)),
                    },
                    None,
                ),
                Err(_) => (
                    Attempt {
                        addr,
                        result: Err(ConnectFailure::TimedOut),
                    },
                    None,
                ),
            }
        }
    });
    let results = join_all(tasks).await;
    let mut attempts = Vec::new();
    let mut chosen: Option<(TcpStream, SocketAddr)> = None;
    for (a, s) in results {
        if chosen.is_none() {
            if let Some(s) = s {
                chosen = Some((s, a.addr));
            }
        }
        attempts.push(a);
    }
    match chosen {
        Some((s, peer)) => Ok(Connected {
            stream: Box::new(s),
            peer,
            attempts,
        }),
        None => Err(attempts),
    }
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

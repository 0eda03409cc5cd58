//! Sending one request over UDP, with retransmissions.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::error::DacError;
use crate::reply::{self, Answer, Mismatch};
use crate::request::Request;

/// A NAS's dynamic authorization endpoint and how patiently to talk to it.
#[derive(Clone)]
pub struct DacClient {
    pub addr: SocketAddr,
    secret: Vec<u8>,
    /// Wait for an answer this long before sending the same datagram again.
    pub retry_after: Duration,
    /// Datagrams sent at most (the first plus retries).
    pub tries: u32,
}

impl std::fmt::Debug for DacClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DacClient")
            .field("addr", &self.addr)
            .field("secret", &"<hidden>")
            .field("retry_after", &self.retry_after)
            .field("tries", &self.tries)
            .finish()
    }
}

/// A finished request: the answer, and what it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub answer: Answer,
    /// Datagrams sent (1 when the first was answered).
    pub tries: u32,
    /// From the first send to the answer.
    pub elapsed: Duration,
    pub identifier: u8,
}

impl DacClient {
    /// Defaults suit a NAS on the same network: 1 s per try, 3 tries.
    pub fn new(addr: SocketAddr, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            addr,
            secret: secret.into(),
            retry_after: Duration::from_secs(1),
            tries: 3,
        }
    }

    /// Waits `retry_after` per try, `tries` tries at most.
    pub fn with_retries(mut self, retry_after: Duration, tries: u32) -> Self {
        self.retry_after = retry_after;
        self.tries = tries.max(1);
        self
    }

    /// Resolves `host` (an address or a name) and uses `port`.
    pub async fn resolve(
        host: &str,
        port: u16,
        secret: impl Into<Vec<u8>>,
    ) -> Result<Self, DacError> {
        let host_only = host.trim().trim_start_matches('[').trim_end_matches(']');
        let mut addrs = tokio::net::lookup_host((host_only, port))
            .await
            .map_err(|e| DacError::Resolve {
                host: host.into(),
                reason: e.to_string(),
            })?;
        let addr = addrs.next().ok_or_else(|| DacError::Resolve {
            host: host.into(),
            reason: "no address".into(),
        })?;
        Ok(Self::new(addr, secret))
    }

    /// Sends `request` and waits for its answer. Every try sends the same
    /// datagram (same identifier and authenticator) from the same port, so
    /// the NAS answers a retransmission from its cache instead of applying it
    /// twice. Datagrams that are not the answer (another identifier, a bad
    /// authenticator, junk) are dropped and the wait goes on.
    pub async fn send(&self, request: &Request) -> Result<Exchange, DacError> {
        let identifier: u8 = rand::random();
        let datagram = request.encode(&self.secret, identifier)?;
        let io = |source| DacError::Io {
            addr: self.addr,
            source,
        };
        let local: SocketAddr = if self.addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(io)?;
        // Connected: the OS delivers only the NAS's datagrams.
        socket.connect(self.addr).await.map_err(io)?;
        let started = Instant::now();
        let mut buf = vec![0u8; 4096];
        let tries = self.tries.max(1);
        for attempt in 1..=tries {
            socket.send(&datagram).await.map_err(io)?;
            let deadline = tokio::time::Instant::now() + self.retry_after;
            loop {
                let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                    Err(_) => break,
                    // ICMP port unreachable surfaces here on a connected
                    // socket: treat it as no answer and try again.
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        tokio::time::sleep_until(deadline).await;
                        break;
                    }
                    Ok(Err(e)) => return Err(io(e)),
                    Ok(Ok(n)) => n,
                };
                match reply::check(&datagram, &buf[..n], &self.secret) {
                    Ok(answer) => {
                        return Ok(Exchange {
                            answer,
                            tries: attempt,
                            elapsed: started.elapsed(),
                            identifier,
                        })
                    }
                    Err(why) => log_mismatch(self.addr, why),
                }
            }
            tracing::debug!(addr = %self.addr, attempt, "no RADIUS answer yet");
        }
        Err(DacError::NoAnswer {
            addr: self.addr,
            request: request.name(),
            tries,
            waited: started.elapsed(),
        })
    }
}

fn log_mismatch(addr: SocketAddr, why: Mismatch) {
    match why {
        Mismatch::BadAuthenticator => {
            tracing::warn!(%addr, "RADIUS reply with a bad authenticator ignored (is the shared secret the same on both sides?)")
        }
        other => tracing::debug!(%addr, ?other, "datagram ignored: not the answer"),
    }
}

//! A minimal RouterOS API client for the tests, built on the shared codec.
#![allow(dead_code)]

use std::time::Duration;

use routeros_proto::{encode_sentence, Decoder, Reply, ReplyKind, Sentence};
use shareguard_sim::{PopulationSpec, SimConfig, SimNetwork};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Protects the test run from hanging forever on a bug; not a timing assert.
pub const SAFETY: Duration = Duration::from_secs(60);

pub struct Client<S> {
    stream: S,
    dec: Decoder,
    buf: Vec<u8>,
}

pub async fn connect(addr: std::net::SocketAddr) -> Client<TcpStream> {
    Client::new(TcpStream::connect(addr).await.expect("connect"))
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            dec: Decoder::default(),
            buf: vec![0; 64 * 1024],
        }
    }

    pub async fn send(&mut self, words: &[&str]) {
        let mut out = Vec::new();
        encode_sentence(words, &mut out);
        self.stream.write_all(&out).await.expect("write");
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next sentence, or `None` at end of stream.
    pub async fn sentence(&mut self) -> Option<Sentence> {
        tokio::time::timeout(SAFETY, self.sentence_inner())
            .await
            .expect("reply within the safety limit")
    }

    /// The next sentence, `Err` if the stream is invalid, `Ok(None)` at end of stream.
    pub async fn try_sentence(&mut self) -> Result<Option<Sentence>, routeros_proto::ProtoError> {
        loop {
            if let Some(s) = self.dec.next_sentence()? {
                return Ok(Some(s));
            }
            let n = tokio::time::timeout(SAFETY, self.stream.read(&mut self.buf))
                .await
                .expect("reply within the safety limit")
                .unwrap_or(0);
            if n == 0 {
                return Ok(None);
            }
            self.dec.feed(&self.buf[..n]);
        }
    }

    async fn sentence_inner(&mut self) -> Option<Sentence> {
        self.try_sentence().await.expect("valid stream")
    }

    pub async fn reply(&mut self) -> Option<Reply> {
        self.sentence()
            .await
            .map(|s| Reply::parse(s).expect("well-formed reply"))
    }

    /// Sends a command and collects replies up to `!done` or `!fatal`.
    pub async fn call(&mut self, words: &[&str]) -> Vec<Reply> {
        self.send(words).await;
        self.collect().await
    }

    pub async fn collect(&mut self) -> Vec<Reply> {
        let mut out = Vec::new();
        while let Some(r) = self.reply().await {
            let k = r.kind();
            out.push(r);
            if matches!(k, ReplyKind::Done | ReplyKind::Fatal) {
                break;
            }
        }
        out
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Vec<Reply> {
        self.call(&[
            "/login",
            &format!("=name={user}"),
            &format!("=password={password}"),
        ])
        .await
    }

    pub async fn is_closed(&mut self) -> bool {
        let n = tokio::time::timeout(SAFETY, self.stream.read(&mut self.buf))
            .await
            .expect("eof within the safety limit")
            .unwrap_or(0);
        n == 0
    }
}

pub fn rows(replies: &[Reply]) -> Vec<&Reply> {
    replies
        .iter()
        .filter(|r| r.kind() == ReplyKind::Re)
        .collect()
}

pub fn kinds(replies: &[Reply]) -> Vec<ReplyKind> {
    replies.iter().map(|r| r.kind()).collect()
}

pub fn get(r: &Reply, key: &str) -> String {
    r.get_str(key).map(|s| s.into_owned()).unwrap_or_default()
}

/// A frozen-time config (time only moves through `advance`) on the demo
/// population, so every expectation can be computed exactly.
pub fn frozen(population: PopulationSpec) -> SimConfig {
    SimConfig {
        population,
        time_scale: 0.0,
        tls: false,
        ..SimConfig::default()
    }
}

pub async fn start(population: PopulationSpec) -> SimNetwork {
    SimNetwork::start(frozen(population)).await.expect("start")
}

/// [`start`] with a router that behaves as `router` says.
#[allow(dead_code)]
pub async fn start_with(
    population: PopulationSpec,
    router: shareguard_sim::RouterModel,
) -> SimNetwork {
    SimNetwork::start(SimConfig {
        router,
        ..frozen(population)
    })
    .await
    .expect("start")
}

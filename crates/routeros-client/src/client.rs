//! The connection: login, commands, and rows pulled from the socket on demand.

use std::time::Duration;

use routeros_proto::{Command, Decoder, Limits, Reply, ReplyKind, SentenceRef};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::Error;
use crate::tls::{self, TlsMode};

/// Bytes requested from the socket per read. Large enough that a fast router
/// is read in few system calls, small enough to be the whole memory cost.
const READ_CHUNK: usize = 64 * 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where and how to connect. Its `Debug` leaves the password out, so a
/// target in a log line or a panic message never carries it.
#[derive(Clone)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    /// `None` for plain api (8728), which sends the password in clear.
    pub tls: Option<TlsMode>,
    pub username: String,
    pub password: String,
    /// Deadline for the TCP connection to open.
    pub connect_timeout: Duration,
    /// Deadline for each read: the longest the router may stay silent.
    pub read_timeout: Duration,
    pub limits: Limits,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

impl ConnectOptions {
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            tls: None,
            username: username.into(),
            password: password.into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }

    /// Parses `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT`; the port defaults
    /// to 8729 with TLS and 8728 without.
    pub fn parse_router(spec: &str, tls: bool) -> Result<(String, u16), Error> {
        let default_port = if tls { 8729 } else { 8728 };
        let spec = spec.trim();
        let bad = |why: &str| {
            Error::InvalidAddress(format!(
                "{spec:?} is not a router address ({why}): use HOST or HOST:PORT, e.g. 192.0.2.1:8728 or [2001:db8::1]:8729"
            ))
        };
        if spec.is_empty() {
            return Err(bad("it is empty"));
        }
        let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            match after.strip_prefix(':') {
                Some(p) => (h.to_string(), Some(p)),
                None if after.is_empty() => (h.to_string(), None),
                None => return Err(bad("unexpected text after ']'")),
            }
        } else if spec.matches(':').count() > 1 {
            (spec.to_string(), None)
        } else if let Some((h, p)) = spec.split_once(':') {
            (h.to_string(), Some(p))
        } else {
            (spec.to_string(), None)
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(bad("the host name is not valid"));
        }
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port must be a number from 1 to 65535")),
                Ok(p) => p,
            },
        };
        Ok((host, port))
    }
}

/// `host:port`, with brackets around an IPv6 host.
pub fn join_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub(crate) async fn connect_tcp(addr: &str, timeout: Duration) -> Result<TcpStream, Error> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(Error::ConnectTimeout {
            addr: addr.into(),
            after: timeout,
        }),
        Ok(Err(e)) => Err(Error::Unreachable {
            addr: addr.into(),
            reason: e.to_string(),
        }),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// A logged-in API session with one command in flight at a time.
pub struct Client {
    io: Box<dyn Io>,
    decoder: Decoder,
    addr: String,
    read_timeout: Duration,
    next_tag: u64,
    /// The tag of a streamed command whose rows were not all read.
    unfinished: Option<String>,
    /// Set once the stream is unusable (closed, fatal, malformed).
    broken: bool,
}

impl Client {
    /// Connects, performs TLS if asked, and logs in.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, Error> {
        let addr = join_addr(&opts.host, opts.port);
        let tcp = connect_tcp(&addr, opts.connect_timeout).await?;
        let io: Box<dyn Io> = match &opts.tls {
            None => Box::new(tcp),
            Some(mode) => {
                let hs = tls::handshake(tcp, &opts.host, &addr, mode);
                match tokio::time::timeout(opts.read_timeout, hs).await {
                    Err(_) => {
                        return Err(Error::ReadTimeout {
                            addr,
                            after: opts.read_timeout,
                        })
                    }
                    Ok(r) => Box::new(r?),
                }
            }
        };
        let mut client = Self {
            io,
            decoder: Decoder::new(opts.limits),
            addr,
            read_timeout: opts.read_timeout,
            next_tag: 1,
            unfinished: None,
            broken: false,
        };
        client.login(&opts.username, &opts.password).await?;
        Ok(client)
    }

    /// `host:port` of the router, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Bytes read from the socket and not yet handed out as rows. Bounded by
    /// one read chunk plus one sentence: the client never reads ahead of its caller.
    pub fn buffered_bytes(&self) -> usize {
        self.decoder.pending()
    }

    async fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let cmd = Command::new("/login")
            .attr("name", user)
            .attr("password", password);
        match self.execute(cmd).await {
            Ok(Some(_challenge)) => Err(Error::UnsupportedLogin {
                addr: self.addr.clone(),
            }),
            Ok(None) => Ok(()),
            Err(Error::Trap { message, .. }) => Err(Error::Auth {
                addr: self.addr.clone(),
                user: user.into(),
                message,
            }),
            Err(e) => Err(e),
        }
    }

    async fn send(&mut self, cmd: &Command) -> Result<(), Error> {
        if self.broken {
            return Err(Error::ConnectionClosed {
                addr: self.addr.clone(),
            });
        }
        let mut out = Vec::with_capacity(128);
        cmd.encode_into(&mut out);
        let write = async {
            self.io.write_all(&out).await?;
            self.io.flush().await
        };
        match tokio::time::timeout(self.read_timeout, write).await {
            Err(_) => {
                self.broken = true;
                Err(Error::ReadTimeout {
                    addr: self.addr.clone(),
                    after: self.read_timeout,
                })
            }
            Ok(Err(e)) => {
                self.broken = true;
                Err(self.io_error(e))
            }
            Ok(Ok(())) => Ok(()),
        }
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                Error::ConnectionClosed {
                    addr: self.addr.clone(),
                }
            }
            _ => Error::Io {
                addr: self.addr.clone(),
                source: e,
            },
        }
    }

    /// Reads until a whole sentence is buffered, waiting at most the read
    /// timeout for each chunk.
    async fn fill(&mut self) -> Result<(), Error> {
        while !self.sentence_ready()? {
            self.read_more().await?;
        }
        Ok(())
    }

    /// True when a whole sentence is buffered (see `Decoder::ready`).
    fn sentence_ready(&mut self) -> Result<bool, Error> {
        self.decoder.ready().map_err(|source| {
            self.broken = true;
            Error::Protocol {
                addr: self.addr.clone(),
                source,
            }
        })
    }

    /// One read of at most one chunk, within the read timeout.
    async fn read_more(&mut self) -> Result<(), Error> {
        let buf = self.decoder.buffer_mut();
        buf.reserve(READ_CHUNK);
        // A hard cap per read keeps read-ahead at one chunk whatever
        // capacity the buffer happens to have.
        let mut limited = bytes::BufMut::limit(buf, READ_CHUNK);
        let read = tokio::time::timeout(self.read_timeout, self.io.read_buf(&mut limited)).await;
        match read {
            Err(_) => {
                self.broken = true;
                Err(Error::ReadTimeout {
                    addr: self.addr.clone(),
                    after: self.read_timeout,
                })
            }
            Ok(Ok(0)) => {
                self.broken = true;
                Err(Error::ConnectionClosed {
                    addr: self.addr.clone(),
                })
            }
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                self.broken = true;
                Err(self.io_error(e))
            }
        }
    }

    /// Reads the next reply sentence as an owned, parsed reply.
    async fn read_reply(&mut self) -> Result<Reply, Error> {
        self.fill().await?;
        let parsed = match self.decoder.next_sentence() {
            Ok(Some(s)) => Reply::parse(s),
            Ok(None) => unreachable!("fill() returns only once a sentence is buffered"),
            Err(e) => Err(e),
        };
        parsed.map_err(|source| {
            self.broken = true;
            Error::Protocol {
                addr: self.addr.clone(),
                source,
            }
        })
    }

    /// Sends `cmd` with a fresh tag and returns a stream of its rows.
    pub async fn stream(&mut self, cmd: Command) -> Result<Rows<'_>, Error> {
        if let Some(stale) = self.unfinished.take() {
            // A previous stream was abandoned: stop it so its rows end soon;
            // any that still arrive carry the old tag and are skipped.
            let cancel_tag = format!("cancel-{}", self.next_tag);
            self.send(&Command::new("/cancel").attr("tag", stale).tag(cancel_tag))
                .await?;
        }
        let tag = self.next_tag.to_string();
        self.next_tag += 1;
        let command = cmd.path().to_string();
        self.send(&cmd.tag(tag.clone())).await?;
        self.unfinished = Some(tag.clone());
        Ok(Rows {
            client: self,
            tag,
            command,
            ret: None,
            done: false,
        })
    }

    /// Runs `cmd` and collects its rows (for small tables).
    pub async fn run(&mut self, cmd: Command) -> Result<Vec<Reply>, Error> {
        let mut rows = self.stream(cmd).await?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().await? {
            out.push(r);
        }
        Ok(out)
    }

    /// Runs a command that returns no rows; yields its `=ret=` value, if any
    /// (the new item's id after `add`).
    pub async fn execute(&mut self, cmd: Command) -> Result<Option<String>, Error> {
        let mut rows = self.stream(cmd).await?;
        while rows.next().await?.is_some() {}
        Ok(rows.ret.take())
    }
}

enum Step {
    Row(Reply),
    Skip,
    End,
}

/// Rows of one command, read from the socket as they are asked for.
///
/// Dropping it early is allowed: the next command cancels this one first.
pub struct Rows<'a> {
    client: &'a mut Client,
    tag: String,
    command: String,
    ret: Option<String>,
    done: bool,
}

impl Rows<'_> {
    /// Bytes read ahead of the caller (see [`Client::buffered_bytes`]).
    pub fn buffered_bytes(&self) -> usize {
        self.client.buffered_bytes()
    }

    /// The next `!re` row, `None` after `!done`/`!empty`, or the router's error.
    pub async fn next(&mut self) -> Result<Option<Reply>, Error> {
        if self.done {
            return Ok(None);
        }
        loop {
            let reply = self.client.read_reply().await?;
            match self.handle(reply)? {
                Step::Row(r) => return Ok(Some(r)),
                Step::Skip => continue,
                Step::End => return Ok(None),
            }
        }
    }

    /// What one reply means for this command.
    fn handle(&mut self, reply: Reply) -> Result<Step, Error> {
        if reply.kind() == ReplyKind::Fatal {
            self.finish();
            self.client.broken = true;
            return Err(Error::Fatal {
                addr: self.client.addr.clone(),
                message: reply.message().map(|m| m.into_owned()).unwrap_or_default(),
            });
        }
        match reply.tag() {
            Some(t) if t == self.tag.as_bytes() => {}
            // Replies of an abandoned earlier command.
            Some(_) => return Ok(Step::Skip),
            None => {
                self.client.broken = true;
                self.finish();
                return Err(Error::Protocol {
                    addr: self.client.addr.clone(),
                    source: routeros_proto::ProtoError::Malformed(format!(
                        "a {} reply without the .tag of the command it answers",
                        reply.kind().as_word()
                    )),
                });
            }
        }
        match reply.kind() {
            ReplyKind::Re => Ok(Step::Row(reply)),
            // `!empty` (RouterOS 7.18+) announces no rows; `!done` follows.
            ReplyKind::Empty => Ok(Step::Skip),
            ReplyKind::Done => {
                self.ret = reply.get_str("ret").map(|s| s.into_owned());
                self.finish();
                Ok(Step::End)
            }
            ReplyKind::Trap => {
                // A trap ends the command; a `!done` may follow with the same
                // tag and is skipped as stale by the next command.
                self.finish();
                Err(Error::Trap {
                    addr: self.client.addr.clone(),
                    command: self.command.clone(),
                    message: reply
                        .message()
                        .map(|m| m.into_owned())
                        .unwrap_or_else(|| "no reason given".into()),
                    category: reply.category(),
                })
            }
            ReplyKind::Fatal => unreachable!("handled above"),
        }
    }

    /// Calls `f` for every remaining `!re` row, borrowed from the read
    /// buffer, until the command ends. All rows already buffered are handled
    /// without an await in between, which is what keeps a multi-million-row
    /// table cheap; errors end the command as with [`Rows::next`].
    pub async fn for_each_row(&mut self, mut f: impl FnMut(SentenceRef<'_>)) -> Result<(), Error> {
        while !self.done {
            if !self.client.sentence_ready()? {
                self.client.read_more().await?;
                continue;
            }
            let fast = {
                let s = self.client.decoder.lend().expect("a sentence is buffered");
                let fast = s.word(0) == Some(&b"!re"[..]) && s.tag() == Some(self.tag.as_bytes());
                if fast {
                    f(s);
                }
                fast
            };
            if fast {
                continue;
            }
            let sentence = self
                .client
                .decoder
                .lend()
                .expect("a sentence is buffered")
                .to_owned();
            let reply = Reply::parse(sentence).map_err(|source| {
                self.client.broken = true;
                Error::Protocol {
                    addr: self.client.addr.clone(),
                    source,
                }
            })?;
            self.handle(reply)?;
        }
        Ok(())
    }

    fn finish(&mut self) {
        self.done = true;
        if self.client.unfinished.as_deref() == Some(self.tag.as_str()) {
            self.client.unfinished = None;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_leaves_the_password_out() {
        let o = super::ConnectOptions::new("10.0.0.1", 8728, "admin", "hunter2-s3cret");
        let shown = format!("{o:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("admin") && shown.contains("<hidden>"),
            "{shown}"
        );
    }

    use super::*;

    #[test]
    fn router_addresses_parse_with_default_ports() {
        assert_eq!(
            ConnectOptions::parse_router("10.0.0.1", false).unwrap(),
            ("10.0.0.1".into(), 8728)
        );
        assert_eq!(
            ConnectOptions::parse_router("10.0.0.1", true).unwrap(),
            ("10.0.0.1".into(), 8729)
        );
        assert_eq!(
            ConnectOptions::parse_router("nas.example:9000", false).unwrap(),
            ("nas.example".into(), 9000)
        );
        assert_eq!(
            ConnectOptions::parse_router("[::1]:8728", false).unwrap(),
            ("::1".into(), 8728)
        );
        assert_eq!(
            ConnectOptions::parse_router("::1", true).unwrap(),
            ("::1".into(), 8729)
        );
    }

    #[test]
    fn bad_router_addresses_name_the_expected_form() {
        for bad in [
            "",
            "10.0.0.1:0",
            "10.0.0.1:99999",
            "10.0.0.1:abc",
            "[::1",
            "a b",
        ] {
            let e = ConnectOptions::parse_router(bad, false)
                .unwrap_err()
                .to_string();
            assert!(e.contains("HOST:PORT"), "{bad}: {e}");
        }
    }
}

//! The RouterOS API server of one NAS: one task per client connection.
//!
//! A separate reader task decodes incoming sentences into a channel, so a
//! long print can look for a `/cancel` between chunks without giving up
//! back-pressure on its writes. Commands are otherwise handled one at a time
//! in arrival order, which is what clients observe from a real router for
//! the commands simulated here.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use routeros_proto::sentence::{encode_attribute, encode_word};
use routeros_proto::{length, Decoder, Limits, Sentence};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::sync::mpsc;

use crate::conntrack::ConnPrint;
use crate::fmt::id_string;
use crate::nas::{Fault, FaultPoint, Menu, NasState, Row};
use crate::query::Query;
use crate::tables::parse_id_list;

/// Rows are written in chunks of about this size; each write is awaited, so
/// a slow reader slows the print instead of growing a buffer.
const CHUNK: usize = 64 * 1024;

/// What a 64 MiB word announcement claims (the `OversizedWord` fault).
const OVERSIZED_WORD: usize = 64 << 20;

enum Incoming {
    Sentence(Sentence),
    /// The byte stream is not valid API framing; it cannot be resynchronised.
    Broken(String),
}

enum Flow {
    Continue,
    Close,
    /// Keep the socket open but answer nothing more (stall faults).
    Hold,
}

/// Serves one client until it disconnects or the session ends.
pub(crate) async fn serve<S>(stream: S, nas: Arc<NasState>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(64);
    // Held for the whole session: if this task is aborted (network shutdown),
    // dropping the guard ends the reader too and the socket closes.
    let _reader = AbortOnDrop(tokio::spawn(read_loop(rd, tx)));
    let mut conn = Conn {
        wr,
        nas,
        rx,
        pending: VecDeque::new(),
        logged_in: false,
        out: Vec::with_capacity(CHUNK + 4096),
    };
    if let Err(e) = conn.run().await {
        tracing::debug!(error = %e, "api connection ended");
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn read_loop<R: AsyncRead>(rd: R, tx: mpsc::Sender<Incoming>) {
    let mut rd = std::pin::pin!(rd);
    // Requests are short; generous limits still stop a hostile peer early.
    let mut dec = Decoder::new(Limits {
        max_word: 64 * 1024,
        max_words: 4096,
        max_sentence: 1 << 20,
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        dec.feed(&buf[..n]);
        loop {
            match dec.next_sentence() {
                Ok(Some(s)) => {
                    if tx.send(Incoming::Sentence(s)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Incoming::Broken(e.to_string())).await;
                    return;
                }
            }
        }
    }
}

/// One parsed request sentence.
#[derive(Debug, Default)]
struct Request {
    path: String,
    attrs: Vec<(String, String)>,
    query: Vec<String>,
    tag: Option<String>,
}

impl Request {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn proplist(&self) -> Option<Vec<String>> {
        self.attr(".proplist").map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    fn count_only(&self) -> bool {
        self.attr("count-only").is_some()
    }

    /// The item ids a command names through `.id` or `numbers`.
    fn ids(&self) -> Result<Vec<u64>, String> {
        let list = self
            .attr(".id")
            .or_else(|| self.attr("numbers"))
            .ok_or_else(|| "no such item".to_string())?;
        parse_id_list(list)
    }

    /// Attributes that become item properties.
    fn properties(&self) -> Vec<(String, String)> {
        self.attrs
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    ".id" | "numbers" | "place-before" | "destination" | ".proplist"
                )
            })
            .cloned()
            .collect()
    }
}

/// Parses a request. On failure returns the tag (when one could be read, so
/// the trap can carry it) and the message.
fn parse_request(s: &Sentence) -> Result<Request, (Option<String>, String)> {
    let mut req = Request::default();
    for w in s.words().skip(1) {
        if let Some(t) = w.strip_prefix(b".tag=") {
            req.tag = Some(String::from_utf8_lossy(t).into_owned());
        }
    }
    let first = s.word(0).unwrap_or_default();
    let path = String::from_utf8_lossy(first).into_owned();
    if !path.starts_with('/') {
        return Err((req.tag, format!("no such command: {path}")));
    }
    req.path = path;
    for w in s.words().skip(1) {
        if w.starts_with(b".tag=") {
            continue;
        }
        let w = String::from_utf8_lossy(w);
        if let Some(rest) = w.strip_prefix('=') {
            let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
            if k.is_empty() {
                return Err((req.tag, "unknown parameter".into()));
            }
            req.attrs.push((k.to_string(), v.to_string()));
        } else if let Some(rest) = w.strip_prefix('?') {
            req.query.push(rest.to_string());
        } else if let Some(rest) = w.strip_prefix(".proplist=") {
            req.attrs.push((".proplist".into(), rest.to_string()));
        } else {
            return Err((req.tag, format!("unknown parameter {w}")));
        }
    }
    Ok(req)
}

/// What a menu path refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Identity,
    Resource,
    Clock,
    PppActive,
    HotspotActive,
    Hotspot,
    Interface,
    Connection,
    Ipv6Route,
    Ipv6Connection,
    Stored(Menu),
}

fn route(menu: &str) -> Option<Target> {
    Some(match menu {
        "/system/identity" => Target::Identity,
        "/system/resource" => Target::Resource,
        "/system/clock" => Target::Clock,
        "/ppp/active" => Target::PppActive,
        "/ip/hotspot/active" => Target::HotspotActive,
        "/ip/hotspot" => Target::Hotspot,
        "/interface" => Target::Interface,
        "/ip/firewall/connection" => Target::Connection,
        "/ipv6/route" => Target::Ipv6Route,
        "/ipv6/firewall/connection" => Target::Ipv6Connection,
        "/ip/firewall/mangle" => Target::Stored(Menu::Mangle),
        "/ip/firewall/filter" => Target::Stored(Menu::Filter),
        "/ip/firewall/address-list" => Target::Stored(Menu::AddressList),
        "/queue/simple" => Target::Stored(Menu::Queue),
        "/ip/firewall/layer7-protocol" => Target::Stored(Menu::Layer7),
        "/ipv6/firewall/mangle" => Target::Stored(Menu::Mangle6),
        "/ipv6/firewall/filter" => Target::Stored(Menu::Filter6),
        "/ipv6/firewall/address-list" => Target::Stored(Menu::AddressList6),
        _ => return None,
    })
}

struct Conn<S> {
    wr: WriteHalf<S>,
    nas: Arc<NasState>,
    rx: mpsc::Receiver<Incoming>,
    /// Requests that arrived while a print was streaming.
    pending: VecDeque<Incoming>,
    logged_in: bool,
    out: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite> Conn<S> {
    async fn run(&mut self) -> io::Result<()> {
        loop {
            let msg = match self.pending.pop_front() {
                Some(m) => m,
                None => match self.rx.recv().await {
                    Some(m) => m,
                    None => return Ok(()),
                },
            };
            let flow = match msg {
                Incoming::Broken(reason) => {
                    tracing::debug!(nas = %self.nas.name, %reason, "client sent an invalid stream");
                    self.sentence("!fatal", None, &[]);
                    self.word(reason.as_bytes());
                    self.end();
                    Flow::Close
                }
                Incoming::Sentence(s) if s.is_empty() => Flow::Continue,
                Incoming::Sentence(s) => self.command(&s).await?,
            };
            self.flush().await?;
            match flow {
                Flow::Continue => {}
                Flow::Close => {
                    let _ = self.wr.shutdown().await;
                    return Ok(());
                }
                Flow::Hold => {
                    // Swallow everything until the peer gives up.
                    while self.rx.recv().await.is_some() {}
                    return Ok(());
                }
            }
        }
    }

    // ---- output helpers ----------------------------------------------------

    /// Starts a sentence with its reply word and tag, then `attrs`; the caller
    /// may add words and must call [`Conn::end`].
    fn sentence(&mut self, head: &str, tag: Option<&str>, attrs: &[(&str, &str)]) {
        encode_word(head.as_bytes(), &mut self.out);
        if let Some(t) = tag {
            length::encode(5 + t.len(), &mut self.out);
            self.out.extend_from_slice(b".tag=");
            self.out.extend_from_slice(t.as_bytes());
        }
        for (k, v) in attrs {
            encode_attribute(k, v.as_bytes(), &mut self.out);
        }
    }

    fn word(&mut self, w: &[u8]) {
        encode_word(w, &mut self.out);
    }

    fn end(&mut self) {
        self.out.push(0);
    }

    fn done(&mut self, tag: Option<&str>, ret: Option<&str>) {
        match ret {
            Some(r) => self.sentence("!done", tag, &[("ret", r)]),
            None => self.sentence("!done", tag, &[]),
        }
        self.end();
    }

    /// `!trap` followed by `!done`, as a router ends a failed command.
    fn trap(&mut self, tag: Option<&str>, category: Option<u32>, message: &str) {
        let cat = category.map(|c| c.to_string());
        let mut attrs: Vec<(&str, &str)> = Vec::with_capacity(2);
        if let Some(c) = &cat {
            attrs.push(("category", c));
        }
        attrs.push(("message", message));
        self.sentence("!trap", tag, &attrs);
        self.end();
        self.done(tag, None);
    }

    fn fatal(&mut self, message: &str) {
        self.sentence("!fatal", None, &[]);
        self.word(message.as_bytes());
        self.end();
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.wr.write_all(&self.out).await?;
            self.out.clear();
        }
        self.wr.flush().await
    }

    // ---- commands --------------------------------------------------------------

    async fn command(&mut self, s: &Sentence) -> io::Result<Flow> {
        let req = match parse_request(s) {
            Ok(r) => r,
            Err((tag, msg)) => {
                self.trap(tag.as_deref(), None, &msg);
                return Ok(Flow::Continue);
            }
        };
        let tag = req.tag.clone();
        let tag = tag.as_deref();
        match req.path.as_str() {
            "/login" => return Ok(self.login(&req).await),
            "/quit" => {
                self.fatal("session terminated on request");
                return Ok(Flow::Close);
            }
            _ => {}
        }
        if !self.logged_in {
            self.trap(tag, None, "not logged in");
            return Ok(Flow::Continue);
        }
        if req.path == "/cancel" {
            // Nothing is running between commands, so there is nothing to stop.
            self.done(tag, None);
            return Ok(Flow::Continue);
        }
        let (menu, verb) = req.path.rsplit_once('/').unwrap_or(("", ""));
        let target = route(menu).filter(|t| {
            // Without the IPv6 package the /ipv6 menus do not exist.
            let ipv6 = match t {
                Target::Ipv6Route | Target::Ipv6Connection => true,
                Target::Stored(m) => m.is_ipv6(),
                _ => false,
            };
            !ipv6 || self.nas.settings.router.ipv6.is_some()
        });
        let Some(target) = target else {
            self.trap(tag, None, "no such command prefix");
            return Ok(Flow::Continue);
        };
        match (target, verb) {
            (Target::Connection, "print" | "getall") => self.print_connections(&req).await,
            (Target::Ipv6Connection, "print" | "getall") => Ok(self.print_ipv6_connections(&req)),
            (_, "print" | "getall") => {
                let rows = match target {
                    Target::Identity => self.nas.identity_rows(),
                    Target::Resource => self.nas.resource_rows(),
                    Target::Clock => self.nas.clock_rows(),
                    Target::PppActive => self.nas.ppp_active_rows(),
                    Target::HotspotActive => self.nas.hotspot_active_rows(),
                    Target::Hotspot => self.nas.hotspot_server_rows(),
                    Target::Interface => self.nas.interface_rows(),
                    Target::Stored(m) => self.nas.table_rows(m),
                    Target::Ipv6Route => self.nas.ipv6_route_rows(),
                    Target::Connection | Target::Ipv6Connection => Vec::new(),
                };
                Ok(self.print_rows(&req, &rows))
            }
            (Target::Connection | Target::Ipv6Connection, "remove") => {
                let result = req.ids().and_then(|ids| match target {
                    Target::Connection => self.nas.remove_connections(&ids),
                    _ => self.nas.remove_ipv6_connections(&ids),
                });
                match result {
                    Ok(()) => self.done(tag, None),
                    Err(e) => self.trap(tag, Some(0), &e),
                }
                Ok(Flow::Continue)
            }
            (Target::Stored(m), "move") => {
                let result = req
                    .ids()
                    .and_then(|ids| self.nas.table_move(m, &ids, req.attr("destination")));
                match result {
                    Ok(()) => self.done(tag, None),
                    Err(e) => self.trap(tag, Some(1), &e),
                }
                Ok(Flow::Continue)
            }
            (Target::PppActive | Target::HotspotActive, "remove") => {
                self.remove_sessions(&req, target);
                Ok(Flow::Continue)
            }
            (Target::Stored(m), "add") => {
                let props = req.properties();
                match self.nas.table_add(m, &props, req.attr("place-before")) {
                    Ok(id) => self.done(tag, Some(&id_string(id))),
                    Err(e) => self.trap(tag, Some(1), &e),
                }
                Ok(Flow::Continue)
            }
            (Target::Stored(m), "set" | "remove" | "enable" | "disable") => {
                let result = req.ids().and_then(|ids| match verb {
                    "set" => self.nas.table_set(m, &ids, &req.properties()),
                    "remove" => self.nas.table_remove(m, &ids),
                    _ => {
                        let disabled = if verb == "disable" { "true" } else { "false" };
                        self.nas
                            .table_set(m, &ids, &[("disabled".into(), disabled.into())])
                    }
                });
                match result {
                    Ok(()) => self.done(tag, None),
                    Err(e) => self.trap(tag, Some(if e == "no such item" { 0 } else { 1 }), &e),
                }
                Ok(Flow::Continue)
            }
            _ => {
                self.trap(tag, None, "no such command");
                Ok(Flow::Continue)
            }
        }
    }

    async fn login(&mut self, req: &Request) -> Flow {
        if let Fault::SlowLogin(d) = self.nas.take_fault(FaultPoint::Login) {
            tokio::time::sleep(d).await;
        }
        let ok = req.attr("name") == Some(self.nas.settings.username.as_str())
            && req.attr("password") == Some(self.nas.settings.password.as_str());
        if ok {
            self.logged_in = true;
            self.done(req.tag.as_deref(), None);
        } else {
            self.trap(
                req.tag.as_deref(),
                None,
                "invalid user name or password (6)",
            );
        }
        Flow::Continue
    }

    fn remove_sessions(&mut self, req: &Request, target: Target) {
        let tag = req.tag.as_deref();
        let locals: Result<Vec<usize>, String> = req.ids().and_then(|ids| {
            ids.into_iter()
                .map(|id| {
                    self.nas
                        .local_by_session_item(id)
                        .filter(|&l| self.nas.is_online(l))
                        .ok_or_else(|| "no such item".to_string())
                })
                .collect()
        });
        let wrong_menu = match target {
            Target::PppActive => self.nas.access != crate::population::Access::Pppoe,
            _ => self.nas.access != crate::population::Access::Hotspot,
        };
        match locals {
            Ok(_) if wrong_menu => self.trap(tag, Some(0), "no such item"),
            Ok(locals) => {
                for l in locals {
                    self.nas.disconnect(l);
                }
                self.done(tag, None);
            }
            Err(e) => self.trap(tag, Some(0), &e),
        }
    }

    /// Faults that apply to every print. Returns `Some` when the print must
    /// not go on.
    fn print_fault(&mut self, fault: Fault, tag: Option<&str>) -> Option<Flow> {
        match fault {
            Fault::FatalOnPrint => {
                self.fatal("not enough memory");
                Some(Flow::Close)
            }
            Fault::MalformedReply => {
                self.sentence("!bogus", tag, &[("message", "simulated malformed reply")]);
                self.end();
                None
            }
            _ => None,
        }
    }

    fn print_rows(&mut self, req: &Request, rows: &[Row]) -> Flow {
        let tag = req.tag.as_deref();
        let fault = self.nas.take_fault(FaultPoint::OtherPrint);
        if let Some(flow) = self.print_fault(fault, tag) {
            return flow;
        }
        let query = match Query::parse(req.query.iter().map(String::as_str)) {
            Ok(q) => q,
            Err(e) => {
                self.trap(tag, Some(1), &e.0);
                return Flow::Continue;
            }
        };
        let proplist = req.proplist();
        let matching = rows.iter().filter(|row| {
            query.matches(|k| {
                row.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| Cow::Borrowed(v.as_str()))
            })
        });
        if req.count_only() {
            let n = matching.count().to_string();
            self.done(tag, Some(&n));
            return Flow::Continue;
        }
        let mut any = false;
        for row in matching {
            any = true;
            self.sentence("!re", tag, &[]);
            match &proplist {
                Some(names) => {
                    for name in names {
                        if let Some((k, v)) = row.iter().find(|(k, _)| k == name) {
                            encode_attribute(k, v.as_bytes(), &mut self.out);
                        }
                    }
                }
                None => {
                    for (k, v) in row {
                        encode_attribute(k, v.as_bytes(), &mut self.out);
                    }
                }
            }
            self.end();
        }
        if !any && self.nas.sends_empty {
            self.sentence("!empty", tag, &[]);
            self.end();
        }
        self.done(tag, None);
        Flow::Continue
    }

    /// The IPv6 connection table: small (a share of the dual-stack
    /// households' connections), so written in one go; no query or faults.
    fn print_ipv6_connections(&mut self, req: &Request) -> Flow {
        let tag = req.tag.as_deref();
        let form = self
            .nas
            .settings
            .router
            .ipv6
            .unwrap_or(crate::Ipv6Form::Bracketed);
        // A query would be answered by a router; the simulator does not
        // model queries on this table, and says so instead of ignoring one.
        if !req.query.is_empty() {
            self.trap(
                tag,
                Some(1),
                "simulator: queries on /ipv6/firewall/connection are not modelled",
            );
            return Flow::Continue;
        }
        if req.count_only() {
            let n = self.nas.ipv6_connection_count().to_string();
            self.done(tag, Some(&n));
            return Flow::Continue;
        }
        let proplist = req.proplist();
        let n = self
            .nas
            .write_ipv6_connections(form, proplist.as_deref(), tag, &mut self.out);
        if n == 0 && self.nas.sends_empty {
            self.sentence("!empty", tag, &[]);
            self.end();
        }
        self.done(tag, None);
        Flow::Continue
    }

    async fn print_connections(&mut self, req: &Request) -> io::Result<Flow> {
        let tag = req.tag.as_deref();
        // A count streams no rows: the faults armed for the row stream
        // wait for the print that streams them.
        let fault = self.nas.take_fault(if req.count_only() {
            FaultPoint::ConnectionCount
        } else {
            FaultPoint::ConnectionPrint
        });
        if let Some(flow) = self.print_fault(fault, tag) {
            return Ok(flow);
        }
        let query = match Query::parse(req.query.iter().map(String::as_str)) {
            Ok(q) => q,
            Err(e) => {
                self.trap(tag, Some(1), &e.0);
                return Ok(Flow::Continue);
            }
        };
        if fault == Fault::OversizedWord {
            self.sentence("!re", tag, &[]);
            length::encode(OVERSIZED_WORD, &mut self.out);
            self.out.extend_from_slice(b"=comment=");
            self.out.resize(self.out.len() + 64 * 1024, b'x');
            return Ok(Flow::Hold);
        }
        let proplist = req.proplist();
        let mut print = ConnPrint::new(Arc::clone(&self.nas), proplist.as_deref(), query, tag);
        if req.count_only() {
            let n = print.count().to_string();
            self.done(tag, Some(&n));
            return Ok(Flow::Continue);
        }
        let limit = match fault {
            Fault::StallAfterRows(n) | Fault::CloseAfterRows(n) | Fault::GarbageAfterRows(n) => n,
            _ => usize::MAX,
        };
        let mut sent = 0usize;
        let started = tokio::time::Instant::now();
        loop {
            let (rows, finished) = print.fill(&mut self.out, CHUNK, limit - sent);
            sent += rows;
            self.flush().await?;
            // A slow router: the next chunk waits until the rate allows it.
            let rate = self
                .nas
                .rows_per_second
                .load(std::sync::atomic::Ordering::Relaxed);
            if rate > 0 {
                let due =
                    started + std::time::Duration::from_secs_f64(sent as f64 / f64::from(rate));
                tokio::time::sleep_until(due).await;
            }
            if sent >= limit {
                return Ok(match fault {
                    Fault::StallAfterRows(_) => Flow::Hold,
                    Fault::GarbageAfterRows(_) => {
                        self.out.push(0xF8);
                        self.out.extend_from_slice(b"\x00\xff\x13garbage\xfe\xfd");
                        Flow::Close
                    }
                    _ => Flow::Close,
                });
            }
            if finished {
                break;
            }
            if let Some(cancel_tag) = self.poll_cancel(tag) {
                self.sentence(
                    "!trap",
                    tag,
                    &[("category", "2"), ("message", "interrupted")],
                );
                self.end();
                self.done(tag, None);
                self.done(cancel_tag.as_deref(), None);
                return Ok(Flow::Continue);
            }
        }
        if sent == 0 && self.nas.sends_empty {
            self.sentence("!empty", tag, &[]);
            self.end();
        }
        self.done(tag, None);
        Ok(Flow::Continue)
    }

    /// Looks at requests that arrived during a print. Returns the tag of a
    /// `/cancel` aimed at the running command; other requests are queued.
    fn poll_cancel(&mut self, running: Option<&str>) -> Option<Option<String>> {
        loop {
            match self.rx.try_recv() {
                Ok(Incoming::Sentence(s)) => {
                    if let Ok(req) = parse_request(&s) {
                        if req.path == "/cancel" {
                            let target = req.attr("tag");
                            if target.is_none() || target == running {
                                return Some(req.tag);
                            }
                        }
                    }
                    self.pending.push_back(Incoming::Sentence(s));
                }
                Ok(other) => {
                    self.pending.push_back(other);
                    return None;
                }
                Err(_) => return None,
            }
        }
    }
}

//! Reading a NAS's tables: one streaming pass each, aggregated per subscriber.
//!
//! RouterOS stores connection addresses as `ip:port`, so it cannot filter the
//! connection table by subscriber: the whole table is read once with a tight
//! `.proplist` and counted here. Rows are consumed as they arrive; nothing but
//! the per-subscriber tallies is kept.

use std::net::Ipv4Addr;

use routeros_client::{Client, Command, Error, QueryOp, SentenceRef};
use rustc_hash::FxHashMap;
use shareguard_detect::Access;

use crate::p2p::looks_p2p;
use crate::probes::{address_list_query, ttl_from_label};
use crate::router_clock::{parse_datetime, RouterSecs};

/// One online subscriber as the NAS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub subscriber: String,
    pub address: Ipv4Addr,
    /// Calling-Station-Id / MAC, when the NAS reports it.
    pub mac: Option<String>,
    pub session_id: Option<String>,
    /// How long the session has been up, when the NAS says.
    pub uptime_ms: Option<u64>,
}

fn session_keys(access: Access) -> (&'static str, &'static str) {
    match access {
        Access::Pppoe => ("name", "caller-id"),
        Access::Hotspot => ("user", "mac-address"),
    }
}

/// The session print a scan sends: all sessions, or one subscriber's
/// (filtered on the router).
pub fn sessions_print(access: Access, only: Option<&str>) -> Command {
    let path = match access {
        Access::Pppoe => "/ppp/active/print",
        Access::Hotspot => "/ip/hotspot/active/print",
    };
    let (user_key, mac_key) = session_keys(access);
    let cmd = Command::new(path).proplist(&[user_key, "address", mac_key, "session-id", "uptime"]);
    match only {
        Some(name) => cmd.query(QueryOp::Eq(user_key.into(), name.into())),
        None => cmd,
    }
}

/// Which optional fields a connection-table pass reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionFields {
    /// The probe mark (connection-mark TTL probes).
    pub marks: bool,
    /// The `.id`, so the abuse monitor can tell new connections from old.
    pub ids: bool,
}

/// The connection-table print: the fewest fields that still give the
/// subscriber, the peer port for the P2P heuristic, and what `fields` adds.
pub fn connections_print(fields: ConnectionFields) -> Command {
    connections_print_of("/ip/firewall/connection", fields)
}

/// [`connections_print`] of a connection menu (IPv4's or IPv6's).
pub(crate) fn connections_print_of(menu: &str, fields: ConnectionFields) -> Command {
    let mut names = vec!["src-address", "dst-address", "protocol"];
    if fields.marks {
        names.push("connection-mark");
    }
    if fields.ids {
        names.push(".id");
    }
    Command::new(format!("{menu}/print")).proplist(&names)
}

/// How many rows the connection table holds (`count-only`: the router
/// counts, nothing is sent); `None` from a router that cannot say, which
/// then gets its budget only.
pub async fn count_connections(client: &mut Client) -> Result<Option<u64>, Error> {
    let count = Command::new("/ip/firewall/connection/print").attr("count-only", "");
    match client.execute(count).await {
        Ok(n) => Ok(n.and_then(|n| n.trim().parse::<u64>().ok())),
        Err(e) if e.kind() == "trap" => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the online sessions (`/ppp/active` or `/ip/hotspot/active`), all or
/// just `only`'s (filtered on the router).
pub async fn read_sessions(
    client: &mut Client,
    access: Access,
    only: Option<&str>,
) -> Result<Vec<Session>, Error> {
    let (user_key, mac_key) = session_keys(access);
    let cmd = sessions_print(access, only);
    let mut rows = client.stream(cmd).await?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().await? {
        let Some(address) = r.get("address").and_then(parse_ipv4) else {
            // Sessions without an IPv4 address (still negotiating, IPv6 only)
            // have no connections to judge.
            continue;
        };
        let opt = |k: &str| {
            r.get_str(k)
                .map(|s| s.into_owned())
                .filter(|s| !s.is_empty())
        };
        let Some(subscriber) = opt(user_key) else {
            continue;
        };
        out.push(Session {
            subscriber,
            address,
            mac: opt(mac_key),
            session_id: opt("session-id"),
            uptime_ms: opt("uptime").and_then(|u| crate::monitor::parse_ros_duration_ms(&u)),
        });
    }
    Ok(out)
}

/// What was counted for one subscriber address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub connections: u32,
    pub p2p: u32,
    /// Connections whose `.id` the previous snapshot did not have (only when
    /// ids are tracked).
    pub new_connections: u32,
    /// Observations per TTL, as (ttl, count), few entries.
    pub ttl: Vec<(u8, u32)>,
    /// Marked connections that are the subscriber's router talking itself
    /// (see [`is_router_own`]), per TTL: kept apart from `ttl`.
    pub own: Vec<(u8, u32)>,
}

/// Whether a marked connection is a home router's own: DNS, NTP or TR-069
/// (CWMP) sent at an OS's initial TTL. A home router forwards the
/// household's DNS and keeps its own clock and ACS session, all from itself,
/// so these arrive untouched whatever the devices behind it are; the same
/// services from a device behind it arrive one lower and stay evidence.
/// Only on PPPoE, where a router is expected: a hotspot phone's DNS is the
/// phone's.
pub fn is_router_own(ttl: u8, proto: &[u8], dst_port: u16) -> bool {
    shareguard_detect::ttl::OS_INITIAL_TTLS.contains(&ttl)
        && match proto {
            b"udp" => matches!(dst_port, 53 | 123),
            b"tcp" => matches!(dst_port, 53 | 7547),
            _ => false,
        }
}

impl Tally {
    /// Adds another session's tally of the same account.
    pub fn add(&mut self, other: Tally) {
        self.connections += other.connections;
        self.p2p += other.p2p;
        self.new_connections += other.new_connections;
        for (ttl, n) in other.ttl {
            self.observe(ttl, n);
        }
        for (ttl, n) in other.own {
            bump(&mut self.own, ttl, n);
        }
    }

    /// Counts one marked connection: as the router's own when `own_traffic`
    /// (a PPPoE line) and [`is_router_own`] says so, else as a device seen
    /// at `ttl`.
    pub(crate) fn observe_marked(
        &mut self,
        ttl: u8,
        proto: &[u8],
        dst_port: u16,
        own_traffic: bool,
    ) {
        if own_traffic && is_router_own(ttl, proto, dst_port) {
            bump(&mut self.own, ttl, 1);
        } else {
            self.observe(ttl, 1);
        }
    }

    pub(crate) fn observe(&mut self, ttl: u8, n: u32) {
        bump(&mut self.ttl, ttl, n);
    }
}

fn bump(counts: &mut Vec<(u8, u32)>, ttl: u8, n: u32) {
    match counts.iter_mut().find(|(t, _)| *t == ttl) {
        Some((_, c)) => *c += n,
        None => counts.push((ttl, n)),
    }
}

/// Subscriber addresses to tally, and their tallies.
#[derive(Debug, Default)]
pub struct Tallies {
    /// Address to tally; looked up once per connection row, hence the fast hasher.
    index: FxHashMap<u32, usize>,
    pub tallies: Vec<Tally>,
    /// How long each session has been up, where the router says: probe
    /// list entries created before a session began belong to whoever held
    /// the address before.
    uptimes_ms: Vec<Option<u64>>,
    /// Set on PPPoE routers: recognise the subscriber's router's own traffic.
    pub own_traffic: bool,
}

impl Tallies {
    /// One tally per session, in session order.
    pub fn for_sessions(sessions: &[Session]) -> Self {
        let mut index = FxHashMap::with_capacity_and_hasher(sessions.len(), Default::default());
        for (i, s) in sessions.iter().enumerate() {
            index.insert(u32::from(s.address), i);
        }
        Self {
            index,
            tallies: vec![Tally::default(); sessions.len()],
            uptimes_ms: sessions.iter().map(|s| s.uptime_ms).collect(),
            own_traffic: false,
        }
    }

    fn get_mut(&mut self, ip: u32) -> Option<&mut Tally> {
        let i = *self.index.get(&ip)?;
        self.tallies.get_mut(i)
    }

    /// Counts a probe-list entry created at `created` (the router's clock
    /// at `now`) as one device seen at `ttl` by session `i`, unless it is
    /// older than the session (one second of slack for the clocks'
    /// rounding): then an earlier holder of the address (or prefix) left
    /// it. True when counted.
    pub(crate) fn count_entry(
        &mut self,
        i: usize,
        ttl: u8,
        created: Option<RouterSecs>,
        now: Option<RouterSecs>,
    ) -> bool {
        let up_s = self
            .uptimes_ms
            .get(i)
            .copied()
            .flatten()
            .map(|u| (u / 1000) as i64);
        let own = match (now, up_s, created) {
            (Some(now), Some(up_s), Some(created)) => created + 1 >= now - up_s,
            _ => true,
        };
        match self.tallies.get_mut(i) {
            Some(t) if own => {
                t.observe(ttl, 1);
                true
            }
            _ => false,
        }
    }
}

/// The connection ids of the previous snapshot and the current one, to count
/// connections opened in between.
///
/// RouterOS ids are opaque (`*1A2B3C`), so "new" means "not in the previous
/// snapshot". Ids are kept as 32-bit hashes in a sorted vector: 4 bytes per
/// connection (10 MB for 2.4 million), and a hash collision can only make a
/// new connection look old, so bursts are never overstated.
#[derive(Debug, Default)]
pub struct ConnectionIds {
    previous: Option<Vec<u32>>,
    current: Vec<u32>,
}

impl ConnectionIds {
    /// True once a snapshot has been taken, so new connections can be counted.
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// Records one subscriber connection; true if it is new since the
    /// previous snapshot (always false on the first).
    pub(crate) fn observe(&mut self, id: &[u8]) -> bool {
        let h = id_hash(id);
        self.current.push(h);
        self.previous
            .as_ref()
            .is_some_and(|p| p.binary_search(&h).is_err())
    }

    /// Makes the snapshot just read the one to compare the next with.
    pub(crate) fn finish(&mut self) {
        let mut done = std::mem::take(&mut self.current);
        done.sort_unstable();
        done.dedup();
        done.shrink_to_fit();
        self.current = Vec::with_capacity(done.len() + done.len() / 8);
        self.previous = Some(done);
    }

    /// Forgets the previous snapshot (after a failed read, whose partial
    /// ids would count every connection as new next time).
    pub fn reset(&mut self) {
        self.previous = None;
        self.current.clear();
    }
}

/// FNV-1a over the id's bytes.
fn id_hash(id: &[u8]) -> u32 {
    id.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Parses `a.b.c.d` from bytes.
pub fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    parse_ipv4_u32(s).map(Ipv4Addr::from)
}

fn parse_ipv4_u32(s: &[u8]) -> Option<u32> {
    let mut out: u32 = 0;
    let mut octet: u32 = 0;
    let mut digits = 0;
    let mut dots = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                octet = octet * 10 + (b - b'0') as u32;
                digits += 1;
                if digits > 3 || octet > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && dots < 3 => {
                out = (out << 8) | octet;
                octet = 0;
                digits = 0;
                dots += 1;
            }
            _ => return None,
        }
    }
    (dots == 3 && digits > 0).then_some((out << 8) | octet)
}

/// `word` without `prefix`, if it starts with it.
#[inline(always)]
fn strip<'a, const N: usize>(word: &'a [u8], prefix: &[u8; N]) -> Option<&'a [u8]> {
    let head: &[u8; N] = word.get(..N)?.try_into().ok()?;
    (head == prefix).then(|| &word[N..])
}

/// The port of `address:port`, without parsing the address.
fn port_of(s: &[u8]) -> Option<u16> {
    let colon = s.iter().rposition(|&b| b == b':')?;
    parse_port(&s[colon + 1..])
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut port: u32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        port = port * 10 + (b - b'0') as u32;
    }
    u16::try_from(port).ok()
}

/// Splits `a.b.c.d:port` (RouterOS's connection address form). ICMP and GRE
/// rows carry the address alone: their port is 0.
pub fn parse_ipv4_port(s: &[u8]) -> Option<(u32, u16)> {
    match s.iter().rposition(|&b| b == b':') {
        Some(colon) => {
            let ip = parse_ipv4_u32(&s[..colon])?;
            parse_port(&s[colon + 1..]).map(|p| (ip, p))
        }
        None => parse_ipv4_u32(s).map(|ip| (ip, 0)),
    }
}

/// What reading the connection table produced, beyond the tallies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionPass {
    /// Rows read (the whole table).
    pub rows: u64,
    /// Rows that belonged to a tallied subscriber.
    pub matched: u64,
}

/// Reads the connection table once, counting each subscriber's connections,
/// peer-to-peer-looking ones, and (with connection-mark probes) marks per TTL.
/// `progress` is called every 16,384 rows with the rows read so far.
pub async fn read_connections(
    client: &mut Client,
    tallies: &mut Tallies,
    with_marks: bool,
    progress: impl FnMut(u64),
) -> Result<ConnectionPass, Error> {
    read_connections_with(client, tallies, with_marks, None, progress).await
}

/// [`read_connections`], also tracking connection ids in `ids` when given.
pub async fn read_connections_with(
    client: &mut Client,
    tallies: &mut Tallies,
    with_marks: bool,
    mut ids: Option<&mut ConnectionIds>,
    mut progress: impl FnMut(u64),
) -> Result<ConnectionPass, Error> {
    let fields = ConnectionFields {
        marks: with_marks,
        ids: ids.is_some(),
    };
    let mut rows = client.stream(connections_print(fields)).await?;
    let mut pass = ConnectionPass::default();
    rows.for_each_row(|r| {
        pass.rows += 1;
        if pass.rows % 16_384 == 0 {
            progress(pass.rows);
        }
        if count_row(r, tallies, with_marks, ids.as_deref_mut()) {
            pass.matched += 1;
        }
    })
    .await?;
    if let Some(ids) = ids {
        ids.finish();
    }
    progress(pass.rows);
    Ok(pass)
}

/// Tallies one connection row; false when it is not a subscriber's.
///
/// This runs for every row of every connection table, so fields are matched
/// by their known word prefixes instead of splitting every word.
fn count_row(
    r: SentenceRef<'_>,
    tallies: &mut Tallies,
    with_marks: bool,
    ids: Option<&mut ConnectionIds>,
) -> bool {
    let (mut src, mut dst, mut proto, mut mark, mut id) = (None, None, None, None, None);
    for w in r.words().skip(1) {
        // Dispatch on the key's first letter, then compare the whole prefix
        // as a fixed-size array (no library call per word).
        match w.get(1) {
            Some(b's') => src = src.or_else(|| strip::<13>(w, b"=src-address=")),
            Some(b'd') => dst = dst.or_else(|| strip::<13>(w, b"=dst-address=")),
            Some(b'p') => proto = proto.or_else(|| strip::<10>(w, b"=protocol=")),
            Some(b'c') => mark = mark.or_else(|| strip::<17>(w, b"=connection-mark=")),
            Some(b'.') => id = id.or_else(|| strip::<5>(w, b"=.id=")),
            _ => {}
        }
    }
    let Some((ip, src_port)) = src.and_then(parse_ipv4_port) else {
        return false;
    };
    let own_traffic = tallies.own_traffic;
    let Some(t) = tallies.get_mut(ip) else {
        return false;
    };
    t.connections += 1;
    if let (Some(ids), Some(id)) = (ids, id) {
        if ids.observe(id) {
            t.new_connections += 1;
        }
    }
    let dst_port = dst.and_then(port_of).unwrap_or(0);
    if looks_p2p(proto.unwrap_or(b""), src_port, dst_port) {
        t.p2p += 1;
    }
    if with_marks {
        if let Some(ttl) = mark.and_then(ttl_from_label) {
            t.observe_marked(ttl, proto.unwrap_or(b""), dst_port, own_traffic);
        }
    }
    true
}

/// Reads the probes' address lists (filtered on the router) into the tallies:
/// one observation per (address, TTL). Entries older than the session that
/// holds their address now were left by an earlier holder (pool addresses
/// move on a redial) and are left out, judged by the router's own clock.
pub async fn read_address_lists(
    client: &mut Client,
    tallies: &mut Tallies,
    only: Option<Ipv4Addr>,
) -> Result<u64, Error> {
    let now = crate::router_clock::read_clock(client).await?;
    let mut cmd = address_list_query(Command::new("/ip/firewall/address-list/print").proplist(&[
        "list",
        "address",
        "creation-time",
    ]));
    if let Some(ip) = only {
        cmd = cmd
            .query(QueryOp::Eq("address".into(), ip.to_string()))
            .query(QueryOp::And);
    }
    let mut rows = client.stream(cmd).await?;
    let mut n = 0;
    while let Some(r) = rows.next().await? {
        let (Some(list), Some(addr)) = (r.get("list"), r.get("address")) else {
            continue;
        };
        let (Some(ttl), Some(ip)) = (ttl_from_label(list), parse_ipv4_u32(addr)) else {
            continue;
        };
        let Some(&i) = tallies.index.get(&ip) else {
            continue;
        };
        let created = r.get_str("creation-time").and_then(|c| parse_datetime(&c));
        if tallies.count_entry(i, ttl, created, now) {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_count_only_what_the_previous_snapshot_lacked() {
        let mut ids = ConnectionIds::default();
        assert!(!ids.observe(b"*1") && !ids.observe(b"*2"));
        ids.finish();
        assert!(ids.has_previous());
        assert!(!ids.observe(b"*2"));
        assert!(ids.observe(b"*3"));
        ids.finish();
        assert!(ids.observe(b"*1"), "*1 was gone in the last snapshot");
        ids.reset();
        assert!(!ids.has_previous() && !ids.observe(b"*9"));
    }

    #[test]
    fn addresses_parse_strictly() {
        assert_eq!(parse_ipv4(b"10.1.2.3"), Some(Ipv4Addr::new(10, 1, 2, 3)));
        assert_eq!(parse_ipv4_port(b"10.1.2.3:443"), Some((0x0A01_0203, 443)));
        // ICMP and GRE rows have no ports.
        assert_eq!(parse_ipv4_port(b"10.1.2.3"), Some((0x0A01_0203, 0)));
        for bad in [
            &b"10.1.2"[..],
            b"10.1.2.256",
            b"1.2.3.4.5",
            b"a.b.c.d",
            b"",
            b"10..2.3",
            b"1.2.3.4:x",
        ] {
            assert_eq!(
                parse_ipv4_port(bad).map(|x| x.0),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

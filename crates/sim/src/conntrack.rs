//! `/ip/firewall/connection/print`, generated on the fly.
//!
//! A print walks the online subscribers' slots, derives each slot's current
//! connection from the clock, applies the compiled mangle chain, and writes
//! the row straight into the output buffer. Nothing is materialized, so a
//! print of a few hundred thousand rows costs one buffer of about a chunk.
//!
//! After a subscriber's slots come its injected extra connections
//! ([`crate::load`]), generated and marked the same way. Banned subscribers
//! ([`crate::bans`]) have no rows. Both are decided once per print by a
//! [`ConnView`], so a row costs no more than before.

use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use routeros_proto::sentence::{encode_attribute, encode_word};

use crate::clock::{connection_id, current, generation_at};
use crate::fmt::{push_duration, push_id, push_ip, push_sockaddr, push_u64};
use crate::load::{ConnView, Extra};
use crate::nas::NasState;
use crate::population::{splitmix, Access, Proto, SimSubscriber};
use crate::query::Query;
use crate::rules::{Compiled, ConnCtx};

/// The fields of a connection row, in the order a router prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    Protocol,
    SrcAddress,
    DstAddress,
    ReplySrcAddress,
    ReplyDstAddress,
    TcpState,
    Timeout,
    OrigBytes,
    ReplBytes,
    ConnectionMark,
}

impl Field {
    const ALL: [Self; 11] = [
        Self::Id,
        Self::Protocol,
        Self::SrcAddress,
        Self::DstAddress,
        Self::ReplySrcAddress,
        Self::ReplyDstAddress,
        Self::TcpState,
        Self::Timeout,
        Self::OrigBytes,
        Self::ReplBytes,
        Self::ConnectionMark,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Id => ".id",
            Self::Protocol => "protocol",
            Self::SrcAddress => "src-address",
            Self::DstAddress => "dst-address",
            Self::ReplySrcAddress => "reply-src-address",
            Self::ReplyDstAddress => "reply-dst-address",
            Self::TcpState => "tcp-state",
            Self::Timeout => "timeout",
            Self::OrigBytes => "orig-bytes",
            Self::ReplBytes => "repl-bytes",
            Self::ConnectionMark => "connection-mark",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == s)
    }
}

/// One connection as it is at the moment of the print.
struct ConnRow<'a> {
    src: Ipv4Addr,
    src_port: u16,
    proto: Proto,
    dst: SocketAddrV4,
    start_ms: u64,
    id: u64,
    mark: Option<&'a str>,
    now: u64,
}

impl ConnRow<'_> {
    /// Writes the field's value; false if this row lacks the field.
    #[inline]
    fn write(&self, f: Field, out: &mut Vec<u8>) -> bool {
        match f {
            Field::Id => push_id(out, self.id),
            Field::Protocol => out.extend_from_slice(self.proto.as_str().as_bytes()),
            // ICMP and GRE rows carry addresses without ports.
            Field::SrcAddress | Field::ReplyDstAddress if !self.proto.has_ports() => {
                push_ip(out, self.src)
            }
            Field::DstAddress | Field::ReplySrcAddress if !self.proto.has_ports() => {
                push_ip(out, *self.dst.ip())
            }
            Field::SrcAddress | Field::ReplyDstAddress => {
                push_sockaddr(out, self.src, self.src_port)
            }
            Field::DstAddress | Field::ReplySrcAddress => {
                push_sockaddr(out, *self.dst.ip(), self.dst.port())
            }
            Field::TcpState => {
                if self.proto != Proto::Tcp {
                    return false;
                }
                out.extend_from_slice(b"established");
            }
            Field::Timeout => {
                // The timer restarts with every packet, so a busy connection
                // always shows close to the full timeout.
                let full = match self.proto {
                    Proto::Tcp => 86_400_000,
                    Proto::Udp | Proto::Gre => 180_000,
                    Proto::Icmp => 10_000,
                };
                let jitter = splitmix(self.id) % (full / 3).min(30_000);
                push_duration(out, full - jitter);
            }
            Field::OrigBytes | Field::ReplBytes => {
                let age_s = self.now.saturating_sub(self.start_ms) / 1000;
                let h = splitmix(self.id ^ 0xB7E5);
                let v = if f == Field::OrigBytes {
                    120 + age_s * (100 + h % 4_000)
                } else {
                    300 + age_s * (200 + (h >> 20) % 40_000)
                };
                push_u64(out, v);
            }
            Field::ConnectionMark => match self.mark {
                Some(m) => out.extend_from_slice(m.as_bytes()),
                None => return false,
            },
        }
        true
    }

    fn value(&self, f: Field) -> Option<String> {
        let mut v = Vec::new();
        self.write(f, &mut v)
            .then(|| String::from_utf8_lossy(&v).into_owned())
    }
}

/// An in-progress connection print.
pub(crate) struct ConnPrint {
    nas: Arc<NasState>,
    compiled: Arc<Compiled>,
    view: ConnView,
    now: u64,
    epoch: u64,
    fields: Vec<Field>,
    query: Query,
    tag_word: Option<Vec<u8>>,
    local: usize,
    slot: usize,
    /// Past the subscribers: the accounts' further sessions (taken once
    /// per print), the one being printed and its next slot.
    extra_sessions: Vec<crate::nas::ExtraSession>,
    extra_session: usize,
    extra_slot: usize,
    /// Then the next of the router's uplink connections.
    uplink: u64,
    scratch: Vec<u8>,
}

impl ConnPrint {
    /// Fixes the moment and the rule set for the whole print, as a router's
    /// snapshot of the table would.
    pub fn new(
        nas: Arc<NasState>,
        proplist: Option<&[String]>,
        query: Query,
        tag: Option<&str>,
    ) -> Self {
        let fields = match proplist {
            Some(names) => names.iter().filter_map(|n| Field::parse(n)).collect(),
            None => Field::ALL.to_vec(),
        };
        let now = nas.now_ms();
        let extra_sessions = nas.extra_sessions();
        Self {
            compiled: nas.compiled(),
            view: nas.conn_view(now),
            now,
            epoch: nas.clock.epoch_ms(),
            nas,
            fields,
            query,
            tag_word: tag.map(|t| format!(".tag={t}").into_bytes()),
            local: 0,
            slot: 0,
            extra_sessions,
            extra_session: 0,
            extra_slot: 0,
            uplink: 0,
            scratch: Vec::with_capacity(64),
        }
    }

    /// Appends rows until `out` holds at least `budget` bytes or `max_rows`
    /// rows were added. Returns the rows added and whether the table is done.
    pub fn fill(&mut self, out: &mut Vec<u8>, budget: usize, max_rows: usize) -> (usize, bool) {
        let nas = Arc::clone(&self.nas);
        let compiled = Arc::clone(&self.compiled);
        let mut rows = 0;
        while self.local < nas.count {
            if !self.view.visible(self.local) {
                self.local += 1;
                self.slot = 0;
                continue;
            }
            let sub = nas.sub(self.local);
            let extra = self.view.extra(self.local).copied();
            let total = sub.slots.len() + extra.map_or(0, |e| e.count as usize);
            let dual_stack = nas.dual_stack(self.local);
            while self.slot < total {
                if rows >= max_rows || out.len() >= budget {
                    return (rows, false);
                }
                let k = self.slot;
                self.slot += 1;
                // Connections over IPv6 are in the IPv6 table.
                if sub
                    .slots
                    .get(k)
                    .is_some_and(|s| crate::ipv6::is_v6(dual_stack, k, s))
                    || self.quiet(&nas, self.local, k)
                {
                    continue;
                }
                let row = self.row(&nas, &compiled, sub, extra.as_ref(), k);
                if self.emit(&row, out) {
                    rows += 1;
                }
            }
            self.local += 1;
            self.slot = 0;
        }
        while self.extra_session < self.extra_sessions.len() {
            let e = self.extra_sessions[self.extra_session].clone();
            let sub = nas.sub(e.local);
            while self.extra_slot < sub.slots.len() {
                if rows >= max_rows || out.len() >= budget {
                    return (rows, false);
                }
                let k = self.extra_slot;
                self.extra_slot += 1;
                if self.quiet(&nas, e.local, k) {
                    continue;
                }
                let row = self.extra_session_row(&nas, &compiled, &e, self.extra_session, k);
                if self.emit(&row, out) {
                    rows += 1;
                }
            }
            self.extra_session += 1;
            self.extra_slot = 0;
        }
        while self.uplink < crate::uplink::COUNT {
            if rows >= max_rows || out.len() >= budget {
                return (rows, false);
            }
            let c = crate::uplink::conn(nas.index, self.uplink, self.now);
            self.uplink += 1;
            if self.emit(&uplink_row(&compiled, &c, self.now), out) {
                rows += 1;
            }
        }
        (rows, true)
    }

    /// Writes `row` when it matches the query; false when it does not.
    fn emit(&mut self, row: &ConnRow<'_>, out: &mut Vec<u8>) -> bool {
        if !self.wants(row) {
            return false;
        }
        encode_word(b"!re", out);
        if let Some(t) = &self.tag_word {
            encode_word(t, out);
        }
        for &f in &self.fields {
            self.scratch.clear();
            if row.write(f, &mut self.scratch) {
                encode_attribute(f.name(), &self.scratch, out);
            }
        }
        out.push(0);
        true
    }

    /// Counts the matching rows (for `count-only`).
    pub fn count(&mut self) -> usize {
        let nas = Arc::clone(&self.nas);
        let compiled = Arc::clone(&self.compiled);
        let mut n = 0;
        for local in 0..nas.count {
            if !self.view.visible(local) {
                continue;
            }
            let sub = nas.sub(local);
            let extra = self.view.extra(local).copied();
            let total = sub.slots.len() + extra.map_or(0, |e| e.count as usize);
            let dual_stack = nas.dual_stack(local);
            let (evening, now) = (self.view.evening().copied(), self.now);
            let v6 = |k: usize| {
                sub.slots
                    .get(k)
                    .is_some_and(|s| crate::ipv6::is_v6(dual_stack, k, s))
                    || quiet(evening.as_ref(), now, &nas, local, k)
            };
            if self.query.is_empty() {
                n += (0..total).filter(|&k| !v6(k)).count();
                continue;
            }
            self.local = local;
            for k in (0..total).filter(|&k| !v6(k)) {
                let row = self.row(&nas, &compiled, sub, extra.as_ref(), k);
                n += usize::from(self.wants(&row));
            }
        }
        for (nth, e) in self.extra_sessions.iter().enumerate() {
            for k in 0..nas.sub(e.local).slots.len() {
                if self.quiet(&nas, e.local, k) {
                    continue;
                }
                let row = self.extra_session_row(&nas, &compiled, e, nth, k);
                n += usize::from(self.wants(&row));
            }
        }
        for c in crate::uplink::conns(nas.index, self.now) {
            n += usize::from(self.wants(&uplink_row(&compiled, &c, self.now)));
        }
        n
    }

    /// Whether slot `k` of subscriber `local` is out of the table because
    /// its household has not come home yet (see [`crate::evening`]).
    #[inline]
    fn quiet(&self, nas: &NasState, local: usize, k: usize) -> bool {
        quiet(self.view.evening(), self.now, nas, local, k)
    }

    /// Whether the print's query asks for `row`.
    fn wants(&self, row: &ConnRow<'_>) -> bool {
        self.query.is_empty()
            || self.query.matches(|name| {
                Field::parse(name)
                    .and_then(|f| row.value(f))
                    .map(Cow::Owned)
            })
    }

    /// Connection `k` of the `nth` further session: the account's slot `k`,
    /// from that session's address and with an id of its own.
    fn extra_session_row<'a>(
        &self,
        nas: &NasState,
        compiled: &'a Compiled,
        e: &crate::nas::ExtraSession,
        nth: usize,
        k: usize,
    ) -> ConnRow<'a> {
        let sub = nas.sub(e.local);
        let slot = &sub.slots[k];
        let conn = current(slot, nas.first + e.local, k, self.now);
        let base = connection_id(
            nas.slot_base[e.local] + k as u64,
            nas.total_slots,
            conn.generation
                .saturating_sub(generation_at(slot, self.epoch)),
        );
        ConnRow {
            src: e.address,
            src_port: conn.src_port,
            proto: slot.protocol,
            dst: slot.dst,
            start_ms: conn.start_ms,
            id: crate::nas::EXTRA_SESSION_ID_BASE + base * 8 + nth as u64 % 8,
            mark: mark(compiled, slot.seen_ttl, || {
                nas.ctx(e.local, e.address, slot, conn.start_ms, conn.src_port)
            }),
            now: self.now,
        }
    }

    /// Row `k` of the current subscriber: a slot, or past the slots one of
    /// its extra connections.
    #[inline]
    fn row<'a>(
        &self,
        nas: &NasState,
        compiled: &'a Compiled,
        sub: &SimSubscriber,
        extra: Option<&Extra>,
        k: usize,
    ) -> ConnRow<'a> {
        if let Some(slot) = sub.slots.get(k) {
            let conn = current(slot, nas.first + self.local, k, self.now);
            return ConnRow {
                src: self.view.address(self.local),
                src_port: conn.src_port,
                proto: slot.protocol,
                dst: slot.dst,
                start_ms: conn.start_ms,
                id: connection_id(
                    nas.slot_base[self.local] + k as u64,
                    nas.total_slots,
                    conn.generation
                        .saturating_sub(generation_at(slot, self.epoch)),
                ),
                mark: mark(compiled, slot.seen_ttl, || {
                    nas.ctx(
                        self.local,
                        self.view.address(self.local),
                        slot,
                        conn.start_ms,
                        conn.src_port,
                    )
                }),
                now: self.now,
            };
        }
        let e = extra.expect("row index within slots and extra connections");
        let conn = e.conn((k - sub.slots.len()) as u32, self.now);
        let pppoe = nas.access == Access::Pppoe;
        ConnRow {
            src: self.view.address(self.local),
            src_port: conn.src_port,
            proto: conn.proto,
            dst: conn.dst,
            start_ms: conn.start_ms,
            id: conn.id,
            mark: mark(compiled, e.ttl, || {
                e.ctx(&conn, self.local, pppoe, self.view.address(self.local))
            }),
            now: self.now,
        }
    }
}

/// The row of an uplink connection.
fn uplink_row<'a>(compiled: &'a Compiled, c: &crate::uplink::UplinkConn, now: u64) -> ConnRow<'a> {
    ConnRow {
        src: c.src,
        src_port: c.sport,
        proto: Proto::Tcp,
        dst: c.dst,
        start_ms: c.start_ms,
        id: c.id,
        mark: mark(compiled, c.ttl, || c.ctx()),
        now,
    }
}

/// The connection mark the mangle chain gives a new connection; the context
/// is built only when some rule can match the TTL (rarely, outside a scan).
#[inline]
fn mark(compiled: &Compiled, ttl: u8, ctx: impl FnOnce() -> ConnCtx) -> Option<&str> {
    if compiled.idle_for(ttl) {
        return None;
    }
    compiled
        .walk(&ctx(), |_, _| {})
        .map(|m| compiled.mark_name(m))
}

/// Whether slot `k` of subscriber `local` is out of the table at `now`
/// because its household has not come home yet (see [`crate::evening`]);
/// indexes past the slots (injected connections) never are.
#[inline]
fn quiet(
    evening: Option<&crate::evening::Evening>,
    now: u64,
    nas: &NasState,
    local: usize,
    k: usize,
) -> bool {
    evening.is_some() && k < nas.sub(local).slots.len() && !nas.slot_live_at(evening, local, k, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;
    use crate::nas::{Menu, NasSettings};
    use crate::population::{generate, Access, NasSpec, PopulationSpec};
    use std::time::{Duration, Instant};

    /// The simulator's own cost of a 300k-row print, without any socket.
    /// Prints the figure; run with `--release` to see the production number.
    #[test]
    fn generating_300k_rows_with_probe_rules() {
        let spec = PopulationSpec {
            seed: 9,
            subscribers: 2500,
            nas: vec![NasSpec {
                name: "big".into(),
                access: Access::Pppoe,
            }],
            ..PopulationSpec::demo()
        }
        .with_target_connections(300_000);
        let pop = Arc::new(generate(&spec));
        let clock = Arc::new(SimClock::with_epoch(1_750_000_000_000, 0.0));
        let nas = Arc::new(NasState::new(
            0,
            pop,
            Arc::clone(&clock),
            NasSettings {
                username: "admin".into(),
                password: "admin".into(),
                ros_version: "7.18.2".into(),
                router: crate::RouterModel::default(),
            },
        ));
        // 25 probe rules, as a scan installs.
        for t in (57..=66).chain(122..=130).chain(250..=255u8) {
            let attrs: Vec<(String, String)> = [
                ("chain", "prerouting".to_string()),
                ("action", "mark-connection".to_string()),
                ("new-connection-mark", format!("sg-ttl-{t}")),
                ("ttl", format!("equal:{t}")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            nas.table_add(Menu::Mangle, &attrs, None).unwrap();
        }
        clock.advance(Duration::from_secs(901));
        let proplist: Vec<String> = ["src-address", "dst-address", "protocol", "connection-mark"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut out = Vec::with_capacity(CHUNK_FOR_TEST + 4096);
        let started = Instant::now();
        let mut print = ConnPrint::new(
            Arc::clone(&nas),
            Some(&proplist),
            Query::default(),
            Some("1"),
        );
        let (mut rows, mut bytes) = (0, 0);
        loop {
            let (n, done) = print.fill(&mut out, CHUNK_FOR_TEST, usize::MAX);
            rows += n;
            bytes += out.len();
            out.clear();
            if done {
                break;
            }
        }
        let elapsed = started.elapsed();
        println!("generated {rows} connection rows ({bytes} bytes) in {elapsed:?}");
        assert_eq!(rows, nas.connection_count());
        assert!(rows > 290_000);
    }

    const CHUNK_FOR_TEST: usize = 64 * 1024;

    #[test]
    fn proplist_fields_and_order() {
        let pop = Arc::new(generate(&PopulationSpec::demo()));
        let clock = Arc::new(SimClock::with_epoch(1_750_000_000_000, 0.0));
        let nas = Arc::new(NasState::new(
            0,
            pop,
            clock,
            NasSettings {
                username: "a".into(),
                password: "b".into(),
                ros_version: "7.18.2".into(),
                router: crate::RouterModel::default(),
            },
        ));
        let proplist = vec![
            "protocol".to_string(),
            ".id".to_string(),
            "bogus".to_string(),
        ];
        let mut print = ConnPrint::new(Arc::clone(&nas), Some(&proplist), Query::default(), None);
        let mut out = Vec::new();
        let (n, _) = print.fill(&mut out, 1, 1);
        assert_eq!(n, 1);
        let mut dec = routeros_proto::Decoder::default();
        dec.feed(&out);
        let s = dec.next_sentence().unwrap().unwrap();
        let words: Vec<String> = s
            .words()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(words[0], "!re");
        assert!(words[1].starts_with("=protocol="));
        assert!(words[2].starts_with("=.id=*"));
        assert_eq!(words.len(), 3);
    }
}

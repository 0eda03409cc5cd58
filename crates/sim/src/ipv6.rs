//! IPv6 on the simulated PPPoE routers: delegated prefixes and the IPv6
//! connection table.
//!
//! A third of the subscribers are dual-stack (chosen by a hash of the
//! subscriber, so the same ones every run): each PPPoE session gets a
//! delegated /64, shown as a dynamic route through the session's interface
//! in `/ipv6 route`, and some of the household's connections (HTTPS to
//! hosts that have IPv6, every eighth slot) run over IPv6. Those sit in
//! `/ipv6 firewall connection` and not in the IPv4 table, so a scanner that
//! reads only IPv4 misses them.
//!
//! How RouterOS prints an IPv6 address with its port in the connection
//! table is not documented: `[2001:db8::1]:443` and `2001:db8::1.443` are
//! both modelled ([`crate::Ipv6Form`]); the first is assumed.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use routeros_proto::sentence::{encode_attribute, encode_word};

use crate::clock::current;
use crate::fmt::{datetime_string, duration_string, id_string};
use crate::nas::{NasState, Row};
use crate::population::{splitmix, Slot};
use crate::Ipv6Form;

/// Whether subscriber `global` is dual-stack.
pub fn dual_stack(global: usize) -> bool {
    splitmix(0x0001_F6F6 ^ global as u64) % 3 == 0
}

/// Whether slot `k` of a dual-stack household runs over IPv6.
#[inline]
pub fn is_v6(dual_stack: bool, k: usize, slot: &Slot) -> bool {
    dual_stack && k % 8 == 0 && slot.protocol.has_ports() && slot.dst.port() == 443
}

/// The /64 delegated to subscriber `local` of router `nas` in its
/// `epoch`-th session (each redial may get another prefix).
pub fn prefix(nas: usize, local: usize, epoch: u16) -> Ipv6Addr {
    let third = ((nas + 1) as u16 & 0xFF) | ((epoch & 0xFF) << 8);
    Ipv6Addr::new(0x2001, 0x0db8, third, local as u16, 0, 0, 0, 0)
}

/// A device's address in the subscriber's prefix.
fn device(prefix: Ipv6Addr, k: usize) -> Ipv6Addr {
    let mut s = prefix.segments();
    s[7] = 0x100 + k as u16;
    Ipv6Addr::from(s)
}

/// A host's IPv6 address: its IPv4 address in the NAT64 well-known prefix.
fn host(v4: Ipv4Addr) -> Ipv6Addr {
    let o = v4.octets();
    Ipv6Addr::new(
        0x64,
        0xff9b,
        0,
        0,
        0,
        0,
        u16::from_be_bytes([o[0], o[1]]),
        u16::from_be_bytes([o[2], o[3]]),
    )
}

fn with_port(form: Ipv6Form, a: Ipv6Addr, port: u16) -> String {
    match form {
        Ipv6Form::Bracketed => format!("[{a}]:{port}"),
        Ipv6Form::Dotted => format!("{a}.{port}"),
    }
}

impl NasState {
    /// `/ipv6 route`: a dynamic route per online dual-stack PPPoE session,
    /// its delegated prefix through the session's interface.
    pub fn ipv6_route_rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for local in (0..self.count).filter(|&l| self.is_online(l)) {
            if !self.dual_stack(local) {
                continue;
            }
            let iface = self.session_interface(local);
            rows.push(vec![
                (".id".into(), id_string(0x0050_0000 + local as u64)),
                (
                    "dst-address".into(),
                    format!("{}/64", self.delegated_prefix(local)),
                ),
                ("gateway".into(), iface.clone()),
                ("immediate-gw".into(), iface),
                ("distance".into(), "1".into()),
                ("dynamic".into(), "true".into()),
                ("active".into(), "true".into()),
                ("disabled".into(), "false".into()),
            ]);
        }
        rows
    }

    /// The IPv6 connections in the table now, per session: those of the
    /// online dual-stack sessions, less what `/ipv6 firewall filter` stops
    /// (a ban on the delegated prefix that reaches the session's
    /// connections; a per-/64 `connection-limit` cap), in slot order.
    fn ipv6_conns(&self, now: u64) -> Vec<V6Conn<'_>> {
        let (bans, caps) = self.ipv6_limits(now);
        let fresh = self.ipv6_fresh_since();
        let evening = self.evening();
        let mut out = Vec::new();
        for local in (0..self.count).filter(|&l| self.is_online(l)) {
            if !self.dual_stack(local) {
                continue;
            }
            let p = self.delegated_prefix(local);
            if bans.until(p, fresh.get(local).copied().flatten()) > now {
                continue;
            }
            let cap = caps
                .cap(p)
                .filter(|(_, until)| *until > now)
                .map_or(usize::MAX, |(n, _)| n as usize);
            let global = self.first + local;
            out.extend(
                self.live_slots(evening, local, now)
                    .filter(|(k, slot)| is_v6(true, *k, slot))
                    .take(cap)
                    .map(|(k, slot)| V6Conn {
                        local,
                        k,
                        slot,
                        prefix: p,
                        conn: current(slot, global, k, now),
                    }),
            );
        }
        out
    }

    /// The IPv6 connections of the online dual-stack sessions, each written
    /// as a `!re` sentence with `fields` (`src-address`, `dst-address`,
    /// `protocol`, `connection-mark`, `.id`; all when `None`). Returns the
    /// rows written.
    pub fn write_ipv6_connections(
        &self,
        form: Ipv6Form,
        fields: Option<&[String]>,
        tag: Option<&str>,
        out: &mut Vec<u8>,
    ) -> usize {
        let now = self.now_ms();
        let wants = |f: &str| fields.is_none_or(|l| l.iter().any(|x| x == f));
        let tag_word = tag.map(|t| format!(".tag={t}"));
        let compiled = self.compiled6();
        let marks = wants("connection-mark");
        let conns = self.ipv6_conns(now);
        for c in &conns {
            encode_word(b"!re", out);
            if let Some(t) = &tag_word {
                encode_word(t.as_bytes(), out);
            }
            if wants(".id") {
                encode_attribute(".id", id_string(self.ipv6_connection_id(c)).as_bytes(), out);
            }
            if wants("protocol") {
                encode_attribute("protocol", c.slot.protocol.as_str().as_bytes(), out);
            }
            if wants("src-address") {
                let v = with_port(form, device(c.prefix, c.k), c.conn.src_port);
                encode_attribute("src-address", v.as_bytes(), out);
            }
            if wants("dst-address") {
                let v = with_port(form, host(*c.slot.dst.ip()), c.slot.dst.port());
                encode_attribute("dst-address", v.as_bytes(), out);
            }
            if marks && !compiled.idle_for(c.slot.seen_ttl) {
                if let Some(m) = compiled.walk(&self.ipv6_ctx(c), |_, _| {}) {
                    encode_attribute("connection-mark", compiled.mark_name(m).as_bytes(), out);
                }
            }
            out.push(0);
        }
        conns.len()
    }

    fn ipv6_connection_id(&self, c: &V6Conn<'_>) -> u64 {
        V6_ID_BASE + ((self.slot_base[c.local] + c.k as u64) << 8) + (c.conn.generation & 0xFF)
    }

    /// What the IPv6 mangle chain knows of a connection's first packet. Its
    /// hop limit is the household's TTL (the operating systems start both
    /// at the same value and every router lowers both by one); the
    /// session's IPv4 address stands in for the source, which only a
    /// per-connection classifier would read.
    fn ipv6_ctx(&self, c: &V6Conn<'_>) -> crate::rules::ConnCtx {
        self.ctx(
            c.local,
            self.address(c.local),
            c.slot,
            c.conn.start_ms,
            c.conn.src_port,
        )
    }

    /// How many IPv6 connections the table holds now.
    pub fn ipv6_connection_count(&self) -> usize {
        self.ipv6_conns(self.now_ms()).len()
    }

    /// How many of them are session `local`'s.
    pub fn ipv6_connections_of(&self, local: usize) -> usize {
        self.ipv6_conns(self.now_ms())
            .iter()
            .filter(|c| c.local == local)
            .count()
    }

    /// `/ipv6 firewall connection remove`: the sessions whose connections
    /// are named start afresh, so a ban added before now meets their next
    /// connections at the first packet.
    pub fn remove_ipv6_connections(&self, ids: &[u64]) -> Result<(), String> {
        let mut locals = Vec::with_capacity(ids.len());
        for &id in ids {
            let slot = id
                .checked_sub(V6_ID_BASE)
                .map(|v| v >> 8)
                .ok_or_else(|| "no such item".to_string())?;
            let local = self
                .slot_base
                .partition_point(|&b| b <= slot)
                .checked_sub(1)
                .filter(|&l| l < self.count && self.is_online(l) && self.dual_stack(l))
                .ok_or_else(|| "no such item".to_string())?;
            locals.push(local);
        }
        locals.sort_unstable();
        locals.dedup();
        self.mark_ipv6_flushed(&locals);
        Ok(())
    }

    /// `/ipv6 firewall address-list`: the stored entries, then the dynamic
    /// ones `add-src-to-address-list` rules of the IPv6 mangle chain made
    /// for the connections in the table, one per device address. Written as
    /// `ADDRESS/128` (assumed: an IPv6 list holds prefixes, so a single
    /// address is printed with its length; readers accept both).
    pub fn ipv6_address_list_rows(&self) -> Vec<Row> {
        let mut rows = self.stored_address_rows(crate::nas::Menu::AddressList6);
        let compiled = self.compiled6();
        if !compiled.has_add_src() {
            return rows;
        }
        let now = self.now_ms();
        // (list, device) → (first start, last start, timeout)
        let mut found: BTreeMap<(String, Ipv6Addr), (u64, u64, Option<u64>)> = BTreeMap::new();
        for c in self.ipv6_conns(now) {
            if compiled.idle_for(c.slot.seen_ttl) {
                continue;
            }
            let start = c.conn.start_ms;
            let addr = device(c.prefix, c.k);
            compiled.walk(&self.ipv6_ctx(&c), |list, timeout| {
                if timeout.is_some_and(|t| now.saturating_sub(start) >= t) {
                    return;
                }
                let key = (compiled.list_name(list).to_string(), addr);
                let e = found.entry(key).or_insert((start, start, timeout));
                e.0 = e.0.min(start);
                if start >= e.1 {
                    e.1 = start;
                    e.2 = timeout;
                }
            });
        }
        for ((list, addr), (first, last, timeout)) in found {
            let mut row: Row = vec![
                (
                    ".id".into(),
                    id_string(V6_LIST_ID_BASE + (u128::from(addr) as u64 & 0xFFFF_FFFF)),
                ),
                ("list".into(), list),
                ("address".into(), format!("{addr}/128")),
                ("creation-time".into(), datetime_string(first)),
            ];
            if let Some(t) = timeout {
                let left = t.saturating_sub(now.saturating_sub(last));
                row.push(("timeout".into(), duration_string(left)));
            }
            row.push(("dynamic".into(), "true".into()));
            row.push(("disabled".into(), "false".into()));
            rows.push(row);
        }
        rows
    }
}

/// `.id`s of IPv6 connections and of dynamic IPv6 address-list entries.
const V6_ID_BASE: u64 = 0x0060_0000_0000;
const V6_LIST_ID_BASE: u64 = 0x0070_0000_0000;

/// One IPv6 connection in the table.
struct V6Conn<'a> {
    local: usize,
    k: usize,
    slot: &'a Slot,
    prefix: Ipv6Addr,
    conn: crate::clock::CurrentConn,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_forms() {
        let p = prefix(0, 42, 0);
        assert_eq!(prefix(0, 42, 1).to_string(), "2001:db8:101:2a::");
        assert_eq!(p.to_string(), "2001:db8:1:2a::");
        assert_eq!(device(p, 3).to_string(), "2001:db8:1:2a::103");
        assert_eq!(
            host(Ipv4Addr::new(93, 184, 1, 2)).to_string(),
            "64:ff9b::5db8:102"
        );
        assert_eq!(
            with_port(Ipv6Form::Bracketed, p, 443),
            "[2001:db8:1:2a::]:443"
        );
        assert_eq!(with_port(Ipv6Form::Dotted, p, 443), "2001:db8:1:2a::.443");
        let share = (0..3000).filter(|&g| dual_stack(g)).count();
        assert!((900..1100).contains(&share), "{share}");
    }
}

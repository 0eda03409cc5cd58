//! Abuse load injected into one subscriber: extra connections and heavy
//! bandwidth use on top of what the seeded population does.
//!
//! The population is fixed by its seed (other tests' figures depend on it),
//! so an abuse monitor cannot be tested by finding a suitable household; a
//! test or the demo puts the behaviour on any subscriber instead. Extra
//! connections follow the slot model of [`crate::clock`]: they are not
//! stored, each is a pure function of the load and the time, replaced every
//! `lifetime_s` with a new source port, destination and `.id`.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::population::{splitmix, Proto, RESERVED_P2P_PORTS};
use crate::rules::ConnCtx;

/// What to add to one subscriber's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Load {
    /// Connections present in the table (while online) besides the
    /// subscriber's own slots.
    pub extra_connections: u32,
    /// Seconds each extra connection lives before it is replaced; the
    /// subscriber then opens about `extra_connections / lifetime_s` new
    /// connections per second. 0 counts as 1.
    pub lifetime_s: u32,
    /// UDP to peers on high ports (a p2p client) instead of TCP to port 443.
    pub p2p: bool,
    /// Bandwidth use as a fraction of the plan, replacing the subscriber's
    /// normal share (e.g. 0.95 for a bandwidth hog).
    pub usage_share: Option<f64>,
}

/// Extra connection `.id`s start here. Normal ids are
/// `generation * total_slots + slot + 1` and stay below this for any
/// realistic table and sim time, so the two ranges never meet.
pub(crate) const EXTRA_ID_BASE: u64 = 1 << 44;
/// Extra slot numbers (allocated per NAS, never reused until this many
/// have been handed out) fill the low bits of an extra id; the generation
/// sits above them, so (slot, generation) pairs map to distinct ids.
pub(crate) const XSLOT_BITS: u32 = 28;
pub(crate) const XSLOT_MASK: u64 = (1 << XSLOT_BITS) - 1;

/// A load as installed on a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Installed {
    pub load: Load,
    /// The first of `load.extra_connections` consecutive extra slot numbers.
    pub first_xslot: u64,
    /// Sim time the extra connections appeared; generations count from here.
    pub since_ms: u64,
}

impl Installed {
    /// True when `next` keeps the same extra connections (only the usage
    /// share differs), so their ids must not change.
    pub fn same_connections(&self, next: &Load) -> bool {
        let l = &self.load;
        l.extra_connections == next.extra_connections
            && l.lifetime_s.max(1) == next.lifetime_s.max(1)
            && l.p2p == next.p2p
    }

    pub fn extra(&self, ttl: u8) -> Option<Extra> {
        (self.load.extra_connections > 0).then(|| Extra {
            count: self.load.extra_connections,
            life_ms: u64::from(self.load.lifetime_s.max(1)) * 1000,
            p2p: self.load.p2p,
            first_xslot: self.first_xslot,
            since_ms: self.since_ms,
            ttl,
        })
    }
}

/// What a print needs to generate one subscriber's extra connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extra {
    pub count: u32,
    pub life_ms: u64,
    pub p2p: bool,
    pub first_xslot: u64,
    pub since_ms: u64,
    /// The subscriber's first slot's TTL, so mangle TTL probes treat the
    /// extra connections like the household's own.
    pub ttl: u8,
}

/// The current instance of one extra connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtraConn {
    pub id: u64,
    pub start_ms: u64,
    pub src_port: u16,
    pub proto: Proto,
    pub dst: SocketAddrV4,
}

impl Extra {
    /// Extra connection `j` (0-based) at sim time `now_ms`.
    ///
    /// Connection `j` is offset by `j/count` of a lifetime, so replacements
    /// are spread evenly instead of arriving in one burst every lifetime.
    /// Generation 0 began before the load was set, as if the connections
    /// had been open for a while.
    #[inline]
    pub fn conn(&self, j: u32, now_ms: u64) -> ExtraConn {
        let life = self.life_ms.max(1);
        let offset = u64::from(j) * life / u64::from(self.count.max(1));
        let generation = (now_ms.saturating_sub(self.since_ms) + offset) / life;
        let start_ms = (self.since_ms + generation * life).saturating_sub(offset);
        let xslot = (self.first_xslot + u64::from(j)) & XSLOT_MASK;
        let h = splitmix(xslot.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ generation ^ 0xAB05E);
        // Linux's default ephemeral range.
        let src_port = 32_768 + (h % 28_232) as u16;
        let h2 = splitmix(h);
        let ip = public_ip(h2);
        let (proto, dport) = if self.p2p {
            (Proto::Udp, p2p_port(h2 >> 32))
        } else {
            (Proto::Tcp, 443)
        };
        ExtraConn {
            id: EXTRA_ID_BASE + (generation << XSLOT_BITS) + xslot,
            start_ms,
            src_port,
            proto,
            dst: SocketAddrV4::new(ip, dport),
        }
    }

    /// The mangle context of an extra connection's first packet.
    #[inline]
    pub fn ctx(&self, c: &ExtraConn, local: usize, pppoe: bool, src: Ipv4Addr) -> ConnCtx {
        ConnCtx {
            ttl: self.ttl,
            start_ms: c.start_ms,
            local,
            pppoe,
            uplink: false,
            src,
            sport: c.src_port,
            dst: *c.dst.ip(),
            dport: c.dst.port(),
            proto: c.proto,
            p2p: self.p2p,
        }
    }
}

/// A unicast address outside private, shared, loopback, link-local,
/// documentation, benchmark and multicast space.
fn public_ip(mut h: u64) -> Ipv4Addr {
    loop {
        let a = 1 + (h % 223) as u8;
        if !matches!(a, 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203) {
            let [_, _, _, _, b, c, d, _] = h.to_le_bytes();
            return Ipv4Addr::new(a, b, c, 1 + d % 254);
        }
        h = splitmix(h);
    }
}

/// A peer port of 10000 or more that no VPN or voice whitelist covers.
fn p2p_port(h: u64) -> u16 {
    let mut p = 10_000 + (h % 55_536) as u16;
    while RESERVED_P2P_PORTS.contains(&p) {
        p += 1;
    }
    p
}

/// The per-print view of which subscribers' connections show and with which
/// extra connections. Built once per print from the sessions, so each row
/// costs an index instead of a lock or a map lookup.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnView {
    visible: Vec<bool>,
    /// Each session's address now (a redial changes it).
    addresses: Vec<std::net::Ipv4Addr>,
    /// Index into `extras` per subscriber; empty while no subscriber has
    /// extra connections, which keeps the common case as cheap as before.
    index: Vec<u32>,
    extras: Vec<Extra>,
    /// The households' evening, read once per print.
    evening: Option<crate::evening::Evening>,
}

const NO_EXTRA: u32 = u32::MAX;

impl ConnView {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            visible: Vec::with_capacity(n),
            addresses: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    pub fn set_evening(&mut self, evening: Option<crate::evening::Evening>) {
        self.evening = evening;
    }

    pub fn evening(&self) -> Option<&crate::evening::Evening> {
        self.evening.as_ref()
    }

    /// Appends the next subscriber.
    pub fn push(&mut self, visible: bool, address: std::net::Ipv4Addr, extra: Option<Extra>) {
        self.addresses.push(address);
        match extra.filter(|_| visible) {
            Some(e) => {
                if self.index.is_empty() {
                    self.index = vec![NO_EXTRA; self.visible.len()];
                }
                self.index.push(self.extras.len() as u32);
                self.extras.push(e);
            }
            None if !self.index.is_empty() => self.index.push(NO_EXTRA),
            None => {}
        }
        self.visible.push(visible);
    }

    #[inline]
    pub fn visible(&self, local: usize) -> bool {
        self.visible.get(local).copied().unwrap_or(false)
    }

    /// The session's address at the moment of the view.
    #[inline]
    pub fn address(&self, local: usize) -> std::net::Ipv4Addr {
        self.addresses[local]
    }

    #[inline]
    pub fn extra(&self, local: usize) -> Option<&Extra> {
        match self.index.get(local) {
            Some(&i) if i != NO_EXTRA => self.extras.get(i as usize),
            _ => None,
        }
    }

    /// Extra connections a visible subscriber has.
    #[inline]
    pub fn extra_count(&self, local: usize) -> usize {
        self.extra(local).map_or(0, |e| e.count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn extra(count: u32, life_s: u64, p2p: bool) -> Extra {
        Extra {
            count,
            life_ms: life_s * 1000,
            p2p,
            first_xslot: 7,
            since_ms: 1_000_000,
            ttl: 63,
        }
    }

    #[test]
    fn replacements_are_spread_and_ids_fresh() {
        let e = extra(100, 50, true);
        let at = |t: u64| -> Vec<ExtraConn> { (0..100).map(|j| e.conn(j, t)).collect() };
        let t0 = at(1_000_000);
        let mut seen: HashSet<u64> = t0.iter().map(|c| c.id).collect();
        assert_eq!(seen.len(), 100);
        assert!(t0.iter().all(|c| c.start_ms <= 1_000_000));
        // 2 new connections per second, evenly spaced.
        for s in 1..=50u64 {
            let now = at(1_000_000 + s * 1000);
            let new = now.iter().filter(|c| seen.insert(c.id)).count();
            assert_eq!(new, 2, "second {s}");
            assert!(now.iter().all(|c| c.start_ms <= 1_000_000 + s * 1000));
        }
        for c in at(1_000_000 + 50_000) {
            assert!(c.id >= EXTRA_ID_BASE);
            assert_eq!(c.proto, Proto::Udp);
            assert!(c.dst.port() >= 10_000 && !RESERVED_P2P_PORTS.contains(&c.dst.port()));
            assert!(c.src_port >= 32_768);
            assert!(!c.dst.ip().is_private());
        }
        let tcp = extra(3, 10, false).conn(1, 5_000_000);
        assert_eq!((tcp.proto, tcp.dst.port()), (Proto::Tcp, 443));
    }

    #[test]
    fn view_indexes_extras_lazily() {
        let mut v = ConnView::with_capacity(4);
        v.push(true, std::net::Ipv4Addr::LOCALHOST, None);
        v.push(
            false,
            std::net::Ipv4Addr::LOCALHOST,
            Some(extra(5, 1, false)),
        );
        assert!(v.index.is_empty());
        v.push(
            true,
            std::net::Ipv4Addr::LOCALHOST,
            Some(extra(9, 1, false)),
        );
        v.push(true, std::net::Ipv4Addr::LOCALHOST, None);
        assert_eq!(
            (0..4).map(|l| v.extra_count(l)).collect::<Vec<_>>(),
            vec![0, 0, 9, 0]
        );
        assert!(!v.visible(1) && v.visible(2) && !v.visible(9));
    }
}

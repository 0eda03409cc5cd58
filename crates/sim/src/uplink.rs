//! Connections that reach the router over its own uplink (`pppoe-out1`):
//! scans and replies from the internet to the router's public address.
//!
//! They sit in the connection table like any other row, belong to no
//! subscriber, and `in-interface=all-ppp` matches them as it matches the
//! subscribers' sessions, which is why rules meant for subscribers must not
//! use it. Their first-packet TTLs are those of hosts a few routers away,
//! inside the range the TTL probes watch.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::population::{splitmix, Proto};
use crate::rules::ConnCtx;

/// How many uplink connections a router holds at any moment.
pub(crate) const COUNT: u64 = 12;
/// Each is replaced this often.
const LIFETIME_MS: u64 = 60_000;
/// `.id`s of uplink connections start here, above every subscriber's.
pub(crate) const ID_BASE: u64 = 1 << 46;
/// TTLs of internet hosts 4 to 6 routers away, as the router sees them.
const TTLS: [u8; 6] = [58, 59, 61, 123, 124, 250];
/// Ports scanners knock on.
const PORTS: [u16; 6] = [22, 23, 443, 8291, 8728, 3389];

/// One uplink connection as it is at a moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UplinkConn {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: SocketAddrV4,
    pub ttl: u8,
    pub start_ms: u64,
    pub id: u64,
}

impl UplinkConn {
    pub fn ctx(&self) -> ConnCtx {
        ConnCtx {
            ttl: self.ttl,
            start_ms: self.start_ms,
            local: usize::MAX,
            pppoe: false,
            uplink: true,
            src: self.src,
            sport: self.sport,
            dst: *self.dst.ip(),
            dport: self.dst.port(),
            proto: Proto::Tcp,
            p2p: false,
        }
    }
}

/// Uplink connection `i` of router `nas` at `now_ms`.
pub(crate) fn conn(nas: usize, i: u64, now_ms: u64) -> UplinkConn {
    let seed = splitmix(0x0791_1AE0 ^ ((nas as u64) << 16) ^ i);
    let phase = seed % LIFETIME_MS;
    let generation = (now_ms + phase) / LIFETIME_MS;
    let start_ms = (generation * LIFETIME_MS).saturating_sub(phase);
    let h = splitmix(seed ^ generation);
    // Public addresses only (45.0.0.0/8 and 185.0.0.0/8 are allocated).
    let first = if h & 1 == 0 { 45 } else { 185 };
    UplinkConn {
        src: Ipv4Addr::new(
            first,
            (h >> 8) as u8,
            (h >> 16) as u8,
            1 + (h >> 24) as u8 % 254,
        ),
        sport: 1024 + ((h >> 32) % 60_000) as u16,
        dst: SocketAddrV4::new(
            Ipv4Addr::new(203, 0, 113, 1 + nas as u8),
            PORTS[((h >> 40) % PORTS.len() as u64) as usize],
        ),
        ttl: TTLS[((h >> 48) % TTLS.len() as u64) as usize],
        start_ms,
        id: ID_BASE + (generation << 8) + i,
    }
}

/// Every uplink connection of router `nas` at `now_ms`.
pub(crate) fn conns(nas: usize, now_ms: u64) -> impl Iterator<Item = UplinkConn> {
    (0..COUNT).map(move |i| conn(nas, i, now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uplink_connections_are_stable_then_replaced() {
        let a = conn(0, 3, 1_000_000);
        let b = conn(0, 3, 1_000_000 + 1);
        assert_eq!((a.id, a.src), (b.id, b.src));
        let later = conn(0, 3, 1_000_000 + LIFETIME_MS);
        assert_ne!(a.id, later.id);
        assert!(a.start_ms <= 1_000_000 && 1_000_000 < a.start_ms + LIFETIME_MS);
        assert!(a.id >= ID_BASE);
        assert_eq!(conns(1, 5).count() as u64, COUNT);
    }
}

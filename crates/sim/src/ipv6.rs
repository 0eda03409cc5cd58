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

use std::net::{Ipv4Addr, Ipv6Addr};

use routeros_proto::sentence::{encode_attribute, encode_word};

use crate::clock::current;
use crate::fmt::id_string;
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

/// The /64 delegated to subscriber `local` of router `nas`.
pub fn prefix(nas: usize, local: usize) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0x0db8, (nas + 1) as u16, local as u16, 0, 0, 0, 0)
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
                    format!("{}/64", prefix(self.index, local)),
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

    /// The IPv6 connections of the online dual-stack sessions, each written
    /// as a `!re` sentence with `fields` (`src-address`, `dst-address`,
    /// `protocol`, `.id`; all four when `None`). Returns the rows written.
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
        let mut n = 0;
        for local in (0..self.count).filter(|&l| self.is_online(l)) {
            let global = self.first + local;
            let ds = self.dual_stack(local);
            if !ds {
                continue;
            }
            let p = prefix(self.index, local);
            for (k, slot) in self.sub(local).slots.iter().enumerate() {
                if !is_v6(ds, k, slot) {
                    continue;
                }
                let conn = current(slot, global, k, now);
                encode_word(b"!re", out);
                if let Some(t) = &tag_word {
                    encode_word(t.as_bytes(), out);
                }
                if wants(".id") {
                    let id = 0x0060_0000_0000
                        + ((self.slot_base[local] + k as u64) << 8)
                        + (conn.generation & 0xFF);
                    encode_attribute(".id", id_string(id).as_bytes(), out);
                }
                if wants("protocol") {
                    encode_attribute("protocol", slot.protocol.as_str().as_bytes(), out);
                }
                if wants("src-address") {
                    let v = with_port(form, device(p, k), conn.src_port);
                    encode_attribute("src-address", v.as_bytes(), out);
                }
                if wants("dst-address") {
                    let v = with_port(form, host(*slot.dst.ip()), slot.dst.port());
                    encode_attribute("dst-address", v.as_bytes(), out);
                }
                out.push(0);
                n += 1;
            }
        }
        n
    }

    /// How many IPv6 connections the table holds now.
    pub fn ipv6_connection_count(&self) -> usize {
        (0..self.count)
            .filter(|&l| self.is_online(l) && self.dual_stack(l))
            .map(|l| {
                self.sub(l)
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(k, s)| is_v6(true, *k, s))
                    .count()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_forms() {
        let p = prefix(0, 42);
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

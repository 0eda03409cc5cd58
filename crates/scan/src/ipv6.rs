//! A dual-stack subscriber's IPv6 connections are the subscriber's too.
//!
//! RouterOS keeps IPv6 connections in a table of their own
//! (`/ipv6 firewall connection`), and a PPPoE subscriber's IPv6 addresses
//! come from the prefix delegated to the session, which the router shows
//! as a dynamic route through the session's interface (`/ipv6 route`,
//! `gateway=<pppoe-USER>`). So: read those routes once, then the IPv6
//! table once, and add every row whose source lies in a subscriber's
//! prefix to that subscriber's tally. A router without the IPv6 package
//! answers `no such command prefix`: then there is nothing to add.
//!
//! How the table writes an address with its port is not documented; both
//! `[2001:db8::1]:443` and `2001:db8::1.443` are read.

use std::collections::HashMap;
use std::net::Ipv6Addr;

use routeros_client::{Client, Command, Error, QueryOp};
use shareguard_detect::{Access, ProbeStrategy};

use crate::collect::{ConnectionFields, ConnectionIds, Session, Tallies};
use crate::p2p::looks_p2p;
use crate::probes::{address_list_query, ttl_from_label};
use crate::router_clock::parse_datetime;

/// The delegated prefixes of the online sessions: per prefix length, the
/// masked prefix to the session's index.
#[derive(Debug, Default)]
pub struct Prefixes {
    by_len: Vec<(u8, HashMap<u128, usize>)>,
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

impl Prefixes {
    /// The session whose prefix holds `a`, longest prefix first.
    pub fn session_of(&self, a: Ipv6Addr) -> Option<usize> {
        let v = u128::from(a);
        self.by_len
            .iter()
            .find_map(|(len, m)| m.get(&(v & mask(*len))).copied())
    }

    fn insert(&mut self, prefix: Ipv6Addr, len: u8, session: usize) {
        let key = u128::from(prefix) & mask(len);
        match self.by_len.iter_mut().find(|(l, _)| *l == len) {
            Some((_, m)) => {
                m.insert(key, session);
            }
            None => {
                self.by_len.push((len, HashMap::from([(key, session)])));
                self.by_len.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_len.is_empty()
    }
}

/// `2001:db8::/56` → (address, 56).
pub fn parse_prefix(s: &str) -> Option<(Ipv6Addr, u8)> {
    let (a, len) = s.trim().split_once('/')?;
    Some((a.parse().ok()?, len.parse().ok().filter(|l| *l <= 128)?))
}

/// An address with or without its port: `[a]:p`, `a.p` or `a`.
pub fn parse_ipv6_port(s: &str) -> Option<(Ipv6Addr, u16)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (a, port) = rest.split_once("]:")?;
        return Some((a.parse().ok()?, port.parse().ok()?));
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some((a, 0));
    }
    let (a, port) = s.rsplit_once('.')?;
    Some((a.parse().ok()?, port.parse().ok()?))
}

/// The print of the dynamic IPv6 routes, where delegated prefixes show.
pub fn routes_print() -> Command {
    Command::new("/ipv6/route/print")
        .proplist(&["dst-address", "gateway"])
        .query(QueryOp::Eq("dynamic".into(), "true".into()))
}

/// The IPv6 connection-table print: the fields the IPv4 pass reads, the
/// probe mark and the `.id` when asked for.
pub fn connections_print(fields: ConnectionFields) -> Command {
    crate::collect::connections_print_of("/ipv6/firewall/connection", fields)
}

/// The PPPoE user a route's gateway names: `<pppoe-USER>`, or a
/// link-local next hop through it (`fe80::1%<pppoe-USER>`); which one
/// RouterOS prints for a delegated prefix's route is not documented.
pub fn gateway_user(gateway: &str) -> Option<&str> {
    let iface = gateway.rsplit_once('%').map_or(gateway, |(_, i)| i);
    iface.strip_prefix("<pppoe-")?.strip_suffix('>')
}

/// Everything a PPPoE router's IPv6 side adds to the sessions' tallies:
/// the delegated prefixes, then the IPv6 connection table (with hop-limit
/// marks under connection-mark probes, `.id`s when `ids` tracks them) and,
/// under address-list probes, the IPv6 probe lists. Returns the IPv6 rows
/// read; nothing on a hotspot or a router without IPv6.
pub async fn read_ipv6_side(
    client: &mut Client,
    access: Access,
    sessions: &[Session],
    tallies: &mut Tallies,
    strategy: Option<ProbeStrategy>,
    ids: Option<&mut ConnectionIds>,
) -> Result<u64, Error> {
    if access != Access::Pppoe {
        return Ok(0);
    }
    let Some(prefixes) = read_prefixes(client, sessions).await? else {
        return Ok(0);
    };
    if prefixes.is_empty() {
        return Ok(0);
    }
    let marks = strategy == Some(ProbeStrategy::ConnectionMark);
    let rows = read_connections(client, &prefixes, tallies, marks, ids).await?;
    if strategy == Some(ProbeStrategy::AddressList) {
        read_address_lists(client, &prefixes, tallies).await?;
    }
    Ok(rows)
}

/// Reads the delegated prefixes of `sessions` (PPPoE); `None` when the
/// router has no IPv6.
pub async fn read_prefixes(
    client: &mut Client,
    sessions: &[Session],
) -> Result<Option<Prefixes>, Error> {
    let rows = match client.run(routes_print()).await {
        Ok(rows) => rows,
        Err(e) if e.kind() == "trap" => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(sessions.len());
    for (i, s) in sessions.iter().enumerate() {
        index.entry(s.subscriber.as_str()).or_insert(i);
    }
    let mut out = Prefixes::default();
    for r in &rows {
        let (Some(dst), Some(gateway)) = (r.get_str("dst-address"), r.get_str("gateway")) else {
            continue;
        };
        let Some(user) = gateway_user(&gateway) else {
            continue;
        };
        if let (Some((prefix, len)), Some(&i)) = (parse_prefix(&dst), index.get(user)) {
            out.insert(prefix, len, i);
        }
    }
    Ok(Some(out))
}

/// Reads the IPv6 connection table once and adds each connection from a
/// delegated prefix to its session's tally, with its hop-limit probe mark
/// when `with_marks`, and as new when `ids` (the previous cycle's IPv6
/// `.id`s, for the abuse monitor) lacks it. Returns the rows read.
pub async fn read_connections(
    client: &mut Client,
    prefixes: &Prefixes,
    tallies: &mut Tallies,
    with_marks: bool,
    mut ids: Option<&mut ConnectionIds>,
) -> Result<u64, Error> {
    let fields = ConnectionFields {
        marks: with_marks,
        ids: ids.is_some(),
    };
    let mut rows = client.stream(connections_print(fields)).await?;
    let mut n = 0;
    while let Some(r) = rows.next().await? {
        n += 1;
        let Some((src, sport)) = r.get_str("src-address").and_then(|s| parse_ipv6_port(&s)) else {
            continue;
        };
        let Some(i) = prefixes.session_of(src) else {
            continue;
        };
        let dport = r
            .get_str("dst-address")
            .and_then(|s| parse_ipv6_port(&s))
            .map_or(0, |(_, p)| p);
        let proto = r.get("protocol").unwrap_or(b"");
        let ttl = with_marks
            .then(|| r.get("connection-mark").and_then(ttl_from_label))
            .flatten();
        let new = match (ids.as_deref_mut(), r.get(".id")) {
            (Some(ids), Some(id)) => ids.observe(id),
            _ => false,
        };
        let own_traffic = tallies.own_traffic;
        if let Some(t) = tallies.tallies.get_mut(i) {
            t.connections += 1;
            if new {
                t.new_connections += 1;
            }
            if looks_p2p(proto, sport, dport) {
                t.p2p += 1;
            }
            if let Some(ttl) = ttl {
                t.observe_marked(ttl, proto, dport, own_traffic);
            }
        }
    }
    if let Some(ids) = ids {
        ids.finish();
    }
    Ok(n)
}

/// Reads the hop-limit probes' entries in `/ipv6 firewall address-list`
/// (one per device address; written with or without `/128`) and counts
/// each, as a device seen at that hop limit, for the session whose
/// delegated prefix holds it, if the entry was made during that session.
/// Returns the entries counted.
pub async fn read_address_lists(
    client: &mut Client,
    prefixes: &Prefixes,
    tallies: &mut Tallies,
) -> Result<u64, Error> {
    let now = crate::router_clock::read_clock(client).await?;
    let cmd = address_list_query(
        Command::new("/ipv6/firewall/address-list/print").proplist(&[
            "list",
            "address",
            "creation-time",
        ]),
    );
    let rows = client.run(cmd).await?;
    let mut n = 0;
    for r in &rows {
        let (Some(list), Some(address)) = (r.get("list"), r.get_str("address")) else {
            continue;
        };
        let Some(ttl) = ttl_from_label(list) else {
            continue;
        };
        let host = address.split_once('/').map_or(&*address, |(a, _)| a);
        let Some(i) = host
            .parse::<Ipv6Addr>()
            .ok()
            .and_then(|a| prefixes.session_of(a))
        else {
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
    fn both_address_forms_and_bare_addresses_parse() {
        let a: Ipv6Addr = "2001:db8:1:2a::103".parse().unwrap();
        assert_eq!(parse_ipv6_port("[2001:db8:1:2a::103]:443"), Some((a, 443)));
        assert_eq!(parse_ipv6_port("2001:db8:1:2a::103.443"), Some((a, 443)));
        assert_eq!(parse_ipv6_port("2001:db8:1:2a::103"), Some((a, 0)));
        for bad in ["", "[::1]", "10.0.0.1:80", "nonsense.80"] {
            assert_eq!(parse_ipv6_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_longest_prefix_names_the_session() {
        let mut p = Prefixes::default();
        p.insert("2001:db8:1::".parse().unwrap(), 48, 0);
        p.insert("2001:db8:1:2a::".parse().unwrap(), 64, 1);
        assert_eq!(p.session_of("2001:db8:1:2a::5".parse().unwrap()), Some(1));
        assert_eq!(p.session_of("2001:db8:1:2b::5".parse().unwrap()), Some(0));
        assert_eq!(p.session_of("2001:db8:2::5".parse().unwrap()), None);
        assert_eq!(
            parse_prefix("2001:db8::/56"),
            Some(("2001:db8::".parse().unwrap(), 56))
        );
        assert_eq!(parse_prefix("2001:db8::/129"), None);
        assert_eq!(gateway_user("<pppoe-ana>"), Some("ana"));
        assert_eq!(gateway_user("fe80::1%<pppoe-ana>"), Some("ana"));
        assert_eq!(gateway_user("ether1"), None);
    }
}

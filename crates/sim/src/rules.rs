//! Mangle rules applied to simulated connections.
//!
//! Connection marks and dynamic address-list entries are what a TTL probe
//! reads back, so the simulator must apply mangle rules the way a router
//! does: in table order, to a connection's first packet, and only for
//! connections that began after the rule existed. The rule list is compiled
//! into a per-TTL index whenever it changes, because the connection print
//! evaluates it for every row.

use std::net::Ipv4Addr;

use crate::population::{splitmix, Proto};
use crate::tables::Item;

/// What a rule knows about one connection's first packet.
#[derive(Debug, Clone, Copy)]
pub struct ConnCtx {
    pub ttl: u8,
    pub start_ms: u64,
    /// The subscriber's index within its NAS (for `in-interface=<pppoe-NAME>`).
    pub local: usize,
    pub pppoe: bool,
    /// Arrived over the router's own uplink (`pppoe-out1`), not from a
    /// subscriber.
    pub uplink: bool,
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
    pub proto: Proto,
    /// Whether the payload is a P2P protocol's, which is what a
    /// `layer7-protocol` matcher finds in the first packets.
    pub p2p: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlMatch {
    Equal(u8),
    NotEqual(u8),
    LessThan(u8),
    GreaterThan(u8),
}

impl TtlMatch {
    pub fn parse(s: &str) -> Option<Self> {
        let (op, n) = s.split_once(':')?;
        let n: u8 = n.trim().parse().ok()?;
        Some(match op {
            "equal" => Self::Equal(n),
            "not-equal" => Self::NotEqual(n),
            "less-than" => Self::LessThan(n),
            "greater-than" => Self::GreaterThan(n),
            _ => return None,
        })
    }

    fn matches(self, ttl: u8) -> bool {
        match self {
            Self::Equal(n) => ttl == n,
            Self::NotEqual(n) => ttl != n,
            Self::LessThan(n) => ttl < n,
            Self::GreaterThan(n) => ttl > n,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Iface {
    /// `all-ppp`: every PPP interface, subscriber sessions and the uplink.
    AllPpp,
    Sub(usize),
    Hotspot,
    Uplink,
    /// The builtin list `dynamic`: interfaces the router makes, such as
    /// PPPoE server sessions (the uplink client is configured, so static).
    Dynamic,
    /// The list `WAN` of a default configuration.
    Wan,
    Any,
    Never,
}

/// An address, subnet (`10.1.0.0/16`) or range (`10.1.0.1-10.1.0.9`), as
/// rules, address lists and queue targets write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrRange {
    lo: u32,
    hi: u32,
}

impl AddrRange {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if let Some((a, b)) = s.split_once('-') {
            let lo = u32::from(a.trim().parse::<Ipv4Addr>().ok()?);
            let hi = u32::from(b.trim().parse::<Ipv4Addr>().ok()?);
            return (lo <= hi).then_some(Self { lo, hi });
        }
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, len.parse::<u32>().ok()?),
            None => (s, 32),
        };
        if len > 32 {
            return None;
        }
        let ip = u32::from(ip.trim().parse::<Ipv4Addr>().ok()?);
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Some(Self {
            lo: ip & mask,
            hi: (ip & mask) | !mask,
        })
    }

    pub(crate) fn contains(self, ip: Ipv4Addr) -> bool {
        let v = u32::from(ip);
        (self.lo..=self.hi).contains(&v)
    }
}

#[derive(Debug, Clone)]
struct Ports(Vec<(u16, u16)>);

impl Ports {
    fn parse(s: &str) -> Option<Self> {
        let mut out = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None => {
                    let p = part.parse().ok()?;
                    (p, p)
                }
            };
            out.push((a, b));
        }
        Some(Self(out))
    }

    fn contains(&self, p: u16) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&p))
    }
}

#[derive(Debug, Clone, Copy)]
enum PccKind {
    SrcAddress,
    DstAddress,
    BothAddresses,
    SrcPort,
    DstPort,
    BothPorts,
    SrcAddressAndPort,
    BothAddressesAndPorts,
}

#[derive(Debug, Clone, Copy)]
struct Pcc {
    kind: PccKind,
    denominator: u32,
    remainder: u32,
}

impl Pcc {
    fn parse(s: &str) -> Option<Self> {
        let (kind, frac) = s.split_once(':')?;
        let (d, r) = frac.split_once('/')?;
        let kind = match kind {
            "src-address" => PccKind::SrcAddress,
            "dst-address" => PccKind::DstAddress,
            "both-addresses" => PccKind::BothAddresses,
            "src-port" => PccKind::SrcPort,
            "dst-port" => PccKind::DstPort,
            "both-ports" => PccKind::BothPorts,
            "src-address-and-port" => PccKind::SrcAddressAndPort,
            "both-addresses-and-ports" => PccKind::BothAddressesAndPorts,
            _ => return None,
        };
        let denominator: u32 = d.parse().ok()?;
        let remainder: u32 = r.parse().ok()?;
        (denominator > 0 && remainder < denominator).then_some(Self {
            kind,
            denominator,
            remainder,
        })
    }

    fn matches(self, c: &ConnCtx) -> bool {
        let (src, dst) = (u64::from(u32::from(c.src)), u64::from(u32::from(c.dst)));
        let (sp, dp) = (u64::from(c.sport), u64::from(c.dport));
        let key = match self.kind {
            PccKind::SrcAddress => src,
            PccKind::DstAddress => dst << 1,
            PccKind::BothAddresses => src ^ (dst << 32),
            PccKind::SrcPort => sp,
            PccKind::DstPort => dp << 1,
            PccKind::BothPorts => sp ^ (dp << 16),
            PccKind::SrcAddressAndPort => src ^ (sp << 32),
            PccKind::BothAddressesAndPorts => src ^ (dst << 32) ^ (sp << 7) ^ (dp << 23),
        };
        (splitmix(key) % u64::from(self.denominator)) as u32 == self.remainder
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `None` is `new-connection-mark=no-mark`.
    Mark(Option<u16>),
    AddSrc {
        list: u16,
        timeout_ms: Option<u64>,
    },
    Accept,
    Other,
}

#[derive(Debug, Clone)]
struct Rule {
    created_ms: u64,
    iface: Option<(Iface, bool)>,
    src: Option<(AddrRange, bool)>,
    dst: Option<(AddrRange, bool)>,
    proto: Option<(Proto, bool)>,
    sport: Option<(Ports, bool)>,
    dport: Option<(Ports, bool)>,
    conn_mark: Option<(Option<u16>, bool)>,
    pcc: Option<Pcc>,
    /// A `layer7-protocol` matcher (negated or not). The simulator has no
    /// payloads: any layer-7 protocol matches the P2P connections.
    l7: Option<bool>,
    action: Action,
    passthrough: bool,
}

impl Rule {
    fn matches(&self, c: &ConnCtx, mark: Option<u16>) -> bool {
        if self.l7.is_some_and(|neg| c.p2p == neg) {
            return false;
        }
        if let Some((iface, neg)) = self.iface {
            let session = c.pppoe && !c.uplink;
            let hit = match iface {
                Iface::AllPpp => c.pppoe || c.uplink,
                Iface::Sub(local) => session && c.local == local,
                Iface::Hotspot => !c.pppoe && !c.uplink,
                Iface::Uplink | Iface::Wan => c.uplink,
                Iface::Dynamic => session,
                Iface::Any => true,
                Iface::Never => false,
            };
            if hit == neg {
                return false;
            }
        }
        if let Some((r, neg)) = self.src {
            if r.contains(c.src) == neg {
                return false;
            }
        }
        if let Some((r, neg)) = self.dst {
            if r.contains(c.dst) == neg {
                return false;
            }
        }
        if let Some((p, neg)) = self.proto {
            if (p == c.proto) == neg {
                return false;
            }
        }
        if let Some((p, neg)) = &self.sport {
            if p.contains(c.sport) == *neg {
                return false;
            }
        }
        if let Some((p, neg)) = &self.dport {
            if p.contains(c.dport) == *neg {
                return false;
            }
        }
        if let Some((m, neg)) = self.conn_mark {
            if (m == mark) == neg {
                return false;
            }
        }
        if let Some(pcc) = self.pcc {
            if !pcc.matches(c) {
                return false;
            }
        }
        true
    }
}

/// Properties that configure a rule instead of matching packets.
fn is_setting(key: &str) -> bool {
    key.starts_with("new-")
        || matches!(
            key,
            "chain"
                | "action"
                | "comment"
                | "disabled"
                | "dynamic"
                | "invalid"
                | "log"
                | "log-prefix"
                | "passthrough"
                | "jump-target"
                | "address-list"
                | "address-list-timeout"
                | "connection-state"
                | "ttl"
                | "hop-limit"
        )
}

fn negated(v: &str) -> (&str, bool) {
    match v.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (v, false),
    }
}

/// The prerouting chain of one NAS, compiled.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    rules: Vec<Rule>,
    /// For each TTL, the rules (in table order) whose TTL and state matchers
    /// accept a new connection with that TTL.
    by_ttl: Vec<Vec<u32>>,
    marks: Vec<String>,
    lists: Vec<String>,
    has_add_src: bool,
}

impl Compiled {
    /// Compiles the mangle table. `iface_owner` maps a subscriber name (from
    /// `<pppoe-NAME>`) to its index within the NAS.
    pub fn compile(
        items: &[Item],
        hotspot_interface: &str,
        iface_owner: impl Fn(&str) -> Option<usize>,
    ) -> Self {
        let mut out = Self {
            by_ttl: vec![Vec::new(); 256],
            ..Self::default()
        };
        // Layer-7 matching needs both directions of a connection: a forward
        // rule sees both; a prerouting rule only with a postrouting twin
        // naming the same protocol (MikroTik's Layer7 page).
        let twins: Vec<&str> = items
            .iter()
            .filter(|i| !i.is_disabled() && i.get("chain") == Some("postrouting"))
            .filter_map(|i| i.get("layer7-protocol"))
            .collect();
        // A connection's first packet passes prerouting, then forward, where
        // its TTL is one lower.
        let chains = [("prerouting", 0u8), ("forward", 1u8)];
        for (chain, hop) in chains {
            for item in items {
                if item.is_disabled() || item.get("chain") != Some(chain) {
                    continue;
                }
                if chain == "prerouting"
                    && item
                        .get("layer7-protocol")
                        .is_some_and(|p| !twins.contains(&p))
                {
                    continue;
                }
                out.push_rule(item, hop, hotspot_interface, &iface_owner);
            }
        }
        out
    }

    /// Compiles one rule of a chain that sees a first packet's TTL less `hop`.
    fn push_rule(
        &mut self,
        item: &Item,
        hop: u8,
        hotspot_interface: &str,
        iface_owner: &impl Fn(&str) -> Option<usize>,
    ) {
        let out = self;
        {
            let Some((rule, ttl, new_ok)) = out.compile_rule(item, hotspot_interface, iface_owner)
            else {
                return;
            };
            // A rule that neither marks, lists nor accepts changes nothing
            // (FastTrack's counter rule is such a passthrough).
            if !new_ok || rule.action == Action::Other {
                return;
            }
            let idx = out.rules.len() as u32;
            if matches!(rule.action, Action::AddSrc { .. }) {
                out.has_add_src = true;
            }
            out.rules.push(rule);
            for t in 0..=255u8 {
                if ttl.is_none_or(|m| m.matches(t.saturating_sub(hop))) {
                    out.by_ttl[t as usize].push(idx);
                }
            }
        }
    }

    fn intern(names: &mut Vec<String>, name: &str) -> u16 {
        if let Some(i) = names.iter().position(|n| n == name) {
            return i as u16;
        }
        names.push(name.to_string());
        (names.len() - 1) as u16
    }

    /// Returns the rule, its TTL matcher, and whether it can match a new
    /// connection at all; `None` when the rule can never match.
    fn compile_rule(
        &mut self,
        item: &Item,
        hotspot_interface: &str,
        iface_owner: &impl Fn(&str) -> Option<usize>,
    ) -> Option<(Rule, Option<TtlMatch>, bool)> {
        let id = crate::fmt::id_string(item.id);
        let mut rule = Rule {
            created_ms: item.created_ms,
            iface: None,
            src: None,
            dst: None,
            proto: None,
            sport: None,
            dport: None,
            conn_mark: None,
            pcc: None,
            l7: None,
            action: Action::Accept,
            passthrough: item.get("passthrough").is_none_or(|p| p != "false"),
        };
        // An IPv6 rule's `hop-limit` is the same matcher on the same byte.
        let ttl = match item.get("ttl").or_else(|| item.get("hop-limit")) {
            None => None,
            Some(v) => match TtlMatch::parse(v) {
                Some(m) => Some(m),
                None => {
                    tracing::warn!(rule = %id, ttl = v, "mangle rule has an invalid ttl matcher; it never matches");
                    return None;
                }
            },
        };
        let new_ok = match item.get("connection-state") {
            None => true,
            Some(v) => {
                let (list, neg) = negated(v);
                list.split(',').any(|s| s.trim() == "new") != neg
            }
        };
        for (key, value) in &item.attrs {
            if is_setting(key) {
                continue;
            }
            let (v, neg) = negated(value);
            let ok = match key.as_str() {
                "in-interface-list" => {
                    let iface = match v {
                        "dynamic" => Iface::Dynamic,
                        "WAN" => Iface::Wan,
                        "all" => Iface::Any,
                        _ => Iface::Never,
                    };
                    rule.iface = Some((iface, neg));
                    true
                }
                "in-interface" => {
                    let iface = match v {
                        "all-ppp" => Iface::AllPpp,
                        crate::UPLINK_INTERFACE => Iface::Uplink,
                        other if other == hotspot_interface => Iface::Hotspot,
                        other => {
                            let name = other
                                .strip_prefix("<pppoe-")
                                .and_then(|n| n.strip_suffix('>'))
                                .or_else(|| other.strip_prefix("pppoe-"));
                            match name.and_then(iface_owner) {
                                Some(local) => Iface::Sub(local),
                                None => Iface::Never,
                            }
                        }
                    };
                    rule.iface = Some((iface, neg));
                    true
                }
                "src-address" => AddrRange::parse(v)
                    .map(|r| rule.src = Some((r, neg)))
                    .is_some(),
                "dst-address" => AddrRange::parse(v)
                    .map(|r| rule.dst = Some((r, neg)))
                    .is_some(),
                "protocol" => {
                    let p = match v {
                        "tcp" | "6" => Some(Proto::Tcp),
                        "udp" | "17" => Some(Proto::Udp),
                        "icmp" | "1" => Some(Proto::Icmp),
                        "gre" | "47" => Some(Proto::Gre),
                        _ => None,
                    };
                    p.map(|p| rule.proto = Some((p, neg))).is_some()
                }
                "src-port" => Ports::parse(v)
                    .map(|p| rule.sport = Some((p, neg)))
                    .is_some(),
                "dst-port" => Ports::parse(v)
                    .map(|p| rule.dport = Some((p, neg)))
                    .is_some(),
                "connection-mark" => {
                    let m = (v != "no-mark").then(|| Self::intern(&mut self.marks, v));
                    rule.conn_mark = Some((m, neg));
                    true
                }
                "per-connection-classifier" => Pcc::parse(v).map(|p| rule.pcc = Some(p)).is_some(),
                "layer7-protocol" => {
                    rule.l7 = Some(neg);
                    true
                }
                _ => false,
            };
            if !ok {
                tracing::warn!(rule = %id, matcher = %key, value = %value, "mangle rule uses a matcher the simulator does not model; it never matches");
                return None;
            }
        }
        rule.action = match item.get("action").unwrap_or("accept") {
            "mark-connection" => match item.get("new-connection-mark") {
                None | Some("no-mark") => Action::Mark(None),
                Some(m) => Action::Mark(Some(Self::intern(&mut self.marks, m))),
            },
            "add-src-to-address-list" => {
                let list = item.get("address-list").unwrap_or("");
                let timeout_ms = item
                    .get("address-list-timeout")
                    .and_then(|t| crate::fmt::parse_duration(t).ok().flatten());
                Action::AddSrc {
                    list: Self::intern(&mut self.lists, list),
                    timeout_ms,
                }
            }
            "accept" => Action::Accept,
            _ => Action::Other,
        };
        Some((rule, ttl, new_ok))
    }

    /// True when no rule can touch a connection with this TTL: the common
    /// case, checked first so unmarked rows cost nothing.
    #[inline]
    pub fn idle_for(&self, ttl: u8) -> bool {
        self.by_ttl
            .get(ttl as usize)
            .is_none_or(|rules| rules.is_empty())
    }

    pub fn has_add_src(&self) -> bool {
        self.has_add_src
    }

    /// Walks the chain for one connection; returns its connection mark and
    /// reports each address-list addition to `on_list`.
    #[inline]
    pub fn walk(&self, c: &ConnCtx, mut on_list: impl FnMut(u16, Option<u64>)) -> Option<u16> {
        let mut mark = None;
        let rules = self.by_ttl.get(c.ttl as usize)?;
        for &ri in rules {
            let rule = &self.rules[ri as usize];
            // A rule added after the first packet never saw the connection.
            if c.start_ms <= rule.created_ms || !rule.matches(c, mark) {
                continue;
            }
            match rule.action {
                Action::Mark(m) => {
                    mark = m;
                    if !rule.passthrough {
                        break;
                    }
                }
                Action::AddSrc { list, timeout_ms } => on_list(list, timeout_ms),
                Action::Accept => break,
                Action::Other => {}
            }
        }
        mark
    }

    pub fn mark_name(&self, m: u16) -> &str {
        self.marks.get(m as usize).map_or("", String::as_str)
    }

    pub fn list_name(&self, l: u16) -> &str {
        self.lists.get(l as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, created_ms: u64, attrs: &[(&str, &str)]) -> Item {
        Item {
            id,
            created_ms,
            locked: None,
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn ctx(ttl: u8, start_ms: u64) -> ConnCtx {
        ConnCtx {
            ttl,
            start_ms,
            local: 3,
            pppoe: true,
            uplink: false,
            src: Ipv4Addr::new(10, 1, 0, 5),
            sport: 40000,
            dst: Ipv4Addr::new(93, 184, 1, 1),
            dport: 443,
            proto: Proto::Tcp,
            p2p: false,
        }
    }

    fn mark_of(c: &Compiled, x: &ConnCtx) -> Option<String> {
        c.walk(x, |_, _| {}).map(|m| c.mark_name(m).to_string())
    }

    #[test]
    fn ttl_rules_mark_only_later_connections() {
        let c = Compiled::compile(
            &[item(
                1,
                1000,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "ttl63"),
                    ("ttl", "equal:63"),
                    ("connection-state", "new"),
                    ("in-interface", "all-ppp"),
                ],
            )],
            "bridge-hotspot",
            |_| None,
        );
        assert_eq!(mark_of(&c, &ctx(63, 2000)).as_deref(), Some("ttl63"));
        assert_eq!(mark_of(&c, &ctx(63, 1000)), None);
        assert_eq!(mark_of(&c, &ctx(64, 2000)), None);
        assert!(c.idle_for(64));
        assert!(!c.idle_for(63));
    }

    #[test]
    fn order_passthrough_accept_and_unknown_matchers() {
        let rules = [
            item(
                1,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "a"),
                ],
            ),
            item(
                2,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "b"),
                    ("protocol", "udp"),
                ],
            ),
            item(
                3,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "c"),
                    ("src-address-list", "x"),
                ],
            ),
            item(
                4,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "d"),
                    ("src-address", "10.1.0.0/16"),
                    ("passthrough", "false"),
                ],
            ),
            item(
                5,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "e"),
                ],
            ),
        ];
        let c = Compiled::compile(&rules, "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&c, &ctx(63, 10)).as_deref(), Some("d"));
        let mut udp = ctx(63, 10);
        udp.src = Ipv4Addr::new(10, 2, 0, 1);
        udp.proto = Proto::Udp;
        assert_eq!(mark_of(&c, &udp).as_deref(), Some("e"));
        let accept_first = [
            item(
                1,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "accept"),
                    ("ttl", "less-than:64"),
                ],
            ),
            rules[0].clone(),
        ];
        let c = Compiled::compile(&accept_first, "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&c, &ctx(63, 10)), None);
        assert_eq!(mark_of(&c, &ctx(64, 10)).as_deref(), Some("a"));
    }

    #[test]
    fn interfaces_and_address_lists() {
        let rules = [
            item(
                1,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "add-src-to-address-list"),
                    ("address-list", "l"),
                    ("address-list-timeout", "5m"),
                    ("in-interface", "<pppoe-sub-00003>"),
                ],
            ),
            item(
                2,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "hs"),
                    ("in-interface", "bridge-hotspot"),
                ],
            ),
        ];
        let c = Compiled::compile(&rules, "bridge-hotspot", |n| {
            (n == "sub-00003").then_some(3)
        });
        assert!(c.has_add_src());
        let mut lists = Vec::new();
        assert_eq!(c.walk(&ctx(63, 10), |l, t| lists.push((l, t))), None);
        assert_eq!(lists, vec![(0, Some(300_000))]);
        assert_eq!(c.list_name(0), "l");
        let mut other = ctx(63, 10);
        other.local = 4;
        lists.clear();
        c.walk(&other, |l, t| lists.push((l, t)));
        assert!(lists.is_empty());
        let mut hs = ctx(64, 10);
        hs.pppoe = false;
        assert_eq!(mark_of(&c, &hs).as_deref(), Some("hs"));
    }

    #[test]
    fn established_only_and_disabled_rules_are_skipped() {
        let rules = [
            item(
                1,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "a"),
                    ("connection-state", "established,related"),
                ],
            ),
            item(
                2,
                0,
                &[
                    ("chain", "prerouting"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "b"),
                    ("disabled", "true"),
                ],
            ),
            item(
                3,
                0,
                &[
                    ("chain", "forward"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "c"),
                ],
            ),
        ];
        let c = Compiled::compile(&rules[..2], "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&c, &ctx(63, 10)), None);
        // The forward chain sees the first packet too, one hop lower.
        let c = Compiled::compile(&rules, "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&c, &ctx(63, 10)).as_deref(), Some("c"));
    }

    #[test]
    fn forward_rules_see_the_ttl_one_lower() {
        let rules = [item(
            1,
            0,
            &[
                ("chain", "forward"),
                ("action", "mark-connection"),
                ("new-connection-mark", "f62"),
                ("ttl", "equal:62"),
            ],
        )];
        let c = Compiled::compile(&rules, "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&c, &ctx(63, 10)).as_deref(), Some("f62"));
        assert_eq!(mark_of(&c, &ctx(62, 10)), None);
    }

    #[test]
    fn layer7_in_prerouting_needs_its_postrouting_twin() {
        let l7 = |id: u64, chain: &str| {
            item(
                id,
                0,
                &[
                    ("chain", chain),
                    ("layer7-protocol", "bt"),
                    ("action", "mark-connection"),
                    ("new-connection-mark", "p2p"),
                ],
            )
        };
        let mut p2p = ctx(63, 10);
        p2p.p2p = true;
        let alone = Compiled::compile(&[l7(1, "prerouting")], "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&alone, &p2p), None, "one direction only");
        let twin = Compiled::compile(
            &[l7(1, "prerouting"), l7(2, "postrouting")],
            "bridge-hotspot",
            |_| None,
        );
        assert_eq!(mark_of(&twin, &p2p).as_deref(), Some("p2p"));
        let forward = Compiled::compile(&[l7(1, "forward")], "bridge-hotspot", |_| None);
        assert_eq!(mark_of(&forward, &p2p).as_deref(), Some("p2p"));
    }
}

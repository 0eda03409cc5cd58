//! Address-list entries that time out, and the filter rules that turn list
//! membership into a ban.
//!
//! An operator (or ShareGuard) bans an abuser for a while by adding its
//! address to a list with `timeout=30m` that a `drop` filter rule refers to;
//! the router forgets the entry when the time is up. The simulator models
//! exactly that: timed entries vanish on the sim clock, and while a
//! subscriber's address is on a dropped list its traffic stops. Other filter
//! matchers on such a rule are not modelled: the rule drops everything from
//! the list, which is how ban rules are written.
//!
//! A drop rule with `connection-limit=N,32` is not a ban but a cap: new
//! connections beyond N per address are dropped ([`ConnCaps`]). Matchers
//! other than the address list (interfaces, protocols, connection state) are
//! not modelled on such a rule either.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use crate::fmt::{duration_string, parse_duration};
use crate::nas::Row;
use crate::rules::AddrRange;
use crate::tables::Table;

/// What an address-list `timeout` attribute asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// `none-static` or empty: an ordinary, permanent entry.
    Static,
    /// `none-dynamic`: dynamic but without a deadline.
    DynamicForever,
    /// Expires this many ms after it was set.
    After(u64),
}

/// Takes `timeout` out of the attributes (the deadline is kept apart from
/// the stored item, since a router prints the time left instead).
pub(crate) fn take_timeout(attrs: &mut Vec<(String, String)>) -> Result<Option<Timeout>, String> {
    let Some(pos) = attrs.iter().position(|(k, _)| k == "timeout") else {
        return Ok(None);
    };
    let (_, v) = attrs.remove(pos);
    let parsed =
        parse_duration(&v).map_err(|_| format!("invalid value for argument timeout: {v}"))?;
    Ok(Some(match parsed {
        Some(0) => Timeout::Static,
        Some(ms) => Timeout::After(ms),
        None if v.trim() == "none-dynamic" => Timeout::DynamicForever,
        None => Timeout::Static,
    }))
}

/// Deadlines of the timed entries of one address-list table: id → expiry
/// (`None` for `none-dynamic`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeouts {
    expiry: HashMap<u64, Option<u64>>,
}

impl Timeouts {
    pub fn apply(&mut self, id: u64, t: Timeout, now_ms: u64) {
        match t {
            Timeout::Static => {
                self.expiry.remove(&id);
            }
            Timeout::DynamicForever => {
                self.expiry.insert(id, None);
            }
            Timeout::After(ms) => {
                self.expiry.insert(id, Some(now_ms.saturating_add(ms)));
            }
        }
    }

    pub fn forget(&mut self, ids: &[u64]) {
        for id in ids {
            self.expiry.remove(id);
        }
    }

    /// Removes expired entries from `table`, so they neither print nor can
    /// be found by id any more.
    pub fn purge(&mut self, table: &mut Table, now_ms: u64) {
        let expired: Vec<u64> = self
            .expiry
            .iter()
            .filter(|(_, e)| e.is_some_and(|e| e <= now_ms))
            .map(|(&id, _)| id)
            .collect();
        if expired.is_empty() {
            return;
        }
        let present: Vec<u64> = expired
            .iter()
            .copied()
            .filter(|&id| table.position(id).is_some())
            .collect();
        // Every id in `present` exists, so this cannot fail.
        let _ = table.remove(&present);
        self.forget(&expired);
    }

    /// `Some(expiry)` for a timed entry; `None` for a permanent one.
    pub fn expiry(&self, id: u64) -> Option<u64> {
        self.expiry.get(&id).copied().flatten()
    }

    /// Marks a printed row dynamic and shows its time left, as RouterOS
    /// does for entries added with a timeout.
    pub fn decorate(&self, row: &mut Row, id: u64, now_ms: u64) {
        let Some(expiry) = self.expiry.get(&id) else {
            return;
        };
        if let Some(e) = expiry {
            let find = |key: &str| row.iter().position(|(k, _)| k == key);
            let at = find("creation-time")
                .or_else(|| find("address"))
                .map_or(row.len(), |p| p + 1);
            row.insert(
                at,
                ("timeout".into(), duration_string(e.saturating_sub(now_ms))),
            );
        }
        match row.iter_mut().find(|(k, _)| k == "dynamic") {
            Some(d) => d.1 = "true".into(),
            None => row.push(("dynamic".into(), "true".into())),
        }
    }
}

/// The addresses banned by the current filter and address-list tables,
/// each with the time its ban ends (`u64::MAX`: until someone removes it).
///
/// A drop rule stops a subscriber's established connections only when the
/// forward chain reaches it before a rule that accepts or fast-tracks
/// established traffic; and with FastTrack on, connections fast-tracked
/// before the ban skip the firewall altogether until they are removed from
/// the connection table. A ban that does not reach them leaves the
/// household's traffic flowing (the new connections it would stop are not
/// modelled), which is what an owner would see on a real router.
#[derive(Debug, Clone, Default)]
pub(crate) struct BanSet {
    entries: Vec<BanEntry>,
}

/// An address-list entry's address: an IPv4 address, subnet or range, or
/// an IPv6 address or prefix (`2001:db8:1:2a::/64`), as the two families'
/// lists hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetRange {
    V4(AddrRange),
    V6 { net: u128, mask: u128 },
}

impl NetRange {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(r) = AddrRange::parse(s) {
            return Some(Self::V4(r));
        }
        let (a, len) = match s.split_once('/') {
            Some((a, len)) => (a, len.parse::<u32>().ok().filter(|l| *l <= 128)?),
            None => (s, 128),
        };
        let a: Ipv6Addr = a.parse().ok()?;
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Some(Self::V6 {
            net: u128::from(a) & mask,
            mask,
        })
    }

    pub(crate) fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Self::V4(r), IpAddr::V4(a)) => r.contains(a),
            (Self::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
struct BanEntry {
    range: NetRange,
    until: u64,
    /// When the entry was added: connections must be removed after this.
    since: u64,
    /// FastTrack is on, so a removal of the connections is needed.
    needs_flush: bool,
}

/// Whether a filter rule lets established connections through before a
/// later rule sees them.
fn passes_established(r: &crate::tables::Item) -> bool {
    matches!(r.get("action"), Some("accept" | "fasttrack-connection"))
        && r.get("connection-state")
            .is_some_and(|s| !s.starts_with('!') && s.split(',').any(|p| p.trim() == "established"))
}

impl BanSet {
    pub fn build(filter: &Table, lists: &Table, timeouts: &Timeouts, now_ms: u64) -> Self {
        let forward: Vec<&crate::tables::Item> = filter
            .items()
            .iter()
            .filter(|r| !r.is_disabled() && r.get("chain") == Some("forward"))
            .collect();
        let fasttrack = forward
            .iter()
            .any(|r| r.get("action") == Some("fasttrack-connection"));
        let first_pass = forward
            .iter()
            .position(|r| passes_established(r))
            .unwrap_or(usize::MAX);
        let banned_lists: Vec<&str> = forward
            .iter()
            .enumerate()
            .filter(|(at, _)| *at < first_pass)
            .map(|(_, r)| r)
            .filter(|r| matches!(r.get("action"), Some("drop" | "reject")))
            .filter(|r| r.get("connection-limit").is_none())
            .filter_map(|r| r.get("src-address-list"))
            .filter(|l| !l.starts_with('!'))
            .collect();
        if banned_lists.is_empty() {
            return Self::default();
        }
        let entries = lists
            .items()
            .iter()
            .filter(|i| !i.is_disabled())
            .filter(|i| i.get("list").is_some_and(|l| banned_lists.contains(&l)))
            .filter_map(|i| {
                let until = timeouts.expiry(i.id).unwrap_or(u64::MAX);
                let range = NetRange::parse(i.get("address")?)?;
                (until > now_ms).then_some(BanEntry {
                    range,
                    until,
                    since: i.created_ms,
                    needs_flush: fasttrack,
                })
            })
            .collect();
        Self { entries }
    }

    /// When the ban on `ip` ends; 0 when it is not banned or does not
    /// reach the session's connections. `flushed_ms` is when the session's
    /// oldest connection can have started: its start, or the last removal
    /// of its connections from the connection table.
    pub fn until(&self, ip: impl Into<IpAddr>, flushed_ms: Option<u64>) -> u64 {
        let ip = ip.into();
        self.entries
            .iter()
            .filter(|e| e.range.contains(ip))
            .filter(|e| !e.needs_flush || flushed_ms.is_some_and(|f| f >= e.since))
            .map(|e| e.until)
            .max()
            .unwrap_or(0)
    }
}

/// Which list membership a cap rule asks for.
#[derive(Debug, Clone)]
struct CapRule {
    list: Option<(String, bool)>,
    limit: u32,
}

/// The connection caps set by `connection-limit` drop rules and the
/// address lists they name.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnCaps {
    rules: Vec<CapRule>,
    /// (list, range, until) of the entries of the lists the rules name.
    members: Vec<(String, NetRange, u64)>,
}

/// `connection-limit=100,32` → 100 when the mask is `per` (32: per IPv4
/// address; 64: per IPv6 /64, a household's delegated prefix).
fn per_address_limit(v: &str, per: &str) -> Option<u32> {
    let (n, mask) = v.split_once(',')?;
    (mask.trim() == per).then_some(())?;
    n.trim().parse().ok()
}

impl ConnCaps {
    /// The caps of one family's filter table; `per` is the mask that makes
    /// a cap per subscriber (`32` for IPv4, `64` for IPv6).
    pub fn build(
        filter: &Table,
        lists: &Table,
        timeouts: &Timeouts,
        now_ms: u64,
        per: &str,
    ) -> Self {
        let rules: Vec<CapRule> = filter
            .items()
            .iter()
            .filter(|r| {
                !r.is_disabled() && matches!(r.get("action"), Some("drop" | "reject" | "tarpit"))
            })
            .filter_map(|r| {
                let limit = per_address_limit(r.get("connection-limit")?, per)?;
                let list = r
                    .get("src-address-list")
                    .map(|l| match l.strip_prefix('!') {
                        Some(name) => (name.to_string(), false),
                        None => (l.to_string(), true),
                    });
                Some(CapRule { list, limit })
            })
            .collect();
        if rules.is_empty() {
            return Self::default();
        }
        let named: Vec<&str> = rules
            .iter()
            .filter_map(|r| r.list.as_ref().map(|(l, _)| l.as_str()))
            .collect();
        let members = lists
            .items()
            .iter()
            .filter(|i| !i.is_disabled())
            .filter_map(|i| {
                let list = i.get("list").filter(|l| named.contains(l))?;
                let until = timeouts.expiry(i.id).unwrap_or(u64::MAX);
                let range = NetRange::parse(i.get("address")?)?;
                (until > now_ms).then(|| (list.to_string(), range, until))
            })
            .collect();
        Self { rules, members }
    }

    /// The lowest cap on `ip` and when it stops applying (the earliest
    /// end of a list entry it depends on; `u64::MAX` when none).
    pub fn cap(&self, ip: impl Into<IpAddr>) -> Option<(u32, u64)> {
        let ip = ip.into();
        let member_until = |list: &str| {
            self.members
                .iter()
                .filter(|(l, r, _)| l == list && r.contains(ip))
                .map(|(_, _, until)| *until)
                .max()
        };
        self.rules
            .iter()
            .filter_map(|rule| match &rule.list {
                None => Some((rule.limit, u64::MAX)),
                Some((list, true)) => member_until(list).map(|until| (rule.limit, until)),
                // A negated list applies while the address is NOT on it; an
                // entry that expires later makes it apply again, which the
                // next table change or print picks up.
                Some((list, false)) => member_until(list)
                    .is_none()
                    .then_some((rule.limit, u64::MAX)),
            })
            .min_by_key(|(limit, _)| *limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn attrs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn timeouts_parse_expire_and_print() {
        let mut a = attrs(&[("list", "x"), ("address", "10.1.0.5"), ("timeout", "30m")]);
        assert_eq!(take_timeout(&mut a), Ok(Some(Timeout::After(1_800_000))));
        assert_eq!(a.len(), 2);
        for (v, want) in [
            ("2h", Timeout::After(7_200_000)),
            ("1d", Timeout::After(86_400_000)),
            ("1h30m", Timeout::After(5_400_000)),
            ("00:30:00", Timeout::After(1_800_000)),
            ("none-dynamic", Timeout::DynamicForever),
            ("none-static", Timeout::Static),
        ] {
            let mut a = attrs(&[("timeout", v)]);
            assert_eq!(take_timeout(&mut a), Ok(Some(want)), "{v}");
        }
        assert!(take_timeout(&mut attrs(&[("timeout", "soon")])).is_err());
        assert_eq!(take_timeout(&mut attrs(&[("list", "x")])), Ok(None));

        let mut table = Table::new(0x200);
        let id = table.add(&a, None, 1_000).unwrap();
        let keep = table.add(
            &attrs(&[("list", "x"), ("address", "10.1.0.6")]),
            None,
            1_000,
        );
        let mut t = Timeouts::default();
        t.apply(id, Timeout::After(1_800_000), 1_000);
        let mut row: Row = vec![
            (".id".into(), "*200".into()),
            ("list".into(), "x".into()),
            ("address".into(), "10.1.0.5".into()),
            ("creation-time".into(), "…".into()),
            ("dynamic".into(), "false".into()),
        ];
        t.decorate(&mut row, id, 3_000);
        assert_eq!(row[4], ("timeout".into(), "29m58s".into()));
        assert_eq!(row[5], ("dynamic".into(), "true".into()));
        t.purge(&mut table, 1_800_999);
        assert!(table.position(id).is_some());
        t.purge(&mut table, 1_801_000);
        assert!(table.position(id).is_none());
        assert!(table.position(keep.unwrap()).is_some());
        assert_eq!(t.expiry(id), None);
    }

    #[test]
    fn only_enabled_drop_rules_ban() {
        let mut filter = Table::new(0x100);
        let mut lists = Table::new(0x200);
        let mut t = Timeouts::default();
        let a = lists
            .add(&attrs(&[("list", "bad"), ("address", "10.1.0.5")]), None, 0)
            .unwrap();
        lists
            .add(
                &attrs(&[("list", "bad"), ("address", "10.2.0.0/16")]),
                None,
                0,
            )
            .unwrap();
        t.apply(a, Timeout::After(60_000), 0);
        let ip = Ipv4Addr::new(10, 1, 0, 5);
        assert_eq!(BanSet::build(&filter, &lists, &t, 0).until(ip, None), 0);
        filter
            .add(
                &attrs(&[
                    ("chain", "forward"),
                    ("action", "accept"),
                    ("src-address-list", "bad"),
                ]),
                None,
                0,
            )
            .unwrap();
        assert_eq!(BanSet::build(&filter, &lists, &t, 0).until(ip, None), 0);
        filter
            .add(
                &attrs(&[
                    ("chain", "input"),
                    ("action", "drop"),
                    ("src-address-list", "bad"),
                ]),
                None,
                0,
            )
            .unwrap();
        assert_eq!(
            BanSet::build(&filter, &lists, &t, 0).until(ip, None),
            0,
            "the input chain guards the router, not forwarded traffic"
        );
        filter
            .add(
                &attrs(&[
                    ("chain", "forward"),
                    ("action", "drop"),
                    ("src-address-list", "bad"),
                ]),
                None,
                0,
            )
            .unwrap();
        let bans = BanSet::build(&filter, &lists, &t, 0);
        assert_eq!(bans.until(ip, None), 60_000);
        assert_eq!(bans.until(Ipv4Addr::new(10, 2, 3, 4), None), u64::MAX);
        assert_eq!(bans.until(Ipv4Addr::new(10, 3, 0, 1), None), 0);
        assert_eq!(
            BanSet::build(&filter, &lists, &t, 60_000).until(ip, None),
            0
        );
    }

    #[test]
    fn with_fasttrack_a_ban_needs_its_rule_first_and_the_connections_removed() {
        let mut filter = Table::new(0x100);
        let mut lists = Table::new(0x200);
        let t = Timeouts::default();
        lists
            .add(
                &attrs(&[("list", "bad"), ("address", "10.1.0.5")]),
                None,
                1_000,
            )
            .unwrap();
        let fasttrack = filter
            .add(
                &attrs(&[
                    ("chain", "forward"),
                    ("action", "fasttrack-connection"),
                    ("connection-state", "established,related"),
                ]),
                None,
                0,
            )
            .unwrap();
        let drop = attrs(&[
            ("chain", "forward"),
            ("action", "drop"),
            ("src-address-list", "bad"),
        ]);
        let after = filter.add(&drop, None, 0).unwrap();
        let ip = Ipv4Addr::new(10, 1, 0, 5);
        let bans = BanSet::build(&filter, &lists, &t, 2_000);
        assert_eq!(
            bans.until(ip, Some(5_000)),
            0,
            "established traffic is fast-tracked past the drop"
        );
        filter.remove(&[after]).unwrap();
        filter
            .add(&drop, Some(&crate::fmt::id_string(fasttrack)), 0)
            .unwrap();
        let bans = BanSet::build(&filter, &lists, &t, 2_000);
        assert_eq!(
            bans.until(ip, None),
            0,
            "fast-tracked connections skip the firewall"
        );
        assert_eq!(bans.until(ip, Some(500)), 0, "removed before the ban began");
        assert_eq!(bans.until(ip, Some(1_000)), u64::MAX);
    }

    #[test]
    fn connection_limit_rules_cap_instead_of_banning() {
        let mut filter = Table::new(0x100);
        let mut lists = Table::new(0x200);
        let mut t = Timeouts::default();
        let e = lists
            .add(&attrs(&[("list", "sus"), ("address", "10.1.0.5")]), None, 0)
            .unwrap();
        t.apply(e, Timeout::After(60_000), 0);
        for (list, limit) in [("sus", "100,32"), ("!sus", "500,32")] {
            filter
                .add(
                    &attrs(&[
                        ("chain", "forward"),
                        ("src-address-list", list),
                        ("connection-limit", limit),
                        ("action", "drop"),
                    ]),
                    None,
                    0,
                )
                .unwrap();
        }
        let ip = Ipv4Addr::new(10, 1, 0, 5);
        assert_eq!(
            BanSet::build(&filter, &lists, &t, 0).until(ip, None),
            0,
            "a cap is not a ban"
        );
        let caps = ConnCaps::build(&filter, &lists, &t, 0, "32");
        assert_eq!(caps.cap(ip), Some((100, 60_000)));
        assert_eq!(caps.cap(Ipv4Addr::new(10, 1, 0, 6)), Some((500, u64::MAX)));
        let later = ConnCaps::build(&filter, &lists, &t, 60_000, "32");
        assert_eq!(later.cap(ip), Some((500, u64::MAX)), "the entry timed out");
        assert_eq!(per_address_limit("100,24", "32"), None);
        assert_eq!(per_address_limit("100,64", "64"), Some(100));
    }

    #[test]
    fn ipv6_prefixes_hold_their_addresses_only() {
        let p = NetRange::parse("2001:db8:1:2a::/64").unwrap();
        let inside: Ipv6Addr = "2001:db8:1:2a::103".parse().unwrap();
        let outside: Ipv6Addr = "2001:db8:1:2b::103".parse().unwrap();
        assert!(p.contains(inside.into()));
        assert!(!p.contains(outside.into()));
        assert!(!p.contains(Ipv4Addr::new(10, 1, 0, 5).into()));
        let host = NetRange::parse("2001:db8:1:2a::103/128").unwrap();
        assert_eq!(NetRange::parse("2001:db8:1:2a::103"), Some(host));
        assert!(host.contains(inside.into()));
        assert_eq!(NetRange::parse("2001:db8::/129"), None);
        assert_eq!(NetRange::parse("nonsense"), None);
        assert!(NetRange::parse("10.1.0.0/16")
            .unwrap()
            .contains(Ipv4Addr::new(10, 1, 2, 3).into()));
    }
}

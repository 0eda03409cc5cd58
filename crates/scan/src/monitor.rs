//! Reading one NAS for the abuse monitor: sessions, the connection table (with
//! ids, to count new connections), the probe and P2P address lists, and the
//! simple queues (plan and byte counters), one streaming pass each.
//!
//! What must survive between cycles (the previous snapshot's connection ids
//! and byte counters, and how long each subscriber has been near their plan)
//! lives in [`NasMemory`], which the caller keeps per NAS.

use std::collections::BTreeMap;

use radius_dac::RateLimit;
use routeros_client::{Client, Command, Error, QueryOp};
use rustc_hash::FxHashMap;
use shareguard_detect::abuse::{AbuseSample, Sustained, Usage};
use shareguard_detect::ProbeStrategy;

use crate::allowance::Progress;
use crate::collect::{
    count_connections, parse_ipv4, read_address_lists, read_connections_with, read_sessions,
    ConnectionIds, Tallies,
};
use crate::probes;
use crate::target::NasTarget;

/// The address list the router's P2P marking rules fill.
pub const P2P_LIST: &str = "sg-p2p";

/// Plan and byte counters of one subscriber's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReading {
    /// The queue's `max-limit` (the same notation as Mikrotik-Rate-Limit:
    /// rx is the subscriber's upload).
    pub max_limit: RateLimit,
    /// The queue's `.id`, so a throttle can be placed before it.
    pub item: String,
    pub dynamic: bool,
    /// Its `target` as printed (`<pppoe-USER>`, `10.0.0.5/32`).
    pub target: String,
    /// `bytes` as (upload, download).
    pub bytes: (u64, u64),
}

/// What the monitor remembers about one NAS between cycles.
#[derive(Debug, Default)]
pub struct NasMemory {
    ids: ConnectionIds,
    /// The same for the IPv6 connection table.
    ids6: ConnectionIds,
    /// The router's uptime at the previous successful read, in ms.
    uptime_ms: Option<u64>,
    bytes: FxHashMap<u32, (u64, u64)>,
    sustained: Sustained,
}

impl NasMemory {
    /// Forgets everything, after a failed read.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// One NAS's reading for one cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorReading {
    pub samples: Vec<AbuseSample>,
    /// Rows in the whole connection table.
    pub table_rows: u64,
    pub connections: u64,
    pub p2p_connections: u64,
}

/// Reads one NAS. `hog_percent` is the share of the plan that counts as
/// "near it" for the sustained-use tracking.
pub async fn read_monitor(
    client: &mut Client,
    target: &NasTarget,
    memory: &mut NasMemory,
    hog_percent: u8,
    progress: &Progress,
) -> Result<MonitorReading, Error> {
    // The router's own clock times the snapshots: it is what the counters
    // and the connection table were read against, whatever happened to this
    // computer (a suspended laptop, a slow cycle) in between.
    let uptime_ms = read_uptime_ms(client).await?;
    if uptime_ms.is_none() {
        tracing::warn!(nas = %target.name, "unreadable uptime: rates need two readings with a known interval");
    }
    if matches!((memory.uptime_ms, uptime_ms), (Some(prev), Some(now)) if now < prev)
        || uptime_ms.is_none()
    {
        // The router rebooted (its tables and counters started again), or
        // the interval is unknown.
        memory.reset();
    }
    let state = probes::inspect(client, target.access).await?;
    let strategy = state.strategy();
    let sessions = read_sessions(client, target.access, None).await?;
    let mut tallies = Tallies::for_sessions(&sessions);
    if strategy == Some(ProbeStrategy::AddressList) {
        read_address_lists(client, &mut tallies, None).await?;
    }
    let classified = read_p2p_list(client).await?;
    let queues = read_queues(client).await?;
    let had_previous = memory.ids.has_previous();
    if let Some(n) = count_connections(client).await? {
        progress.set_expected(n);
    }
    let pass = read_connections_with(
        client,
        &mut tallies,
        strategy == Some(ProbeStrategy::ConnectionMark),
        Some(&mut memory.ids),
        |rows| progress.set_rows(rows),
    )
    .await?;
    // A dual-stack household's IPv6 connections are its own too.
    let table_rows = pass.rows
        + crate::ipv6::read_ipv6_side(
            client,
            target.access,
            &sessions,
            &mut tallies,
            strategy,
            Some(&mut memory.ids6),
        )
        .await?;
    let previous = std::mem::replace(&mut memory.uptime_ms, uptime_ms);
    let now_ms = uptime_ms.unwrap_or(0);
    let elapsed_s = previous
        .map(|t| now_ms.saturating_sub(t) as f64 / 1000.0)
        .filter(|s| *s > 0.0);
    let from_ms = previous.unwrap_or(now_ms);

    let mut bytes = FxHashMap::with_capacity_and_hasher(queues.len(), Default::default());
    let mut reading = MonitorReading {
        samples: Vec::with_capacity(sessions.len()),
        table_rows,
        connections: 0,
        p2p_connections: 0,
    };
    let threshold = f64::from(hog_percent);
    for (s, t) in sessions.into_iter().zip(tallies.tallies) {
        let ip = u32::from(s.address);
        let usage = queues.of(&s.subscriber, s.address).and_then(|q| {
            bytes.insert(ip, q.bytes);
            let prev = memory.bytes.get(&ip)?;
            let percent = usage_percent(*prev, q, elapsed_s?)?;
            let near = memory
                .sustained
                .observe(&s.subscriber, percent, threshold, from_ms, now_ms);
            Some(Usage {
                plan: q.max_limit.to_string(),
                percent,
                near_plan_for_s: near,
            })
        });
        reading.connections += u64::from(t.connections);
        reading.p2p_connections += u64::from(t.p2p);
        reading.samples.push(AbuseSample {
            p2p_classified: classified.contains(&ip),
            address: s.address.to_string(),
            subscriber: s.subscriber,
            nas: target.name.clone(),
            access: target.access,
            expected_hops: target.expected_hops,
            connections: t.connections,
            new_per_second: match elapsed_s {
                Some(secs) if had_previous => Some(f64::from(t.new_connections) / secs),
                _ => None,
            },
            p2p_connections: t.p2p,
            usage,
            ttl: t.ttl.into_iter().collect::<BTreeMap<_, _>>(),
        });
    }
    memory.bytes = bytes;
    reading.samples = per_account(std::mem::take(&mut reading.samples));
    let seen: rustc_hash::FxHashSet<&str> = reading
        .samples
        .iter()
        .filter(|s| s.usage.is_some())
        .map(|s| s.subscriber.as_str())
        .collect();
    memory.sustained.retain(|k| seen.contains(k));
    Ok(reading)
}

/// One sample per account, as a scan gives one result per account: a
/// second concurrent session's connections, new connections, P2P and TTLs
/// are the account's too; its plan use is the fuller session's.
fn per_account(samples: Vec<AbuseSample>) -> Vec<AbuseSample> {
    let mut at: FxHashMap<String, usize> =
        FxHashMap::with_capacity_and_hasher(samples.len(), Default::default());
    let mut out: Vec<AbuseSample> = Vec::with_capacity(samples.len());
    for s in samples {
        let Some(&i) = at.get(&s.subscriber) else {
            at.insert(s.subscriber.clone(), out.len());
            out.push(s);
            continue;
        };
        let o = &mut out[i];
        o.connections += s.connections;
        o.p2p_connections += s.p2p_connections;
        o.p2p_classified |= s.p2p_classified;
        o.new_per_second = match (o.new_per_second, s.new_per_second) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        for (ttl, n) in s.ttl {
            *o.ttl.entry(ttl).or_insert(0) += n;
        }
        let fuller = |u: &Option<Usage>| u.as_ref().map_or(-1.0, |u| u.percent);
        if fuller(&s.usage) > fuller(&o.usage) {
            o.usage = s.usage;
        }
    }
    out
}

/// The router's uptime (`/system/resource`), in milliseconds; `None` when
/// the router does not print one ShareGuard can read.
pub async fn read_uptime_ms(client: &mut Client) -> Result<Option<u64>, Error> {
    let rows = client
        .run(Command::new("/system/resource/print").proplist(&["uptime"]))
        .await?;
    let text = rows
        .first()
        .and_then(|r| r.get_str("uptime").map(|s| s.into_owned()))
        .unwrap_or_default();
    Ok(parse_ros_duration_ms(&text))
}

/// Parses a RouterOS duration: `1w2d3h4m5s`, with optional `ms`, or
/// `hh:mm:ss`.
pub fn parse_ros_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.contains(':') {
        let parts: Vec<u64> = s
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let [h, m, sec] = parts[..] else {
            return None;
        };
        return Some(((h * 60 + m) * 60 + sec) * 1000);
    }
    let (mut total, mut num, mut chars) = (0u64, String::new(), s.chars().peekable());
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    num.is_empty().then_some(total)
}

/// Use between two readings as a share of the plan, in percent, in the
/// fuller direction. `None` when a counter went back (reset, new session) or
/// the plan is unknown.
pub fn usage_percent(prev: (u64, u64), now: &QueueReading, secs: f64) -> Option<f64> {
    let up = now.bytes.0.checked_sub(prev.0)?;
    let down = now.bytes.1.checked_sub(prev.1)?;
    let share = |bytes: u64, limit: u64| {
        (limit > 0).then(|| bytes as f64 * 8.0 / secs / limit as f64 * 100.0)
    };
    match (
        share(up, now.max_limit.rx_bps),
        share(down, now.max_limit.tx_bps),
    ) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Subscribers the router's P2P rules put on [`P2P_LIST`].
async fn read_p2p_list(client: &mut Client) -> Result<rustc_hash::FxHashSet<u32>, Error> {
    let cmd = Command::new("/ip/firewall/address-list/print")
        .proplist(&["address"])
        .query(QueryOp::Eq("list".into(), P2P_LIST.into()));
    let mut rows = client.stream(cmd).await?;
    let mut out = rustc_hash::FxHashSet::default();
    while let Some(r) = rows.next().await? {
        if let Some(ip) = r.get("address").and_then(parse_ipv4) {
            out.insert(u32::from(ip));
        }
    }
    Ok(out)
}

/// The simple queues a monitor or a throttle needs: each session's dynamic
/// queue by its user (RouterOS names it `<pppoe-USER>` or `<hotspot-USER>`
/// and, on PPPoE, targets the session's interface rather than its address),
/// and static queues by the addresses they target.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    by_user: FxHashMap<String, QueueReading>,
    by_address: FxHashMap<u32, QueueReading>,
}

impl Queues {
    /// The queue that carries `user`'s plan and counters: its dynamic queue,
    /// else a queue targeting its address (a dynamic one first).
    pub fn of(&self, user: &str, ip: std::net::Ipv4Addr) -> Option<&QueueReading> {
        self.by_user
            .get(user)
            .or_else(|| self.by_address.get(&u32::from(ip)))
    }

    pub fn len(&self) -> usize {
        self.by_user.len() + self.by_address.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `<pppoe-alice>` → `alice`.
fn dynamic_queue_user(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('<')?.strip_suffix('>')?;
    inner.split_once('-').map(|(_, user)| user)
}

/// Every simple queue, read once.
pub async fn read_queues(client: &mut Client) -> Result<Queues, Error> {
    read_queues_where(client, None).await
}

/// [`read_queues`], optionally only those of one session (its dynamic queue
/// by name, and queues targeting its address), filtered on the router.
pub async fn read_queues_where(
    client: &mut Client,
    only: Option<(&str, std::net::Ipv4Addr)>,
) -> Result<Queues, Error> {
    let mut cmd = Command::new("/queue/simple/print").proplist(&[
        ".id",
        "name",
        "target",
        "max-limit",
        "bytes",
        "dynamic",
    ]);
    if let Some((user, ip)) = only {
        cmd = cmd
            .query(QueryOp::Eq("name".into(), format!("<pppoe-{user}>")))
            .query(QueryOp::Eq("name".into(), format!("<hotspot-{user}>")))
            .query(QueryOp::Or)
            .query(QueryOp::Eq("target".into(), format!("{ip}/32")))
            .query(QueryOp::Or);
    }
    let mut rows = client.stream(cmd).await?;
    let mut out = Queues::default();
    while let Some(r) = rows.next().await? {
        let (Some(target), Some(limit), Some(bytes)) = (
            r.get_str("target"),
            r.get_str("max-limit")
                .and_then(|v| RateLimit::parse(&v).ok()),
            r.get_str("bytes").as_deref().and_then(parse_pair),
        ) else {
            continue;
        };
        let name = r.get_str("name").unwrap_or_default();
        let user = dynamic_queue_user(&name);
        let q = QueueReading {
            max_limit: limit,
            bytes,
            item: r.get_str(".id").map(|s| s.into_owned()).unwrap_or_default(),
            dynamic: user.is_some() || r.get("dynamic") == Some(b"true"),
            target: target.to_string(),
        };
        if let Some(user) = user {
            out.by_user.insert(user.to_string(), q.clone());
        }
        for part in target.split(',') {
            let addr = part.trim().trim_end_matches("/32");
            let Some(ip) = parse_ipv4(addr.as_bytes()) else {
                continue;
            };
            match out.by_address.entry(u32::from(ip)) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if q.dynamic && !e.get().dynamic {
                        e.insert(q.clone());
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(q.clone());
                }
            }
        }
    }
    Ok(out)
}

fn parse_pair(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(who: &str, connections: u32, percent: Option<f64>) -> AbuseSample {
        AbuseSample {
            subscriber: who.into(),
            nas: "nas".into(),
            address: "10.0.0.1".into(),
            access: shareguard_detect::Access::Pppoe,
            expected_hops: 1,
            connections,
            new_per_second: Some(1.5),
            p2p_connections: 1,
            p2p_classified: false,
            usage: percent.map(|percent| Usage {
                plan: "10M/20M".into(),
                percent,
                near_plan_for_s: 0,
            }),
            ttl: BTreeMap::from([(63, connections)]),
        }
    }

    #[test]
    fn an_accounts_sessions_make_one_sample() {
        let merged = per_account(vec![
            sample("ana", 100, Some(20.0)),
            sample("ben", 7, None),
            sample("ana", 50, Some(95.0)),
        ]);
        assert_eq!(merged.len(), 2);
        let ana = &merged[0];
        assert_eq!(ana.connections, 150);
        assert_eq!(ana.p2p_connections, 2);
        assert_eq!(ana.new_per_second, Some(3.0));
        assert_eq!(ana.ttl[&63], 150);
        assert_eq!(ana.usage.as_ref().map(|u| u.percent), Some(95.0));
        assert_eq!(merged[1].connections, 7);
    }

    #[test]
    fn routeros_durations() {
        assert_eq!(
            parse_ros_duration_ms("1w2d3h4m5s"),
            Some(((9 * 24 + 3) * 3600 + 245) * 1000)
        );
        assert_eq!(parse_ros_duration_ms("29m58s"), Some(1_798_000));
        assert_eq!(parse_ros_duration_ms("150ms"), Some(150));
        assert_eq!(parse_ros_duration_ms("00:30:00"), Some(1_800_000));
        for bad in ["", "5", "3x", "1:2"] {
            assert_eq!(parse_ros_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn usage_is_the_fuller_direction() {
        let q = QueueReading {
            max_limit: RateLimit::parse("10M/20M").unwrap(),
            // 60 s at 1 Mbit/s up, 18 Mbit/s down.
            bytes: (7_500_000, 135_000_000),
            item: "*1".into(),
            dynamic: true,
            target: "<pppoe-a>".into(),
        };
        let p = usage_percent((0, 0), &q, 60.0).unwrap();
        assert!((p - 90.0).abs() < 1e-9, "{p}");
        assert_eq!(usage_percent((8_000_000, 0), &q, 60.0), None);
    }
}

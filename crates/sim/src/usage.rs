//! Plans, bandwidth use and byte counters.
//!
//! An abuse monitor reads bytes from the dynamic simple queues (or hotspot
//! counters) and compares them with the plan, and a verdict acts by lowering
//! the rate (RADIUS CoA, a static queue) or by a ban. So the counters must
//! react to those actions and stay consistent between reads: each session
//! keeps a [`Meter`] that is folded at every change of its effective rate,
//! and a read adds `rate × elapsed` to the folded value.

use std::net::Ipv4Addr;

use crate::population::splitmix;
use crate::rules::AddrRange;
use crate::tables::Item;
use crate::QueuePlacement;

/// Bits per second, (upload, download) as seen from the subscriber.
pub type Rate = (u64, u64);

/// The plans a small ISP sells: (upload, download).
const PLANS: [Rate; 4] = [
    (5_000_000, 10_000_000),
    (10_000_000, 20_000_000),
    (20_000_000, 50_000_000),
    (50_000_000, 100_000_000),
];

/// The subscriber's plan, from its global index (stable across runs).
pub fn plan_of(global: usize) -> Rate {
    PLANS[(splitmix(0x9_1A45 ^ global as u64) % PLANS.len() as u64) as usize]
}

/// The fraction of the plan the subscriber normally uses, (upload,
/// download), each in [0.02, 0.35]: enough to see counters move, far from
/// what a bandwidth hog does.
pub fn normal_share_of(global: usize) -> (f64, f64) {
    let h = splitmix(0x05_4A5E ^ global as u64);
    let frac = |bits: u64| 0.02 + 0.33 * ((bits & 0xFFFF) as f64 / 65_535.0);
    (frac(h), frac(h >> 16))
}

/// `10M`, `512k`, `1.5M`, `2G`, `2000000` in bits per second (decimal units,
/// as RouterOS uses).
pub fn parse_bps(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1e3),
        b'M' | b'm' => (&s[..s.len() - 1], 1e6),
        b'G' | b'g' => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * mult).round() as u64)
}

/// An `upload/download` pair (`max-limit`, or the first pair of a
/// Mikrotik-Rate-Limit, where rx is the subscriber's upload). A single value
/// applies to both directions; 0 means unlimited.
pub fn parse_pair(s: &str) -> Option<Rate> {
    let first = s.split_whitespace().next()?;
    let (up, down) = match first.split_once('/') {
        Some((a, b)) => (parse_bps(a)?, parse_bps(b)?),
        None => {
            let v = parse_bps(first)?;
            (v, v)
        }
    };
    let unlimited = |v: u64| if v == 0 { u64::MAX } else { v };
    Some((unlimited(up), unlimited(down)))
}

/// `10000000/20000000`: how a router prints a max-limit over the API.
pub fn pair_string(r: Rate) -> String {
    let n = |v: u64| if v == u64::MAX { 0 } else { v };
    format!("{}/{}", n(r.0), n(r.1))
}

/// The limit a session's dynamic queue enforces: the CoA rate limit when one
/// was set (and parses), otherwise the plan.
pub fn session_limit(plan: Rate, rate_limit: Option<&str>) -> Rate {
    rate_limit.and_then(parse_pair).unwrap_or(plan)
}

/// What a session actually transfers: its demand (share of the plan)
/// capped by its queue limit and by static queues.
pub fn effective(plan: Rate, share: (f64, f64), limit: Rate, cap: Rate) -> Rate {
    let demand = |p: u64, s: f64| {
        let s = if s.is_finite() { s.max(0.0) } else { 0.0 };
        (p as f64 * s).round() as u64
    };
    (
        demand(plan.0, share.0).min(limit.0).min(cap.0),
        demand(plan.1, share.1).min(limit.1).min(cap.1),
    )
}

/// What a static queue's `target` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QueueTarget {
    Range(AddrRange),
    /// An interface, such as a PPPoE session's `<pppoe-USER>`.
    Interface(String),
}

/// One enabled static simple queue, reduced to what decides a subscriber's rate.
#[derive(Debug, Clone)]
struct StaticQueue {
    targets: Vec<QueueTarget>,
    limit: Rate,
    /// The subscriber whose dynamic queue it was placed before.
    anchor: Option<usize>,
}

/// The simple queues in the order RouterOS walks them: a session's traffic
/// is shaped by the first queue whose target covers it and by no other.
/// Dynamic queues sit above every static queue ([`QueuePlacement::First`])
/// or below them ([`QueuePlacement::Bottom`]); a static queue added with
/// `place-before` a dynamic queue sits right above that one.
#[derive(Debug, Clone)]
pub(crate) struct QueueCaps {
    queues: Vec<StaticQueue>,
    placement: QueuePlacement,
}

impl Default for QueueCaps {
    fn default() -> Self {
        Self {
            queues: Vec::new(),
            placement: QueuePlacement::Bottom,
        }
    }
}

impl QueueCaps {
    /// `anchor_of` gives the subscriber a static queue was placed above.
    pub fn from_items(
        items: &[Item],
        anchor_of: impl Fn(u64) -> Option<usize>,
        placement: QueuePlacement,
    ) -> Self {
        let queues = items
            .iter()
            .filter(|i| !i.is_disabled())
            .filter_map(|i| {
                let limit = parse_pair(i.get("max-limit")?)?;
                let targets: Vec<QueueTarget> = i
                    .get("target")?
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| match AddrRange::parse(t) {
                        Some(r) => QueueTarget::Range(r),
                        None => QueueTarget::Interface(t.to_string()),
                    })
                    .collect();
                (!targets.is_empty()).then(|| StaticQueue {
                    targets,
                    limit,
                    anchor: anchor_of(i.id),
                })
            })
            .collect();
        Self { queues, placement }
    }

    /// The static queue that shapes the session of subscriber `local` (at
    /// `ip`, on `interface`) before its dynamic queue is reached: its
    /// `max-limit`; `None` when the dynamic queue (the plan or the CoA
    /// rate) decides.
    pub fn cap(&self, local: usize, ip: Ipv4Addr, interface: &str) -> Option<Rate> {
        self.queues
            .iter()
            .filter(|q| match (q.anchor, self.placement) {
                (Some(a), _) => a == local,
                (None, QueuePlacement::Bottom) => true,
                (None, QueuePlacement::First) => false,
            })
            .find(|q| {
                q.targets.iter().any(|t| match t {
                    QueueTarget::Range(r) => r.contains(ip),
                    QueueTarget::Interface(i) => i == interface,
                })
            })
            .map(|q| q.limit)
    }
}

/// A session's byte counters: the bytes at the last change plus the rate
/// since then. Bytes do not grow before `blocked_until_ms` (a ban), which is
/// known in advance because a ban ends only when its address-list entry
/// times out or a client changes the tables (which folds the meter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Meter {
    at_ms: u64,
    bytes: (u64, u64),
    rate: Rate,
    blocked_until_ms: u64,
}

impl Meter {
    /// A session that started at `since_ms` with `rate`.
    pub fn started(since_ms: u64, rate: Rate) -> Self {
        Self {
            at_ms: since_ms,
            rate,
            ..Self::default()
        }
    }

    /// (upload, download) bytes at `now_ms`.
    pub fn read(&self, now_ms: u64) -> (u64, u64) {
        let from = self.at_ms.max(self.blocked_until_ms);
        let ms = u128::from(now_ms.saturating_sub(from));
        let grow = |rate: u64| u64::try_from(u128::from(rate) * ms / 8000).unwrap_or(u64::MAX);
        (
            self.bytes.0.saturating_add(grow(self.rate.0)),
            self.bytes.1.saturating_add(grow(self.rate.1)),
        )
    }

    /// Moves the accumulation point to `now_ms`; call before any change.
    pub fn fold(&mut self, now_ms: u64) {
        self.bytes = self.read(now_ms);
        self.at_ms = self.at_ms.max(now_ms);
    }

    /// Folds, then applies a new rate and ban end.
    pub fn set(&mut self, now_ms: u64, rate: Rate, blocked_until_ms: u64) {
        self.fold(now_ms);
        self.rate = rate;
        self.blocked_until_ms = blocked_until_ms;
    }

    /// Counters back to zero, as for a new session; the ban stays.
    pub fn reset(&mut self, now_ms: u64) {
        self.at_ms = now_ms;
        self.bytes = (0, 0);
        self.rate = (0, 0);
    }

    pub fn blocked_at(&self, now_ms: u64) -> bool {
        self.blocked_until_ms > now_ms
    }

    /// The rate at `now_ms`: zero while banned.
    pub fn rate_at(&self, now_ms: u64) -> Rate {
        if self.blocked_at(now_ms) {
            (0, 0)
        } else {
            self.rate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_like_routeros() {
        assert_eq!(parse_bps("10M"), Some(10_000_000));
        assert_eq!(parse_bps("512k"), Some(512_000));
        assert_eq!(parse_bps("1.5M"), Some(1_500_000));
        assert_eq!(parse_bps("2G"), Some(2_000_000_000));
        assert_eq!(parse_bps("64000"), Some(64_000));
        assert_eq!(parse_bps("x"), None);
        assert_eq!(parse_bps(""), None);
        assert_eq!(parse_pair("1M/2M"), Some((1_000_000, 2_000_000)));
        assert_eq!(
            parse_pair("1M/4M 2M/8M 512k/2M 10/10 8"),
            Some((1_000_000, 4_000_000))
        );
        assert_eq!(parse_pair("3M"), Some((3_000_000, 3_000_000)));
        assert_eq!(parse_pair("0/5M"), Some((u64::MAX, 5_000_000)));
        assert_eq!(parse_pair("a/b"), None);
        assert_eq!(pair_string((u64::MAX, 5_000_000)), "0/5000000");
    }

    #[test]
    fn plans_and_shares_are_deterministic_and_bounded() {
        for g in 0..500 {
            assert!(PLANS.contains(&plan_of(g)));
            assert_eq!(plan_of(g), plan_of(g));
            let (u, d) = normal_share_of(g);
            assert!((0.02..=0.35).contains(&u) && (0.02..=0.35).contains(&d));
        }
        let distinct: std::collections::HashSet<Rate> = (0..100).map(plan_of).collect();
        assert_eq!(distinct.len(), PLANS.len());
    }

    #[test]
    fn the_tightest_cap_wins() {
        let plan = (10_000_000, 20_000_000);
        let full = (u64::MAX, u64::MAX);
        assert_eq!(
            effective(plan, (0.5, 0.5), plan, full),
            (5_000_000, 10_000_000)
        );
        assert_eq!(effective(plan, (2.0, 2.0), plan, full), plan);
        let coa = session_limit(plan, Some("1M/2M"));
        assert_eq!(
            effective(plan, (0.95, 0.95), coa, full),
            (1_000_000, 2_000_000)
        );
        assert_eq!(
            effective(plan, (0.95, 0.95), coa, (512_000, 4_000_000)),
            (512_000, 2_000_000)
        );
        assert_eq!(session_limit(plan, Some("junk")), plan);
    }

    #[test]
    fn the_first_matching_queue_shapes_a_session() {
        let item = |id: u64, target: &str, limit: &str, disabled: bool| Item {
            id,
            created_ms: 0,
            locked: None,
            attrs: vec![
                ("target".into(), target.into()),
                ("max-limit".into(), limit.into()),
                ("disabled".into(), disabled.to_string()),
            ],
        };
        let items = [
            item(1, "10.1.0.5", "1k/1k", true),
            item(2, "10.1.0.6,10.1.0.7", "3M/4M", false),
            item(3, "10.1.0.0/24", "500k/8M", false),
            item(4, "<pppoe-bob>", "1M/2M", false),
        ];
        let ip = |d: u8| Ipv4Addr::new(10, 1, 0, d);
        let bottom = QueueCaps::from_items(&items, |_| None, QueuePlacement::Bottom);
        assert_eq!(
            bottom.cap(0, ip(5), "<pppoe-al>"),
            Some((500_000, 8_000_000))
        );
        assert_eq!(
            bottom.cap(0, ip(7), "<pppoe-al>"),
            Some((3_000_000, 4_000_000))
        );
        assert_eq!(
            bottom.cap(0, Ipv4Addr::new(10, 1, 1, 1), "<pppoe-bob>"),
            Some((1_000_000, 2_000_000))
        );
        assert_eq!(
            bottom.cap(0, Ipv4Addr::new(10, 1, 1, 1), "<pppoe-al>"),
            None
        );
        // Dynamic queues first: only a queue placed above the session's own counts.
        let first =
            QueueCaps::from_items(&items, |id| (id == 4).then_some(7), QueuePlacement::First);
        assert_eq!(first.cap(0, ip(5), "<pppoe-al>"), None);
        assert_eq!(
            first.cap(7, ip(9), "<pppoe-bob>"),
            Some((1_000_000, 2_000_000))
        );
        assert_eq!(first.cap(8, ip(9), "<pppoe-bob>"), None);
    }

    #[test]
    fn meter_folds_and_respects_bans() {
        let mut m = Meter::started(0, (8_000, 16_000));
        assert_eq!(m.read(10_000), (10_000, 20_000));
        m.set(10_000, (800, 800), 0);
        assert_eq!(m.read(20_000), (11_000, 21_000));
        // Banned from 20s to 50s.
        m.set(20_000, (800, 800), 50_000);
        assert!(m.blocked_at(49_999) && !m.blocked_at(50_000));
        assert_eq!(m.read(50_000), (11_000, 21_000));
        assert_eq!(m.read(60_000), (12_000, 22_000));
        assert_eq!(m.rate_at(30_000), (0, 0));
        m.reset(70_000);
        assert_eq!(m.read(80_000), (0, 0));
    }
}

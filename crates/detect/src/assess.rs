//! The rules. Each branch adds the sentence that explains it, so a verdict is
//! never a bare level.
//!
//! Beyond the panel's table, three readings matter in practice:
//! * Distances, not OS counts, tell households apart. Devices at the expected
//!   distance *and* one router further means a second network hangs off the
//!   line (medium); every device uniformly one hop further is one home behind a
//!   double NAT — mesh Wi-Fi in router mode, ONT plus own router — and is only
//!   watched (low) on PPPoE. On a hotspot no router is expected at all, so any
//!   extra hop is tethering (medium).
//! * A TTL above what any device at the expected distance can send (65, 129 on
//!   PPPoE) only comes from a router that rewrites TTLs: an evasion (high).
//!   Only OS defaults (64/128 on PPPoE) with real traffic is the same evasion
//!   done with `ttl-set 64` (medium); with a handful of connections it is just
//!   the customer's router asking DNS.
//! * Peer-to-peer clients open hundreds of connections on their own; those are
//!   reported but not counted towards sharing unless the owner asks.

use crate::words::thousands;
use std::collections::BTreeSet;

use crate::observation::{ProbeStrategy, SubscriberObservation};
use crate::settings::DetectionSettings;
use crate::ttl::{classify, expected_ttl, family_name, TtlClass};
use crate::verdict::{Evidence, EvidenceStatus, Level, RecommendedAction, TtlStatus, Verdict};

/// The level for an account online several times at once from different
/// caller-ids, on PPPoE (a hotspot account's several sessions are its
/// devices, which the session cap handles).
fn concurrent_sessions(obs: &SubscriberObservation, s: &DetectionSettings) -> Option<Level> {
    (obs.access == crate::observation::Access::Pppoe
        && obs.sessions.len() > 1
        && obs.caller_ids().len() > 1)
        .then_some(s.concurrent_sessions_level)
}

/// Assesses one subscriber.
pub fn assess(obs: &SubscriberObservation, s: &DetectionSettings) -> Verdict {
    let mut reasons = Vec::new();
    // Side remarks (the router's own traffic, TTLs under the threshold) come
    // after the reasons that decide the level, so the first reason is the verdict.
    let mut notes = Vec::new();
    let distance = crate::distance::resolve(obs);
    let e = distance.hops;
    let mut evidence = evidence(obs, e, s);
    let mut ttl = read_ttls(obs, e, s, &evidence, &mut reasons, &mut notes);
    over_time(obs, e, s, &mut ttl, &mut evidence, &mut reasons, &mut notes);
    if distance.source != crate::distance::DistanceSource::Router {
        notes.insert(0, distance.why.clone());
    }
    evidence.distance = Some(distance);
    router_own(obs, &mut evidence, &mut notes);

    let counted = if s.count_p2p_connections {
        obs.connections
    } else {
        obs.connections.saturating_sub(obs.p2p_connections)
    };
    let mut conn_level = connection_level(counted, s);
    // Many connections from devices that all sit at the expected distance,
    // seen well enough to judge, are one busy household (a gaming PC, a
    // console, a family streaming): the count alone weighs one level less.
    let one_household = evidence.status == EvidenceStatus::Sufficient
        && ttl.devices_at_expected
        && matches!(ttl.status, TtlStatus::Normal | TtlStatus::MultipleOs);
    let eased = one_household && conn_level >= Level::Medium;
    if eased {
        conn_level = match conn_level {
            Level::High => Level::Medium,
            _ => Level::Low,
        };
    }
    let conn_reason = reasons.len();
    explain_connections(obs, counted, conn_level, eased, s, &mut reasons);
    // The reason that decided the level goes first: a table shows only it.
    if conn_level > ttl.level {
        let r = reasons.remove(conn_reason);
        reasons.insert(0, r);
    }

    let mut level = ttl.level.max(conn_level);
    if ttl.status.is_router_evidence() && counted >= s.connections_high {
        level = Level::Critical;
        reasons.insert(
            0,
            format!(
                "Router evidence together with {} connections (at least {}): sharing is definite.",
                thousands(u64::from(counted)),
                thousands(u64::from(s.connections_high))
            ),
        );
    } else if ttl.status.is_router_evidence() && counted >= s.connections_medium {
        let raised = ttl.level.raised().max(conn_level);
        if raised > level {
            reasons.insert(
                0,
                format!(
                    "Router evidence together with {} connections raises the level to {raised}.",
                    thousands(u64::from(counted))
                ),
            );
            level = raised;
        }
    }

    if let Some(sessions_level) = concurrent_sessions(obs, s) {
        let ids = obs.caller_ids();
        let reason = format!(
            "The account is online {} times at once from different caller-ids ({}): two households dial with one login.",
            obs.sessions.len(),
            ids.join(", ")
        );
        if sessions_level > level {
            // It decides the level, so it is the first reason.
            reasons.insert(0, reason);
            level = sessions_level;
        } else {
            reasons.push(reason);
        }
    }

    explain_evidence(obs, &evidence, &mut reasons);
    reasons.extend(notes);

    let recommended_action = match level {
        Level::Critical => RecommendedAction::Disconnect,
        Level::High => RecommendedAction::ContactSubscriber,
        Level::Medium => RecommendedAction::Review,
        Level::Low => RecommendedAction::Watch,
        Level::Normal if evidence.status != EvidenceStatus::Sufficient => {
            RecommendedAction::GatherEvidence
        }
        Level::Normal => RecommendedAction::None,
    };
    let mut verdict = Verdict {
        ttl_status: ttl.status,
        level,
        assessed_level: level,
        whitelisted: false,
        reasons,
        recommended_action,
        evidence,
    };
    if let Some(reason) = &obs.whitelist {
        apply_whitelist(&mut verdict, reason);
    }
    verdict
}

/// Excuses a judged subscriber: never flagged, nothing recommended, and the
/// level the rules reached kept in `assessed_level` and said in the reasons.
/// Used by [`assess`] and wherever a whitelist entry made after a scan is shown.
pub fn apply_whitelist(v: &mut Verdict, reason: &str) {
    if v.whitelisted {
        return;
    }
    v.reasons.push(format!(
        "Whitelisted ({}): not flagged; the rules alone would say {}.",
        if reason.is_empty() {
            "no reason given"
        } else {
            reason
        },
        v.assessed_level
    ));
    v.level = Level::Normal;
    v.whitelisted = true;
    v.recommended_action = RecommendedAction::None;
}

/// The level connection counts alone reach.
pub fn connection_level(counted: u32, s: &DetectionSettings) -> Level {
    if counted >= s.connections_high {
        Level::High
    } else if counted >= s.connections_medium {
        Level::Medium
    } else if counted >= s.connections_low {
        Level::Low
    } else {
        Level::Normal
    }
}

fn evidence(obs: &SubscriberObservation, e: u8, s: &DetectionSettings) -> Evidence {
    let observations = obs.ttl.observations();
    let share = match obs.ttl.strategy {
        Some(ProbeStrategy::ConnectionMark) if obs.connections > 0 => {
            Some((observations as f64 / obs.connections as f64).min(1.0))
        }
        _ => None,
    };
    let status = match obs.ttl.strategy {
        None => EvidenceStatus::NoProbes,
        Some(ProbeStrategy::ConnectionMark) => {
            let needed = s.min_ttl_observations.min(obs.connections).max(1);
            if observations >= needed {
                EvidenceStatus::Sufficient
            } else {
                EvidenceStatus::Insufficient
            }
        }
        Some(ProbeStrategy::AddressList) => {
            // An address-list hit per TTL: the devices have to show up at all.
            let device_ttls = obs
                .ttl
                .counts
                .keys()
                .filter(|&&t| !matches!(classify(t, e), TtlClass::Edge { .. }))
                .count();
            if observations > 0 && (device_ttls > 0 || obs.connections >= s.rewrite_min_connections)
            {
                EvidenceStatus::Sufficient
            } else {
                EvidenceStatus::Insufficient
            }
        }
    };
    Evidence::new(status, observations, share, obs.ttl.probe_age_secs)
}

struct TtlReading {
    status: TtlStatus,
    level: Level,
    /// Devices were seen, and every one at the expected distance.
    devices_at_expected: bool,
}

impl TtlReading {
    fn new(status: TtlStatus, level: Level) -> Self {
        Self {
            status,
            level,
            devices_at_expected: false,
        }
    }
}

/// The TTLs in `counts` that show a router beyond the expected distance: a
/// device at least the router threshold further away, or a rewritten TTL.
pub fn router_ttls<'a>(
    counts: &'a std::collections::BTreeMap<u8, u32>,
    e: u8,
    s: &DetectionSettings,
) -> impl Iterator<Item = u8> + 'a {
    let router_extra = s.extra_hops_for_router();
    counts
        .keys()
        .copied()
        .filter(move |&t| match classify(t, e) {
            TtlClass::Lowered { extra, .. } => extra >= router_extra,
            TtlClass::Implausible => true,
            _ => false,
        })
}

/// True when `counts` show a router beyond the expected distance.
pub fn router_sign(
    counts: &std::collections::BTreeMap<u8, u32>,
    e: u8,
    s: &DetectionSettings,
) -> bool {
    router_ttls(counts, e, s).next().is_some()
}

/// Earlier scans of the line weigh in: a second router that showed in
/// several of them is flagged even when this scan missed its few devices
/// (a light sharer), and a router sign that shows for the first time after
/// several clean scans is only watched until it shows again (one odd scan,
/// a visitor's travel router, does not flag an honest line).
fn over_time(
    obs: &SubscriberObservation,
    e: u8,
    s: &DetectionSettings,
    ttl: &mut TtlReading,
    evidence: &mut Evidence,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    // Counted in one pass: this runs for every subscriber of every scan.
    let (mut judged, mut with_router) = (0usize, 0usize);
    for p in obs.line.judged() {
        judged += 1;
        evidence.past_observations += p.counts.values().sum::<u32>();
        with_router += usize::from(router_sign(&p.counts, e, s));
    }
    evidence.scans = 1 + judged as u32;
    if judged == 0 {
        return;
    }
    let now = ttl.status.is_router_evidence() && router_sign(&obs.ttl.counts, e, s);
    let scans = judged + 1;
    if now && with_router == 0 && judged >= ODD_SCAN_HISTORY && ttl.level == Level::Medium {
        ttl.level = Level::Low;
        if let Some(first) = reasons.first_mut() {
            first.push_str(&format!(
                " It shows for the first time in {scans} scans: watched, and raised to medium if it shows again."
            ));
        }
    } else if !now && with_router >= LIGHT_SHARER_SCANS && ttl.level < Level::Medium {
        let seen: BTreeSet<u8> = obs
            .line
            .judged()
            .flat_map(|p| router_ttls(&p.counts, e, s))
            .collect();
        let seen: Vec<u8> = seen.into_iter().collect();
        reasons.insert(
            0,
            format!(
                "Devices behind a second router (TTL {}) showed in {} of the last {scans} scans, though not in this one: a neighbour's few devices that come and go; a light sharer.",
                list(&seen),
                with_router
            ),
        );
        ttl.status = TtlStatus::RouterDetected;
        ttl.level = Level::Medium;
        ttl.devices_at_expected = false;
    } else if now && with_router > 0 {
        notes.push(format!(
            "The same sign showed in {with_router} of the {judged} earlier scans."
        ));
    }
}

/// Earlier scans that must have seen TTLs, with no router sign, before a
/// sign in this scan alone is only watched.
pub const ODD_SCAN_HISTORY: usize = 3;
/// Earlier scans with a router sign that flag a line whose current scan
/// shows none.
pub const LIGHT_SHARER_SCANS: usize = 2;

/// Notes the subscriber's router's own connections, which the scanner kept
/// out of the TTL counts.
fn router_own(obs: &SubscriberObservation, evidence: &mut Evidence, notes: &mut Vec<String>) {
    let n: u32 = obs.ttl.router_own.values().sum();
    evidence.router_own = n;
    if n > 0 {
        let ttls: Vec<u8> = obs.ttl.router_own.keys().copied().collect();
        notes.push(format!(
            "{} at TTL {} {} the subscriber's own router talking (DNS, NTP, TR-069): kept out of the TTL evidence.",
            crate::words::count(u64::from(n), "connection"),
            list(&ttls),
            if n == 1 { "is" } else { "are" }
        ));
    }
}

/// `61, 62, 125`: one allocation, since every verdict lists TTLs.
fn list(ttls: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(ttls.len() * 5);
    for (i, t) in ttls.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{t}");
    }
    out
}

/// The most of a line's connections that may arrive at the expected
/// distance while the rest, one router further, is read as the home itself
/// behind its own second router (mesh Wi-Fi in router mode, ONT plus own
/// router) rather than a second household behind the subscriber's.
pub const OWN_ROUTER_NEAR_SHARE: f64 = 0.25;
/// Connections at the two distances below which shares mean nothing.
pub const OWN_ROUTER_MIN_CONNECTIONS: u32 = 12;

/// A line read as one home behind its own second router: connections at the
/// expected distance (`near`) and one router further (`far`), over this scan
/// and `earlier_scans` earlier ones.
struct OwnRouter {
    near: u32,
    far: u32,
    earlier_scans: usize,
}

/// Whether the line is one home behind its own second router: on PPPoE,
/// counted connections (connection-mark probes, seen well enough to judge),
/// devices only at the expected distance and one router further in this
/// scan, and over this scan and the line's earlier ones at most
/// [`OWN_ROUTER_NEAR_SHARE`] of those connections nearer. Earlier scans
/// steady the share, so a home near the line does not flip between
/// readings from one scan to the next.
///
/// Why the share decides: a home that puts its own mesh or router behind the
/// ISP's lives behind it; what is left one router nearer is that router's own
/// cloud and time traffic and perhaps a wired device on the ISP's router, a
/// small part of the line. A neighbour fed by a second router is the
/// opposite picture, the home at the expected distance and the neighbour's
/// devices behind it. A sharer whose neighbour carries three quarters of the
/// traffic reads as the former; the connection counts still raise a busy
/// line, and verdicts over time keep watching it.
fn home_behind_own_router(
    obs: &SubscriberObservation,
    e: u8,
    s: &DetectionSettings,
    expected: &[u8],
    lowered: &[u8],
    evidence: &Evidence,
) -> Option<OwnRouter> {
    let counted = obs.access == crate::observation::Access::Pppoe
        && e >= 1
        && obs.ttl.strategy == Some(ProbeStrategy::ConnectionMark)
        && evidence.status == EvidenceStatus::Sufficient;
    if !counted || expected.is_empty() || lowered.is_empty() {
        return None;
    }
    let router_extra = s.extra_hops_for_router();
    let (mut near, mut far, mut earlier_scans) = (0u32, 0u32, 0usize);
    let mut add = |counts: &std::collections::BTreeMap<u8, u32>| {
        for (&t, &n) in counts {
            match classify(t, e) {
                TtlClass::Expected { .. } => near += n,
                TtlClass::Lowered { extra, .. } if extra == router_extra => far += n,
                _ => {}
            }
        }
    };
    add(&obs.ttl.counts);
    for p in obs.line.judged() {
        add(&p.counts);
        earlier_scans += 1;
    }
    let total = near + far;
    (total >= OWN_ROUTER_MIN_CONNECTIONS
        && f64::from(near) <= OWN_ROUTER_NEAR_SHARE * f64::from(total))
    .then_some(OwnRouter {
        near,
        far,
        earlier_scans,
    })
}

fn read_ttls(
    obs: &SubscriberObservation,
    e: u8,
    s: &DetectionSettings,
    evidence: &Evidence,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> TtlReading {
    let router_extra = s.extra_hops_for_router();
    let bridged = e == 0 && obs.access == crate::observation::Access::Pppoe;
    let mut expected = Vec::new();
    let mut families = BTreeSet::new();
    let mut edge = Vec::new();
    let mut lowered = Vec::new();
    let mut below_threshold = Vec::new();
    let mut implausible = Vec::new();
    let mut extras = BTreeSet::new();
    for &t in obs.ttl.counts.keys() {
        match classify(t, e) {
            TtlClass::Expected { family } => {
                expected.push(t);
                families.insert(family);
            }
            TtlClass::Edge { .. } => edge.push(t),
            TtlClass::Lowered { extra, .. } if extra >= router_extra => {
                lowered.push(t);
                extras.insert(extra);
            }
            TtlClass::Lowered { .. } => below_threshold.push(t),
            TtlClass::Implausible => implausible.push(t),
        }
    }
    // Only some reasons need these, and this runs for every subscriber:
    // they are formatted where used.
    let hop_words = || match e {
        0 => "directly attached".to_string(),
        1 => "1 hop away".to_string(),
        n => format!("{n} hops away"),
    };
    let expected_list = || list(&[expected_ttl(64, e), expected_ttl(128, e)]);

    if !below_threshold.is_empty() {
        notes.push(format!(
            "TTL {} is below the expected value by fewer hops than the router threshold ({}): not counted.",
            list(&below_threshold),
            s.ttl_threshold
        ));
    }

    if !implausible.is_empty() {
        reasons.push(format!(
            "TTL {} cannot come from any device {} (expected {}): a router is rewriting TTLs to hide the devices behind it.",
            list(&implausible),
            hop_words(),
            expected_list()
        ));
        return TtlReading::new(TtlStatus::TtlRewritten, Level::High);
    }

    if !edge.is_empty() && expected.is_empty() && lowered.is_empty() {
        if evidence.status == EvidenceStatus::Sufficient
            && obs.connections >= s.rewrite_min_connections
        {
            reasons.push(format!(
                "Every observed TTL ({}) is an OS default although devices on this line should arrive with {}: the subscriber's router resets TTLs (a known way to hide sharing).",
                list(&edge),
                expected_list()
            ));
            return TtlReading::new(TtlStatus::TtlRewritten, Level::Medium);
        }
        reasons.push(format!(
            "Only TTL {} was seen: the subscriber's own router (DNS, NTP) rather than the devices behind it.",
            list(&edge)
        ));
        return TtlReading::new(TtlStatus::Normal, Level::Normal);
    }

    // A PC that dials PPPoE itself sends at its OS's initial TTL, like a
    // home router's own traffic; but a router is Linux (64) and talks a
    // little, so traffic at 128, or real traffic at 64 once the router's
    // DNS/NTP is kept out, next to devices one hop further is a bridged PC
    // sharing its connection.
    let router_line_with_devices = obs.access == crate::observation::Access::Pppoe
        && e == 1
        && lowered.is_empty()
        && !expected.is_empty();
    let dialling_pc: Vec<u8> = edge
        .iter()
        .copied()
        .filter(|&t| match (t, obs.ttl.strategy) {
            (128, _) => true,
            (64, Some(ProbeStrategy::ConnectionMark)) => {
                obs.ttl.counts.get(&t).copied().unwrap_or(0) >= s.rewrite_min_connections
            }
            _ => false,
        })
        .collect();
    if router_line_with_devices && !dialling_pc.is_empty() {
        reasons.push(format!(
            "A PC arrives untouched (TTL {}) next to devices one hop behind it (TTL {}): it dials PPPoE itself through a bridged modem and shares its connection (Windows mobile hotspot or internet connection sharing).",
            list(&dialling_pc),
            list(&expected)
        ));
        return TtlReading::new(TtlStatus::RouterDetected, Level::Medium);
    }

    if !edge.is_empty() {
        notes.push(format!(
            "TTL {} is the subscriber's own router talking (DNS, NTP): expected.",
            list(&edge)
        ));
    }

    if !lowered.is_empty() {
        let extra_max = extras.iter().copied().max().unwrap_or(router_extra);
        if extras.len() >= 2 || extra_max > router_extra {
            reasons.push(if extras.len() >= 2 {
                format!(
                    "TTLs {} show devices behind {} different numbers of extra routers (up to {extra_max}): several networks, most likely several households, share this line.",
                    list(&lowered),
                    extras.len()
                )
            } else {
                format!(
                    "TTLs {} show devices {extra_max} routers further than expected: a chain of routers, most likely several households, share this line.",
                    list(&lowered)
                )
            });
            return TtlReading::new(TtlStatus::DoubleRouter, Level::High);
        }
        if !expected.is_empty() && bridged {
            reasons.push(format!(
                "The PC that dials (TTL {}) has devices one hop behind it (TTL {}): it shares its connection (Windows mobile hotspot or internet connection sharing).",
                list(&expected),
                list(&lowered)
            ));
            return TtlReading::new(TtlStatus::RouterDetected, Level::Medium);
        }
        if !expected.is_empty() && e == 0 {
            reasons.push(format!(
                "A device attached directly (TTL {}) with other devices one hop behind it (TTL {}): it shares its connection (tethering or a travel router).",
                list(&expected),
                list(&lowered)
            ));
            return TtlReading::new(TtlStatus::RouterDetected, Level::Medium);
        }
        if let Some(own) = home_behind_own_router(obs, e, s, &expected, &lowered, evidence) {
            let over = match own.earlier_scans {
                0 => String::new(),
                n => format!(
                    " over this scan and {}",
                    crate::words::count(n as u64, "earlier one")
                ),
            };
            reasons.push(format!(
                "Most connections ({} of {}{over}) come from behind a second router (TTL {}) and only a few from the first (TTL {}): one home behind its own router or mesh Wi-Fi in router mode, the few nearer ones that router itself or a device left on the ISP's router. Watched; a busy line raises it.",
                thousands(u64::from(own.far)),
                thousands(u64::from(own.near + own.far)),
                list(&lowered),
                list(&expected)
            ));
            return TtlReading::new(TtlStatus::RouterDetected, Level::Low);
        }
        if !expected.is_empty() {
            reasons.push(format!(
                "Devices at the expected distance (TTL {}) and one router further (TTL {}): a second router with its own devices hangs off this subscriber's network.",
                list(&expected),
                list(&lowered)
            ));
            return TtlReading::new(TtlStatus::RouterDetected, Level::Medium);
        }
        if e == 0 {
            reasons.push(format!(
                "Every device is one hop further than a directly attached device can be (TTL {}): the connection is tethered through a phone or travel router.",
                list(&lowered)
            ));
            return TtlReading::new(TtlStatus::RouterDetected, Level::Medium);
        }
        reasons.push(format!(
            "Every device is one hop further than expected (TTL {}): one home behind a second router (mesh Wi-Fi in router mode, ONT plus own router). Common and not sharing on its own; watched.",
            list(&lowered)
        ));
        return TtlReading::new(TtlStatus::RouterDetected, Level::Low);
    }

    if families.len() >= 2 {
        let names: Vec<_> = families.iter().map(|&f| family_name(f)).collect();
        reasons.push(format!(
            "{} devices at the expected distance (TTL {}): a normal family mix of operating systems.",
            names.join(" and "),
            list(&expected)
        ));
        return TtlReading {
            devices_at_expected: lowered.is_empty() && below_threshold.is_empty(),
            ..TtlReading::new(TtlStatus::MultipleOs, Level::Low)
        };
    }

    if !expected.is_empty() {
        reasons.push(format!(
            "TTL {} matches {} devices {}: one household.",
            list(&expected),
            families
                .iter()
                .map(|&f| family_name(f))
                .next()
                .unwrap_or(""),
            hop_words()
        ));
    }
    TtlReading {
        devices_at_expected: !expected.is_empty() && below_threshold.is_empty(),
        ..TtlReading::new(TtlStatus::Normal, Level::Normal)
    }
}

fn explain_connections(
    obs: &SubscriberObservation,
    counted: u32,
    level: Level,
    eased: bool,
    s: &DetectionSettings,
    reasons: &mut Vec<String>,
) {
    let p2p = if obs.p2p_connections > 0 && !s.count_p2p_connections {
        format!(
            " ({} look like peer-to-peer traffic and are not counted; {} counted)",
            thousands(u64::from(obs.p2p_connections)),
            thousands(u64::from(counted))
        )
    } else {
        String::new()
    };
    if eased {
        let threshold = if level == Level::Medium {
            format!(
                "the sharing threshold of {}",
                thousands(u64::from(s.connections_high))
            )
        } else {
            format!(
                "the review threshold of {}",
                thousands(u64::from(s.connections_medium))
            )
        };
        reasons.push(format!(
            "{} connections{p2p}: at or above {threshold}, but every device is at the expected distance: one busy household (gaming, streaming), so the count alone weighs one level less ({level}).",
            thousands(u64::from(obs.connections))
        ));
        return;
    }
    let verdict = match level {
        Level::Normal => format!(
            "below the watch threshold of {}",
            thousands(u64::from(s.connections_low))
        ),
        Level::Low => format!(
            "at or above the watch threshold of {}",
            thousands(u64::from(s.connections_low))
        ),
        Level::Medium => format!(
            "at or above the review threshold of {}",
            thousands(u64::from(s.connections_medium))
        ),
        _ => format!(
            "at or above the sharing threshold of {}",
            thousands(u64::from(s.connections_high))
        ),
    };
    reasons.push(format!(
        "{} connections{p2p}: {verdict}.",
        thousands(u64::from(obs.connections))
    ));
}

fn explain_evidence(obs: &SubscriberObservation, ev: &Evidence, reasons: &mut Vec<String>) {
    let age = ev
        .probe_age_secs
        .map(|s| format!(" since the probes were installed {} ago", human_duration(s)))
        .unwrap_or_default();
    match ev.status {
        EvidenceStatus::NoProbes => reasons.push(
            "No TTL probes on this router: judged on connection counts only. Install the probes to see TTLs."
                .into(),
        ),
        EvidenceStatus::Insufficient => {
            let seen = match ev.share {
                Some(_) => format!(
                    "{} of {} connections observed",
                    crate::words::thousands(u64::from(ev.observations)),
                    crate::words::thousands(u64::from(obs.connections))
                ),
                None => crate::words::count(u64::from(ev.observations), "TTL observation"),
            };
            reasons.push(format!(
                "Too little TTL evidence to judge ({seen}{age}): probes only see connections opened after they were installed; scan again later."
            ));
        }
        EvidenceStatus::Sufficient => {
            if let Some(share) = ev.share {
                reasons.push(format!(
                    "TTL evidence: {} of {} connections observed ({:.0}%){age}.",
                    thousands(u64::from(ev.observations)),
                    thousands(u64::from(obs.connections)),
                    share * 100.0
                ));
            }
        }
    }
    if ev.scans > 1 {
        let earlier = ev.scans - 1;
        reasons.push(format!(
            "The verdict rests on this scan and {} of the last {} days ({} in all).",
            crate::words::count(u64::from(earlier), "earlier scan"),
            crate::line::HISTORY_DAYS,
            crate::words::count(
                u64::from(ev.observations) + u64::from(ev.past_observations),
                "TTL observation"
            )
        ));
    }
}

/// `3h 5m`, `12m`, `40s`: short enough for a reason line.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

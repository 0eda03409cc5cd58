//! The five abuse detectors: one snapshot of one subscriber in, findings out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::thresholds::{AbuseThresholds, Severity};
use crate::observation::Access;
use crate::ttl::{classify, family_name, TtlClass};

/// What kind of abuse a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AbuseKind {
    ConnectionFlood,
    ConnectionRate,
    // Named outright: serde writes "p2p", while the TypeScript generator's
    // snake case would say "p_2p".
    #[serde(rename = "p2p")]
    P2p,
    BandwidthHog,
    Tethering,
}

impl AbuseKind {
    pub const ALL: [Self; 5] = [
        Self::ConnectionFlood,
        Self::ConnectionRate,
        Self::P2p,
        Self::BandwidthHog,
        Self::Tethering,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionFlood => "connection_flood",
            Self::ConnectionRate => "connection_rate",
            Self::P2p => "p2p",
            Self::BandwidthHog => "bandwidth_hog",
            Self::Tethering => "tethering",
        }
    }

    /// Words for tables and notifications.
    pub fn label(self) -> &'static str {
        match self {
            Self::ConnectionFlood => "Connection flood",
            Self::ConnectionRate => "New-connection burst",
            Self::P2p => "Peer-to-peer",
            Self::BandwidthHog => "Bandwidth hogging",
            Self::Tethering => "Tethering",
        }
    }
}

/// Bandwidth use against the plan, as the monitor tracked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Usage {
    /// The plan as `upload/download` (e.g. `10M/20M`).
    pub plan: String,
    /// Use since the previous snapshot as a share of the plan, in percent, in
    /// whichever direction is fuller.
    pub percent: f64,
    /// How long use has stayed at or above the hogging share without a break.
    pub near_plan_for_s: u64,
}

/// One subscriber in one monitor cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AbuseSample {
    pub subscriber: String,
    pub nas: String,
    pub address: String,
    pub access: Access,
    /// Hops between a legitimate device and the NAS on this line.
    pub expected_hops: u8,
    /// Tracked connections now.
    pub connections: u32,
    /// New connections per second since the previous snapshot; `None` on the
    /// first snapshot, when there is nothing to compare with.
    pub new_per_second: Option<f64>,
    /// Connections that look like peer-to-peer traffic.
    pub p2p_connections: u32,
    /// The router's P2P marking rules saw this subscriber.
    pub p2p_classified: bool,
    pub usage: Option<Usage>,
    /// Observations per TTL from the probes, when installed.
    pub ttl: BTreeMap<u8, u32>,
}

/// One thing a detector found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub kind: AbuseKind,
    pub severity: Severity,
    /// The figure that tripped the detector, in the detector's unit.
    pub measured: f64,
    /// The threshold it reached.
    pub threshold: f64,
    /// One sentence an owner can read to the customer.
    pub details: String,
}

/// Runs every detector over one sample. The result is ordered by kind.
pub fn findings(s: &AbuseSample, t: &AbuseThresholds) -> Vec<Finding> {
    [
        flood(s, t),
        rate(s, t),
        p2p(s, t),
        hog(s, t),
        tethering(s, t),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The strictest step the findings call for.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

fn flood(s: &AbuseSample, t: &AbuseThresholds) -> Option<Finding> {
    let c = s.connections;
    let (severity, threshold) = if c >= t.flood_ban {
        (Severity::Ban, t.flood_ban)
    } else if c >= t.flood_throttle {
        (Severity::Throttle, t.flood_throttle)
    } else if c >= t.flood_warning {
        (Severity::Warning, t.flood_warning)
    } else {
        return None;
    };
    Some(Finding {
        kind: AbuseKind::ConnectionFlood,
        severity,
        measured: f64::from(c),
        threshold: f64::from(threshold),
        details: format!(
            "{c} concurrent connections (the {} threshold is {threshold})",
            severity.as_str()
        ),
    })
}

fn rate(s: &AbuseSample, t: &AbuseThresholds) -> Option<Finding> {
    let r = s.new_per_second?;
    let (severity, threshold) = if r >= t.rate_throttle {
        (Severity::Throttle, t.rate_throttle)
    } else if r >= t.rate_warning {
        (Severity::Warning, t.rate_warning)
    } else {
        return None;
    };
    Some(Finding {
        kind: AbuseKind::ConnectionRate,
        severity,
        measured: r,
        threshold,
        details: format!(
            "{r:.1} new connections per second since the last check (the {} threshold is {threshold})",
            severity.as_str()
        ),
    })
}

fn p2p(s: &AbuseSample, t: &AbuseThresholds) -> Option<Finding> {
    let n = s.p2p_connections;
    let heuristic = n >= t.p2p_min_connections;
    if !heuristic && !s.p2p_classified {
        return None;
    }
    let share = if s.connections > 0 {
        f64::from(n) * 100.0 / f64::from(s.connections)
    } else {
        0.0
    };
    let details = match (s.p2p_classified, heuristic) {
        (true, true) => format!(
            "the router's P2P rules matched, and {n} connections ({share:.0}%) go to peers on high ports"
        ),
        (true, false) => "the router's P2P rules matched this subscriber's traffic".to_string(),
        _ => format!(
            "{n} connections ({share:.0}% of {}) go to peers on high ports, as file sharing does",
            s.connections
        ),
    };
    Some(Finding {
        kind: AbuseKind::P2p,
        severity: t.p2p_severity,
        measured: f64::from(n),
        threshold: f64::from(t.p2p_min_connections),
        details,
    })
}

fn hog(s: &AbuseSample, t: &AbuseThresholds) -> Option<Finding> {
    let u = s.usage.as_ref()?;
    let window_s = u64::from(t.hog_window_min) * 60;
    if u.percent < f64::from(t.hog_percent) || u.near_plan_for_s < window_s {
        return None;
    }
    Some(Finding {
        kind: AbuseKind::BandwidthHog,
        severity: t.hog_severity,
        measured: u.percent,
        threshold: f64::from(t.hog_percent),
        details: format!(
            "{:.0}% of the {} plan for {} min without a break (the threshold is {}% for {} min)",
            u.percent,
            u.plan,
            u.near_plan_for_s / 60,
            t.hog_percent,
            t.hog_window_min
        ),
    })
}

/// A hotspot session is one device: several OS families behind it, or TTLs
/// one router further away than a device on the Wi-Fi can be, mean it shares
/// its connection. PPPoE lines have a router by design; the sharing scan
/// judges those.
fn tethering(s: &AbuseSample, t: &AbuseThresholds) -> Option<Finding> {
    if !t.tethering || s.access != Access::Hotspot {
        return None;
    }
    let mut families = Vec::new();
    let mut lowered = Vec::new();
    for (&ttl, &n) in &s.ttl {
        if n == 0 {
            continue;
        }
        match classify(ttl, s.expected_hops) {
            TtlClass::Expected { family } => families.push(family),
            TtlClass::Lowered { family, .. } => {
                families.push(family);
                lowered.push(ttl);
            }
            TtlClass::Edge { .. } | TtlClass::Implausible => {}
        }
    }
    families.sort_unstable();
    families.dedup();
    if lowered.is_empty() && families.len() < 2 {
        return None;
    }
    let names: Vec<&str> = families.iter().map(|&f| family_name(f)).collect();
    let details = if lowered.is_empty() {
        format!(
            "devices of {} families ({}) behind one hotspot device",
            families.len(),
            names.join(", ")
        )
    } else {
        let ttls: Vec<String> = lowered.iter().map(u8::to_string).collect();
        format!(
            "TTL {} behind one hotspot device: another device routes through it",
            ttls.join(", ")
        )
    };
    Some(Finding {
        kind: AbuseKind::Tethering,
        severity: t.tethering_severity,
        measured: (families.len() + lowered.len()) as f64,
        threshold: 2.0,
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AbuseSample {
        AbuseSample {
            subscriber: "ana".into(),
            nas: "nas1".into(),
            address: "10.0.0.2".into(),
            access: Access::Pppoe,
            expected_hops: 1,
            connections: 40,
            new_per_second: Some(0.5),
            p2p_connections: 0,
            p2p_classified: false,
            usage: None,
            ttl: BTreeMap::new(),
        }
    }

    fn kinds(s: &AbuseSample) -> Vec<(AbuseKind, Severity)> {
        findings(s, &AbuseThresholds::default())
            .into_iter()
            .map(|f| (f.kind, f.severity))
            .collect()
    }

    #[test]
    fn a_quiet_subscriber_has_no_findings() {
        assert!(kinds(&sample()).is_empty());
        assert_eq!(worst(&[]), None);
    }

    #[test]
    fn flood_steps_at_each_threshold() {
        let at = |c| {
            kinds(&AbuseSample {
                connections: c,
                ..sample()
            })
        };
        assert!(at(99).is_empty());
        assert_eq!(at(100), [(AbuseKind::ConnectionFlood, Severity::Warning)]);
        assert_eq!(at(200), [(AbuseKind::ConnectionFlood, Severity::Throttle)]);
        assert_eq!(at(499), [(AbuseKind::ConnectionFlood, Severity::Throttle)]);
        assert_eq!(at(500), [(AbuseKind::ConnectionFlood, Severity::Ban)]);
        let f = &findings(
            &AbuseSample {
                connections: 612,
                ..sample()
            },
            &AbuseThresholds::default(),
        )[0];
        assert_eq!(
            f.details,
            "612 concurrent connections (the ban threshold is 500)"
        );
    }

    #[test]
    fn rate_needs_two_snapshots() {
        let at = |r| {
            kinds(&AbuseSample {
                new_per_second: r,
                ..sample()
            })
        };
        assert!(at(None).is_empty());
        assert!(at(Some(9.9)).is_empty());
        assert_eq!(
            at(Some(10.0)),
            [(AbuseKind::ConnectionRate, Severity::Warning)]
        );
        assert_eq!(
            at(Some(25.0)),
            [(AbuseKind::ConnectionRate, Severity::Throttle)]
        );
    }

    #[test]
    fn p2p_from_the_table_or_the_router() {
        let s = AbuseSample {
            connections: 150,
            p2p_connections: 120,
            ..sample()
        };
        let f = findings(&s, &AbuseThresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].kind, AbuseKind::P2p);
        assert!(
            f[1].details.contains("120 connections (80% of 150)"),
            "{}",
            f[1].details
        );
        let few = AbuseSample {
            p2p_connections: 20,
            ..sample()
        };
        assert!(kinds(&few).is_empty());
        let marked = AbuseSample {
            p2p_classified: true,
            ..few
        };
        assert_eq!(kinds(&marked), [(AbuseKind::P2p, Severity::Warning)]);
    }

    #[test]
    fn hogging_needs_the_share_for_the_whole_window() {
        let with = |percent, secs| AbuseSample {
            usage: Some(Usage {
                plan: "10M/20M".into(),
                percent,
                near_plan_for_s: secs,
            }),
            ..sample()
        };
        assert!(kinds(&with(95.0, 29 * 60)).is_empty());
        assert!(kinds(&with(80.0, 3600)).is_empty());
        let f = findings(&with(96.0, 31 * 60), &AbuseThresholds::default());
        assert_eq!(f[0].kind, AbuseKind::BandwidthHog);
        assert_eq!(
            f[0].details,
            "96% of the 10M/20M plan for 31 min without a break (the threshold is 90% for 30 min)"
        );
        let strict = AbuseThresholds {
            hog_severity: Severity::Throttle,
            ..Default::default()
        };
        assert_eq!(
            findings(&with(96.0, 3600), &strict)[0].severity,
            Severity::Throttle
        );
    }

    #[test]
    fn tethering_only_on_hotspot_lines() {
        let hotspot = |ttls: &[(u8, u32)]| AbuseSample {
            access: Access::Hotspot,
            expected_hops: 0,
            ttl: ttls.iter().copied().collect(),
            ..sample()
        };
        assert!(kinds(&hotspot(&[(64, 30)])).is_empty());
        let lowered = findings(&hotspot(&[(64, 30), (63, 12)]), &AbuseThresholds::default());
        assert_eq!(lowered[0].kind, AbuseKind::Tethering);
        assert!(
            lowered[0].details.contains("TTL 63"),
            "{}",
            lowered[0].details
        );
        let mixed = findings(&hotspot(&[(64, 30), (128, 2)]), &AbuseThresholds::default());
        assert!(
            mixed[0].details.contains("2 families"),
            "{}",
            mixed[0].details
        );
        // The same TTLs on PPPoE are a home router's normal view.
        let pppoe = AbuseSample {
            ttl: [(63, 30), (62, 12)].into_iter().collect(),
            ..sample()
        };
        assert!(kinds(&pppoe).is_empty());
        let off = AbuseThresholds {
            tethering: false,
            ..Default::default()
        };
        assert!(findings(&hotspot(&[(63, 12)]), &off).is_empty());
    }

    #[test]
    fn worst_picks_the_strictest() {
        let s = AbuseSample {
            connections: 250,
            new_per_second: Some(12.0),
            ..sample()
        };
        let f = findings(&s, &AbuseThresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(worst(&f), Some(Severity::Throttle));
    }
}

//! The plain records a report is made of.
//!
//! [`crate::collect`] fills them from the store; the renderers
//! ([`crate::charts`], [`crate::pdf`], [`crate::csv_export`]) read only
//! these, so every chart and page can be produced and tested without a
//! database, and the desktop app can draw a chart from data it already holds.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use shareguard_detect::abuse::AbuseKind;
use shareguard_detect::{
    Access, DetectionSettings, Level, NasOutcome, ScanSummary, SubscriberResult,
};
use shareguard_store::export::ExportedResult;
use shareguard_store::{AbuseMetrics, Action, AuditRecord, HistoryEntry, TrendPoint, Warning};

/// How many TTL observations were seen per TTL value, and which values a
/// device at the expected distance sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TtlDistribution {
    /// Observations per TTL (with address-list probes, one per subscriber and TTL).
    pub counts: BTreeMap<u8, u64>,
    /// The TTLs of a device at the router's expected distance (63/127 on
    /// PPPoE, 64/128 on a hotspot, shifted by the router's hop setting).
    pub expected: BTreeSet<u8>,
}

impl TtlDistribution {
    /// One subscriber's observations (`SubscriberResult::ttl_counts`) on a
    /// router with `expected_hops` (its setting, or the access type's
    /// default), for the subscriber page's chart.
    pub fn of_subscriber(counts: &BTreeMap<u8, u32>, expected_hops: u8) -> Self {
        let mut d = Self {
            counts: BTreeMap::new(),
            expected: expected_ttls(expected_hops).into(),
        };
        d.add(counts);
        d
    }

    /// Adds one subscriber's observations.
    pub fn add(&mut self, counts: &BTreeMap<u8, u32>) {
        for (&ttl, &n) in counts {
            *self.counts.entry(ttl).or_default() += u64::from(n);
        }
    }

    /// Total observations.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Observations at an expected TTL, as a share of all (0 without data).
    pub fn expected_share(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let at: u64 = self
            .counts
            .iter()
            .filter(|(t, _)| self.expected.contains(t))
            .map(|(_, n)| n)
            .sum();
        at as f64 / total as f64
    }
}

/// The TTLs a device at `hops` from the router sends: each OS family's
/// initial TTL (64 for Linux, Android and Apple, 128 for Windows) minus the
/// hops.
pub fn expected_ttls(hops: u8) -> [u8; 2] {
    [64u8.saturating_sub(hops), 128u8.saturating_sub(hops)]
}

/// Connections per subscriber, and the sharing thresholds they are judged by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionHistogram {
    /// One entry per subscriber.
    pub connections: Vec<u32>,
    /// Connections at which a subscriber is put on the watch list (low),
    /// flagged for review (medium) and almost certainly shared (high).
    pub low: u32,
    pub medium: u32,
    pub high: u32,
}

impl ConnectionHistogram {
    pub fn new(settings: &DetectionSettings) -> Self {
        Self {
            connections: Vec::new(),
            low: settings.connections_low,
            medium: settings.connections_medium,
            high: settings.connections_high,
        }
    }

    /// Subscribers at or above `threshold`.
    pub fn at_or_above(&self, threshold: u32) -> usize {
        self.connections.iter().filter(|&&c| c >= threshold).count()
    }
}

/// Every subscriber's latest verdict in figures, for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResultsOverview {
    pub totals: Totals,
    /// Network-wide, every router's expected values marked.
    pub ttl: TtlDistribution,
    /// Per router, in name order.
    pub ttl_by_router: Vec<RouterTtl>,
    pub connections: ConnectionHistogram,
}

/// Subscribers per level and the counts a summary starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Totals {
    pub checked: u64,
    /// Medium or above and not whitelisted.
    pub flagged: u64,
    pub whitelisted: u64,
    /// Subscribers per level, in [`Level::ALL`] order.
    pub by_level: [u64; 5],
}

impl Totals {
    pub fn add(&mut self, level: Level, whitelisted: bool) {
        self.checked += 1;
        self.by_level[level_index(level)] += 1;
        if whitelisted {
            self.whitelisted += 1;
        } else if level >= Level::Medium {
            self.flagged += 1;
        }
    }

    pub fn at(&self, level: Level) -> u64 {
        self.by_level[level_index(level)]
    }
}

pub(crate) fn level_index(level: Level) -> usize {
    Level::ALL.iter().position(|&l| l == level).unwrap_or(0)
}

/// One router's part of a scan, with what the report needs to read its TTLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouterStatus {
    pub outcome: NasOutcome,
    /// The router's access type, from its stored definition or its results.
    pub access: Option<Access>,
    pub expected_ttls: BTreeSet<u8>,
}

/// One router's TTL distribution in a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouterTtl {
    pub router: String,
    pub distribution: TtlDistribution,
}

/// Everything a scan report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScanReport {
    pub generated_at: DateTime<Utc>,
    /// Only subscribers with this reseller/area tag.
    pub tag: Option<String>,
    /// `None` when no scan has been stored yet.
    pub scan: Option<ScanSummary>,
    /// The thresholds in force for this scan (the current ones without a scan).
    pub settings: DetectionSettings,
    pub totals: Totals,
    /// Network-wide TTL distribution.
    pub ttl: TtlDistribution,
    pub ttl_by_router: Vec<RouterTtl>,
    pub connections: ConnectionHistogram,
    /// Flagged subscribers, most suspicious first (at most
    /// [`crate::collect::FLAGGED_IN_PDF`]).
    pub flagged: Vec<ExportedResult>,
    /// Flagged subscribers not listed in `flagged` (they are in the CSV export).
    pub flagged_not_listed: u64,
    pub routers: Vec<RouterStatus>,
    /// Flagged subscribers per scan, oldest first, up to this scan.
    pub trend: Vec<TrendPoint>,
}

/// How wide each bar of a timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
    Week,
}

impl Bucket {
    /// A width that gives a readable number of bars for a range.
    pub fn for_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let days = (to - from).num_hours() as f64 / 24.0;
        if days <= 2.0 {
            Self::Hour
        } else if days <= 62.0 {
            Self::Day
        } else {
            Self::Week
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }
}

/// Warnings opened per kind, per time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WarningTimeline {
    pub bucket: Bucket,
    /// Start of each bucket, oldest first, with warnings opened per kind in
    /// [`AbuseKind::ALL`] order. Every bucket of the range is present.
    pub points: Vec<(DateTime<Utc>, [u32; 5])>,
}

impl WarningTimeline {
    /// Empty buckets covering `[from, to)`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let bucket = Bucket::for_range(from, to);
        let step = bucket.seconds();
        let start = match bucket {
            // Weeks start on Monday, as calendars do.
            Bucket::Week => {
                let day = from.date_naive();
                let monday =
                    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
                monday
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp()
            }
            _ => from.timestamp().div_euclid(step) * step,
        };
        let mut points = Vec::new();
        let mut t = start;
        while t < to.timestamp() && points.len() < 2000 {
            if let Some(at) = DateTime::from_timestamp(t, 0) {
                points.push((at, [0; 5]));
            }
            t += step;
        }
        Self { bucket, points }
    }

    /// Counts one warning opened at `at` (outside the range: ignored).
    pub fn add(&mut self, at: DateTime<Utc>, kind: AbuseKind) {
        let Some(first) = self.points.first().map(|p| p.0) else {
            return;
        };
        let i = (at - first).num_seconds().div_euclid(self.bucket.seconds());
        if let Some(p) = usize::try_from(i).ok().and_then(|i| self.points.get_mut(i)) {
            let k = AbuseKind::ALL.iter().position(|&x| x == kind).unwrap_or(0);
            p.1[k] += 1;
        }
    }

    pub fn total(&self) -> u64 {
        self.points.iter().flat_map(|p| p.1).map(u64::from).sum()
    }
}

/// Everything an abuse report for a date range shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AbuseReport {
    pub generated_at: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub metrics: AbuseMetrics,
    pub timeline: WarningTimeline,
    /// The warnings listed, strictest and latest first (at most
    /// [`crate::collect::WARNINGS_IN_PDF`]).
    pub warnings: Vec<Warning>,
    pub warnings_not_listed: u64,
    /// Enforcement actions started in the range, oldest first.
    pub actions: Vec<Action>,
    pub actions_not_listed: u64,
}

/// Everything known about one subscriber, for an evidence pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscriberReport {
    pub generated_at: DateTime<Utc>,
    pub subscriber: String,
    /// The latest verdict, if a scan still holds one.
    pub latest: Option<SubscriberResult>,
    pub tag: Option<String>,
    /// Why the subscriber is whitelisted now, if so.
    pub whitelist_reason: Option<String>,
    /// Verdicts across scans, newest first.
    pub history: Vec<HistoryEntry>,
    /// The latest verdict's TTL observations.
    pub ttl: TtlDistribution,
    /// The thresholds in force now (for the connection chart).
    pub settings: DetectionSettings,
    /// Newest first.
    pub warnings: Vec<Warning>,
    /// Newest first.
    pub actions: Vec<Action>,
    /// Newest first.
    pub audit: Vec<AuditRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn a_timeline_has_every_bucket_of_its_range_and_counts_by_kind() {
        let from = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        let mut t = WarningTimeline::new(from, from + Duration::days(7));
        assert_eq!(t.bucket, Bucket::Day);
        assert_eq!(t.points.len(), 7);
        t.add(from + Duration::hours(30), AbuseKind::P2p);
        t.add(from + Duration::hours(31), AbuseKind::P2p);
        t.add(from - Duration::hours(1), AbuseKind::P2p);
        t.add(from + Duration::days(8), AbuseKind::P2p);
        assert_eq!(t.points[1].1, [0, 0, 2, 0, 0]);
        assert_eq!(t.total(), 2, "outside the range is ignored");

        let short = WarningTimeline::new(from, from + Duration::hours(24));
        assert_eq!((short.bucket, short.points.len()), (Bucket::Hour, 24));
        let long = WarningTimeline::new(from, from + Duration::days(365));
        assert_eq!(long.bucket, Bucket::Week);
        assert_eq!(long.points[0].0.weekday(), chrono::Weekday::Mon);
        assert!(long.points[0].0 <= from);
    }

    #[test]
    fn expected_ttls_follow_the_hop_count() {
        assert_eq!(expected_ttls(1), [63, 127]);
        assert_eq!(expected_ttls(0), [64, 128]);
        let mut d = TtlDistribution {
            counts: BTreeMap::new(),
            expected: expected_ttls(1).into(),
        };
        d.add(&[(63, 3), (62, 1)].into());
        assert_eq!(d.total(), 4);
        assert!((d.expected_share() - 0.75).abs() < 1e-9);
    }

    #[test]
    fn totals_count_flagged_only_when_not_whitelisted() {
        let mut t = Totals::default();
        t.add(Level::High, false);
        t.add(Level::High, true);
        t.add(Level::Low, false);
        assert_eq!((t.checked, t.flagged, t.whitelisted), (3, 1, 1));
        assert_eq!(t.at(Level::High), 2);
    }
}

//! Records a scan produces. Plain data shared by the scanner, storage, the CLI
//! and the desktop app, so each speaks of a scan the same way.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::observation::{Access, ProbeStrategy, SubscriberObservation};
use crate::settings::DetectionSettings;
use crate::verdict::{Evidence, Level, RecommendedAction, TtlStatus, Verdict};

/// What a scan covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum ScanScope {
    All,
    Nas(String),
    Subscriber(String),
}

impl std::fmt::Display for ScanScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => f.write_str("all routers"),
            Self::Nas(n) => write!(f, "router {n}"),
            Self::Subscriber(s) => write!(f, "subscriber {s}"),
        }
    }
}

/// How a whole scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Running,
    /// Every router answered.
    Completed,
    /// Some routers answered, some failed.
    Partial,
    /// No router answered.
    Failed,
    Cancelled,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// How one router's part of a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum NasStatus {
    Ok,
    Failed,
    TimedOut,
    Cancelled,
}

impl NasStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One router's part of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NasOutcome {
    pub nas: String,
    pub address: String,
    pub status: NasStatus,
    /// The user-facing error, naming the fix.
    pub error: Option<String>,
    /// A stable machine-readable error class (`auth`, `unreachable`, `timeout`, ...).
    pub error_kind: Option<String>,
    pub sessions: u32,
    pub connections: u64,
    pub checked: u32,
    pub flagged: u32,
    pub duration_ms: u64,
    pub probe_strategy: Option<ProbeStrategy>,
    /// Things the owner should know (FastTrack, probes missing, ...).
    pub warnings: Vec<String>,
    /// The connection-table rows the router said it holds before sending
    /// them (`count-only`), which sets how long it may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_rows: Option<u64>,
    /// Connection rows per second while the table streamed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_second: Option<f64>,
}

/// A scan as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScanSummary {
    /// The storage id, once stored.
    pub id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Who started it: an operator's name, or `system` for scheduled scans.
    pub operator: String,
    pub scope: ScanScope,
    pub status: ScanStatus,
    pub checked: u32,
    pub flagged: u32,
    pub nas: Vec<NasOutcome>,
    pub settings: DetectionSettings,
}

/// The result for one subscriber, as shown, stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscriberResult {
    pub subscriber: String,
    pub nas: String,
    pub address: String,
    pub access: Access,
    pub connections: u32,
    pub p2p_connections: u32,
    /// Distinct TTLs seen, ascending.
    pub ttl_values: Vec<u8>,
    /// Observations per TTL (1 each with address-list probes).
    pub ttl_counts: BTreeMap<u8, u32>,
    pub ttl_status: TtlStatus,
    pub level: Level,
    pub assessed_level: Level,
    pub whitelisted: bool,
    pub reasons: Vec<String>,
    pub recommended_action: RecommendedAction,
    pub evidence: Evidence,
    pub scanned_at: DateTime<Utc>,
}

impl SubscriberResult {
    pub fn new(obs: SubscriberObservation, v: Verdict, scanned_at: DateTime<Utc>) -> Self {
        Self {
            ttl_values: obs.ttl.values(),
            ttl_counts: obs.ttl.counts,
            subscriber: obs.subscriber,
            nas: obs.nas,
            address: obs.address,
            access: obs.access,
            connections: obs.connections,
            p2p_connections: obs.p2p_connections,
            ttl_status: v.ttl_status,
            level: v.level,
            assessed_level: v.assessed_level,
            whitelisted: v.whitelisted,
            reasons: v.reasons,
            recommended_action: v.recommended_action,
            evidence: v.evidence,
            scanned_at,
        }
    }

    /// Applies a whitelist entry made after this result was judged, with the
    /// same rule a scan applies (see [`crate::assess::apply_whitelist`]).
    pub fn apply_whitelist(&mut self, reason: &str) {
        let mut v = Verdict {
            ttl_status: self.ttl_status,
            level: self.level,
            assessed_level: self.assessed_level,
            whitelisted: self.whitelisted,
            reasons: std::mem::take(&mut self.reasons),
            recommended_action: self.recommended_action,
            evidence: self.evidence.clone(),
        };
        crate::assess::apply_whitelist(&mut v, reason);
        self.level = v.level;
        self.whitelisted = v.whitelisted;
        self.reasons = v.reasons;
        self.recommended_action = v.recommended_action;
    }

    /// Flagged means "needs the owner's attention": medium or above and not whitelisted.
    pub fn is_flagged(&self) -> bool {
        !self.whitelisted && self.level >= Level::Medium
    }

    /// The order verdicts are listed and acted on in: the highest level
    /// first, then the most connections (the store's default results order
    /// is the same, with the name after).
    pub fn most_suspicious_first(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.level
            .cmp(&a.level)
            .then(b.connections.cmp(&a.connections))
    }
}

//! The outcome of assessing one subscriber.

use serde::{Deserialize, Serialize};

/// The TTL pattern seen for a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TtlStatus {
    /// One OS family at the expected distance.
    Normal,
    /// Several OS families, all at the expected distance: a normal family mix.
    MultipleOs,
    /// Devices one router further than expected.
    RouterDetected,
    /// Devices at two or more distances beyond the expected one.
    DoubleRouter,
    /// TTLs no device at the expected distance can produce: a router rewrites them.
    TtlRewritten,
}

impl TtlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::MultipleOs => "multiple_os",
            Self::RouterDetected => "router_detected",
            Self::DoubleRouter => "double_router",
            Self::TtlRewritten => "ttl_rewritten",
        }
    }

    /// True for patterns that mean another router sits behind the subscriber's line.
    pub fn is_router_evidence(self) -> bool {
        matches!(
            self,
            Self::RouterDetected | Self::DoubleRouter | Self::TtlRewritten
        )
    }
}

/// Suspicion level, ordered from least to most suspicious.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Normal,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Normal,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// One level up, stopping at `High`: only the combination the owner's panel
    /// defines as definite (router evidence plus the high connection threshold)
    /// reaches `Critical`.
    pub fn raised(self) -> Self {
        match self {
            Self::Normal => Self::Low,
            Self::Low => Self::Medium,
            Self::Medium | Self::High => Self::High,
            Self::Critical => Self::Critical,
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!("unknown level {s:?}: use normal, low, medium, high or critical")
            })
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the owner should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RecommendedAction {
    /// Nothing to do.
    None,
    /// Nothing is wrong yet, but too little TTL data was seen: keep the probes
    /// installed and scan again later.
    GatherEvidence,
    /// Keep an eye on the subscriber.
    Watch,
    /// Look at the subscriber's history before deciding.
    Review,
    /// Call the customer; disconnect if they confirm sharing.
    ContactSubscriber,
    /// Sharing is definite: disconnect.
    Disconnect,
}

impl RecommendedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::GatherEvidence => "gather_evidence",
            Self::Watch => "watch",
            Self::Review => "review",
            Self::ContactSubscriber => "contact_subscriber",
            Self::Disconnect => "disconnect",
        }
    }
}

/// Whether there was enough TTL data to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    Sufficient,
    Insufficient,
    /// No TTL probes on the NAS: only connection counts were judged.
    NoProbes,
}

/// How much TTL data backs a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Evidence {
    pub status: EvidenceStatus,
    /// TTL observations (connections marked, or address-list hits).
    pub observations: u32,
    /// Share of the subscriber's connections that were observed, when the probe
    /// strategy can tell (connection marks).
    pub share: Option<f64>,
    /// How long the probes had been installed at scan time, when known.
    pub probe_age_secs: Option<u64>,
    /// Scans the verdict rests on: this one and the earlier ones of the
    /// line's history that saw TTLs.
    #[serde(default = "one")]
    pub scans: u32,
    /// TTL observations of those earlier scans.
    #[serde(default)]
    pub past_observations: u32,
    /// The distance the TTLs were read against, and why.
    #[serde(default)]
    pub distance: Option<crate::distance::LineDistance>,
    /// Connections recognised as the subscriber's own router talking and
    /// kept out of the TTL evidence.
    #[serde(default)]
    pub router_own: u32,
}

fn one() -> u32 {
    1
}

impl Evidence {
    /// Evidence of one scan read against the router's distance; the rules
    /// fill in history, distance and the router's own traffic.
    pub fn new(
        status: EvidenceStatus,
        observations: u32,
        share: Option<f64>,
        probe_age_secs: Option<u64>,
    ) -> Self {
        Self {
            status,
            observations,
            share,
            probe_age_secs,
            scans: 1,
            past_observations: 0,
            distance: None,
            router_own: 0,
        }
    }
}

/// The explained verdict for one subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verdict {
    pub ttl_status: TtlStatus,
    /// The level acted upon: `Normal` for whitelisted subscribers.
    pub level: Level,
    /// The level the rules reached before the whitelist was applied.
    pub assessed_level: Level,
    pub whitelisted: bool,
    pub reasons: Vec<String>,
    pub recommended_action: RecommendedAction,
    pub evidence: Evidence,
}

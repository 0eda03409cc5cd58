//! Thresholds the owner can tune. Defaults follow the ISP panel the product
//! replaces, so an owner moving over sees familiar numbers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct DetectionSettings {
    /// Connections at which a subscriber is put on the watch list.
    pub connections_low: u32,
    /// Connections at which a subscriber is flagged for review.
    pub connections_medium: u32,
    /// Connections at which a subscriber is almost certainly shared.
    pub connections_high: u32,
    /// The TTL drop, counted from the OS's initial TTL on a line whose own
    /// router is one hop away, at which a second router is inferred. The panel's
    /// default of 2 means 62/126 on PPPoE; the per-NAS expected hop count shifts
    /// the baseline, so on a hotspot (no router expected) 63/127 trips it.
    pub ttl_threshold: u8,
    /// Marked connections needed before TTL data counts as evidence when the
    /// connection-mark probes give per-connection counts.
    pub min_ttl_observations: u32,
    /// A subscriber whose every TTL equals an OS default on a line that should
    /// show decremented TTLs is only called a TTL rewriter with at least this
    /// many connections; below it, the router's own DNS/NTP traffic is the
    /// likelier explanation.
    pub rewrite_min_connections: u32,
    /// Count connections that look like peer-to-peer traffic towards the
    /// sharing thresholds. Off by default: a BitTorrent client alone opens
    /// hundreds of connections, which says nothing about a second household.
    pub count_p2p_connections: bool,
    /// The level of a PPPoE account online twice at once from different
    /// caller-ids: two households dialling with one login, the most direct
    /// sharing sign there is.
    pub concurrent_sessions_level: crate::verdict::Level,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            connections_low: 300,
            connections_medium: 500,
            connections_high: 800,
            ttl_threshold: 2,
            min_ttl_observations: 3,
            rewrite_min_connections: 30,
            count_p2p_connections: false,
            concurrent_sessions_level: crate::verdict::Level::High,
        }
    }
}

impl DetectionSettings {
    /// Checks the settings for values that would make verdicts meaningless.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.connections_low < self.connections_medium
            && self.connections_medium < self.connections_high)
        {
            return Err(format!(
                "connection thresholds must rise from low to high (got {}/{}/{}); set e.g. 300/500/800",
                self.connections_low, self.connections_medium, self.connections_high
            ));
        }
        if !(1..=8).contains(&self.ttl_threshold) {
            return Err(format!(
                "the TTL threshold must be between 1 and 8 hops (got {}); the usual value is 2",
                self.ttl_threshold
            ));
        }
        Ok(())
    }

    /// Extra hops beyond the NAS's expected count that mean "another router".
    pub fn extra_hops_for_router(&self) -> u8 {
        self.ttl_threshold.saturating_sub(1).max(1)
    }
}

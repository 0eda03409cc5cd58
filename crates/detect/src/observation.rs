//! What one scan saw for one subscriber.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How subscribers reach the NAS; it decides the expected hop count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// PPPoE: the customer's own router is one hop, so 63/127 is normal.
    Pppoe,
    /// Hotspot or direct Wi-Fi: devices attach directly, so 64/128 is normal.
    Hotspot,
}

impl Access {
    /// The hop count between a subscriber's devices and the NAS when nothing is shared.
    pub fn default_expected_hops(self) -> u8 {
        match self {
            Self::Pppoe => 1,
            Self::Hotspot => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pppoe => "pppoe",
            Self::Hotspot => "hotspot",
        }
    }
}

impl std::str::FromStr for Access {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pppoe" => Ok(Self::Pppoe),
            "hotspot" => Ok(Self::Hotspot),
            other => Err(format!(
                "unknown access type {other:?}: use pppoe or hotspot"
            )),
        }
    }
}

/// How TTL observations are produced on the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProbeStrategy {
    /// `add-src-to-address-list` per TTL: distinct TTLs per address, no counts;
    /// safe next to mark-based QoS and load balancing.
    AddressList,
    /// `mark-connection` per TTL: one mark per connection, so counts per TTL and
    /// the share of connections observed; clashes with other connection marks.
    ConnectionMark,
}

impl ProbeStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddressList => "address_list",
            Self::ConnectionMark => "connection_mark",
        }
    }

    /// The strategy as an owner reads it in a sentence.
    pub fn words(self) -> &'static str {
        match self {
            Self::AddressList => "address lists",
            Self::ConnectionMark => "connection marks",
        }
    }
}

/// TTL observations for one subscriber.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TtlEvidence {
    /// The probe strategy in force on the NAS, or `None` if no probes are installed.
    pub strategy: Option<ProbeStrategy>,
    /// Observations per TTL. With address lists each seen TTL counts once.
    pub counts: BTreeMap<u8, u32>,
    /// How long the probes have been installed, when known. Probes only see
    /// connections opened after they were installed.
    pub probe_age_secs: Option<u64>,
    /// Marked connections recognised as the subscriber's own router talking
    /// (DNS, NTP, TR-069), per TTL: kept out of `counts`, because they show
    /// where the router is, not where the devices are.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub router_own: BTreeMap<u8, u32>,
}

impl TtlEvidence {
    /// Total observations.
    pub fn observations(&self) -> u32 {
        self.counts.values().sum()
    }

    /// Distinct TTLs, ascending.
    pub fn values(&self) -> Vec<u8> {
        self.counts.keys().copied().collect()
    }
}

/// Everything the rules need about one subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscriberObservation {
    pub subscriber: String,
    pub nas: String,
    pub address: String,
    pub access: Access,
    /// Hops between a legitimate device and the NAS on this line (per NAS).
    pub expected_hops: u8,
    /// Tracked connections the subscriber opened at scan time.
    pub connections: u32,
    /// Of those, connections that look like peer-to-peer traffic.
    pub p2p_connections: u32,
    pub ttl: TtlEvidence,
    /// The whitelist reason, when the subscriber is whitelisted.
    pub whitelist: Option<String>,
    /// The account's sessions online at once, with the caller-id (MAC) and
    /// address of each; one for an ordinary line. The counts and TTLs above
    /// cover all of them.
    #[serde(default)]
    pub sessions: Vec<SessionSeen>,
    /// The owner's setting and earlier scans of this line.
    #[serde(default)]
    pub line: crate::line::LineMemory,
}

/// One online session of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionSeen {
    pub address: String,
    /// Calling-Station-Id / MAC, when the NAS reports it.
    pub caller_id: Option<String>,
}

impl SubscriberObservation {
    /// The distinct caller-ids the account's sessions dialled from.
    pub fn caller_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .sessions
            .iter()
            .filter_map(|s| s.caller_id.as_deref())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

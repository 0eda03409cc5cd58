//! What is known about one subscriber line beyond the current scan: the
//! owner's own word on its distance, and what earlier scans saw.
//!
//! The caller fills it from storage before a scan; the rules read it, so a
//! verdict can rest on the line's history and still be a pure function of
//! its inputs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Earlier scans within this window count as the line's history: long
/// enough to span a week's evening peaks, short enough that a household
/// that stopped sharing is judged on what it does now.
pub const HISTORY_DAYS: i64 = 7;
/// At most this many earlier scans are read per line.
pub const HISTORY_SCANS: usize = 8;

/// One earlier scan of the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PastScan {
    pub at: DateTime<Utc>,
    /// The TTL observations of that scan (devices only: the router's own
    /// traffic was kept out when it was recognised).
    pub counts: BTreeMap<u8, u32>,
}

/// The line's memory, handed to the rules with the observation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LineMemory {
    /// Hops between this subscriber's devices and the NAS as the owner set
    /// them: overrides everything learned.
    #[serde(default)]
    pub owner_hops: Option<u8>,
    /// Earlier scans, newest first, within [`HISTORY_DAYS`].
    #[serde(default)]
    pub past: Vec<PastScan>,
}

impl LineMemory {
    /// Earlier scans that saw any TTL at all.
    pub fn judged(&self) -> impl Iterator<Item = &PastScan> {
        self.past.iter().filter(|p| !p.counts.is_empty())
    }
}

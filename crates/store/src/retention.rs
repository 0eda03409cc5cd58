//! History retention: old scans and per-scan history are removed after a
//! configurable number of days (365 by default).
//!
//! What is never removed: the latest result of every subscriber and the
//! history rows and TTL evidence behind it (however old: a subscriber on a
//! router that has been unreachable for a year still shows what was last
//! known), and the audit log, which is the record of who did what.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, action, AuditEntry};
use crate::codec::ts;
use crate::{Store, StoreError};

/// The settings key of [`Retention`].
pub const RETENTION_KEY: &str = "retention";

/// How long history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Retention {
    /// History older than this many days is removed (30 to 3650).
    pub days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { days: 365 }
    }
}

impl Retention {
    pub fn validate(&self) -> Result<(), String> {
        if (30..=3650).contains(&self.days) {
            Ok(())
        } else {
            Err("keep history for 30 to 3650 days (365 keeps a year)".into())
        }
    }

    /// The moment before which history goes.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.days))
    }
}

/// What a clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Pruned {
    pub scans: u64,
    pub history_rows: u64,
    /// Abuse monitor cycle figures (warnings stay: they are evidence, and few).
    #[serde(default)]
    pub monitor_cycles: u64,
}

impl Store {
    /// Removes history older than `before`, except what backs a latest
    /// result; records the clean-up in the audit log when it removed
    /// anything. One transaction: a failure removes nothing.
    pub fn prune_history(
        &mut self,
        before: DateTime<Utc>,
        operator: &str,
    ) -> Result<Pruned, StoreError> {
        let cutoff = ts(&before);
        self.write(|tx| {
            // TTL evidence goes with its history row (ON DELETE CASCADE).
            let history_rows = tx
                .prepare_cached(
                    "DELETE FROM result_history AS h WHERE h.scanned_at < ?1
                     AND NOT EXISTS (SELECT 1 FROM results r
                                     WHERE r.subscriber = h.subscriber AND r.scan_id = h.scan_id)",
                )?
                .execute([&cutoff])?;
            // A scan goes once nothing refers to it; its router rows cascade.
            let scans = tx
                .prepare_cached(
                    "DELETE FROM scans AS s WHERE s.started_at < ?1
                     AND NOT EXISTS (SELECT 1 FROM results r WHERE r.scan_id = s.id)
                     AND NOT EXISTS (SELECT 1 FROM result_history h WHERE h.scan_id = s.id)",
                )?
                .execute([&cutoff])?;
            let cycles = tx
                .prepare_cached("DELETE FROM monitor_cycles WHERE at < ?1")?
                .execute([&cutoff])?;
            let pruned = Pruned {
                scans: u64::try_from(scans).unwrap_or(u64::MAX),
                history_rows: u64::try_from(history_rows).unwrap_or(u64::MAX),
                monitor_cycles: u64::try_from(cycles).unwrap_or(u64::MAX),
            };
            if pruned != Pruned::default() {
                audit::insert(
                    tx,
                    &AuditEntry::new(operator, action::HISTORY_PRUNED).details(json!({
                        "before": cutoff,
                        "scans": pruned.scans,
                        "history_rows": pruned.history_rows,
                        "monitor_cycles": pruned.monitor_cycles,
                    })),
                )?;
            }
            Ok(pruned)
        })
    }
}

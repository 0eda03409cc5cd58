//! The demo's data in the owner's database. The demo's simulated routers are
//! named `demo-…`, a prefix no stored router may take, so everything a demo
//! scan, monitor cycle or action left behind can be told from the owner's
//! own data: the window labels it while it stays, and removes it in one step
//! when the owner is done with the demo or restarts it.

use rusqlite::Transaction;
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, action, AuditEntry};
use crate::error::Fail;
use crate::{Store, StoreError};

/// What every demo router's name starts with; refused for stored routers.
pub const DEMO_ROUTER_PREFIX: &str = "demo-";

/// `nas` of a demo router, case-sensitively (GLOB, not LIKE).
const IS_DEMO: &str = "nas GLOB 'demo-*'";

/// What [`Store::remove_demo_data`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DemoRemoved {
    pub results: u64,
    pub scans: u64,
    pub warnings: u64,
    pub actions: u64,
}

impl Store {
    /// How many latest results came from the demo's routers.
    pub fn demo_result_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(&format!("SELECT count(*) FROM results WHERE {IS_DEMO}"))?
                .query_row([], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// Removes everything the demo's routers left: latest results, their
    /// history and TTL evidence, scans that covered only demo routers (and
    /// the demo routers' part of mixed ones), abuse warnings, actions and
    /// monitor figures, and the whitelist entries, tags and line distances
    /// of subscribers seen only on demo routers. The audit log keeps its
    /// entries (it is append-only) and gains one saying what was removed.
    pub fn remove_demo_data(&mut self, operator: &str) -> Result<DemoRemoved, StoreError> {
        self.write(|tx| {
            let mut removed = DemoRemoved::default();
            // Subscribers known only from demo routers, before their rows go.
            for table in ["whitelist", "subscriber_tags", "line_distance"] {
                tx.execute(
                    &format!(
                        "DELETE FROM {table} WHERE subscriber IN (
                             SELECT subscriber FROM result_history WHERE {IS_DEMO}
                             UNION SELECT subscriber FROM results WHERE {IS_DEMO})
                         AND subscriber NOT IN (
                             SELECT subscriber FROM result_history WHERE NOT ({IS_DEMO})
                             UNION SELECT subscriber FROM results WHERE NOT ({IS_DEMO}))"
                    ),
                    [],
                )?;
            }
            removed.warnings = delete(tx, "warnings")?;
            removed.actions = delete(tx, "actions")?;
            removed.results = delete(tx, "results")?;
            delete(tx, "result_history")?;
            delete(tx, "monitor_cycles")?;
            delete(tx, "scan_nas")?;
            let scans = tx.execute(
                "DELETE FROM scans WHERE status <> 'running'
                   AND id NOT IN (SELECT scan_id FROM scan_nas)
                   AND id NOT IN (SELECT scan_id FROM results)
                   AND id NOT IN (SELECT scan_id FROM result_history)",
                [],
            )?;
            removed.scans = u64::try_from(scans).unwrap_or(u64::MAX);
            audit::insert(
                tx,
                &AuditEntry::new(operator, action::DEMO_REMOVED).details(json!(removed)),
            )?;
            Ok(removed)
        })
    }
}

fn delete(tx: &Transaction<'_>, table: &str) -> Result<u64, Fail> {
    let n = tx.execute(&format!("DELETE FROM {table} WHERE {IS_DEMO}"), [])?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

//! Scan records, and the one transaction that stores a finished scan.
//!
//! A scan is recorded when it starts (status `running`), so a crash leaves a
//! trace, and completed by [`Store::finish_scan`], which writes the outcome,
//! the per-router rows, the results and the audit entries together. Results
//! are only taken from routers that answered, and not at all from a cancelled
//! scan: a partial view must never overwrite a complete one.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::json;
use shareguard_detect::{
    DetectionSettings, NasOutcome, NasStatus, ScanScope, ScanStatus, ScanSummary, SubscriberResult,
};

use crate::audit::{self, action, AuditEntry};
use crate::codec::{
    from_json, parse_enum, parse_opt_enum, parse_opt_ts, parse_ts, sql_to_u32, sql_to_u64, to_json,
    ts, u64_to_sql,
};
use crate::error::Fail;
use crate::results::store_scan_results;
use crate::{Store, StoreError};

const SCAN_COLUMNS: &str =
    "id, started_at, finished_at, operator, scope, status, checked, flagged, settings";

fn scan_from_row(row: &Row<'_>) -> Result<ScanSummary, Fail> {
    let started_at: String = row.get(1)?;
    let scope: String = row.get(4)?;
    let status: String = row.get(5)?;
    let settings: String = row.get(8)?;
    Ok(ScanSummary {
        id: Some(row.get(0)?),
        started_at: parse_ts(&started_at, "scan start time")?,
        finished_at: parse_opt_ts(row.get(2)?, "scan end time")?,
        operator: row.get(3)?,
        scope: from_json(&scope, "scan scope")?,
        status: parse_enum(&status, "scan status")?,
        checked: sql_to_u32(row.get(6)?),
        flagged: sql_to_u32(row.get(7)?),
        nas: Vec::new(),
        settings: from_json(&settings, "scan settings")?,
    })
}

fn outcomes(c: &Connection, scan_id: i64) -> Result<Vec<NasOutcome>, Fail> {
    let mut stmt = c.prepare_cached(
        "SELECT nas, address, status, error, error_kind, sessions, connections, checked, flagged,
                duration_ms, probe_strategy, warnings
         FROM scan_nas WHERE scan_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([scan_id])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let status: String = row.get(2)?;
        let warnings: String = row.get(11)?;
        out.push(NasOutcome {
            nas: row.get(0)?,
            address: row.get(1)?,
            status: parse_enum(&status, "router status")?,
            error: row.get(3)?,
            error_kind: row.get(4)?,
            sessions: sql_to_u32(row.get(5)?),
            connections: sql_to_u64(row.get(6)?),
            checked: sql_to_u32(row.get(7)?),
            flagged: sql_to_u32(row.get(8)?),
            duration_ms: sql_to_u64(row.get(9)?),
            probe_strategy: parse_opt_enum(row.get(10)?, "probe strategy")?,
            warnings: from_json(&warnings, "router warnings")?,
            expected_rows: None,
            rows_per_second: None,
        });
    }
    Ok(out)
}

/// Scans matching `where_sql`, newest first, each with its router outcomes.
fn load_scans(
    c: &Connection,
    where_sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<ScanSummary>, Fail> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SCAN_COLUMNS} FROM scans {where_sql} ORDER BY id DESC"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut scans = Vec::new();
    while let Some(row) = rows.next()? {
        scans.push(scan_from_row(row)?);
    }
    for scan in &mut scans {
        scan.nas = outcomes(c, scan.id.unwrap_or_default())?;
    }
    Ok(scans)
}

fn insert_outcome(c: &Connection, scan_id: i64, o: &NasOutcome) -> Result<(), Fail> {
    c.prepare_cached(
        "INSERT INTO scan_nas (scan_id, nas, address, status, error, error_kind, sessions, connections,
                               checked, flagged, duration_ms, probe_strategy, warnings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(rusqlite::params![
        scan_id,
        o.nas,
        o.address,
        o.status.as_str(),
        o.error,
        o.error_kind,
        o.sessions,
        u64_to_sql(o.connections),
        o.checked,
        o.flagged,
        u64_to_sql(o.duration_ms),
        o.probe_strategy.map(|p| p.as_str()),
        to_json(&o.warnings, "router warnings")?,
    ])?;
    Ok(())
}

/// Routers whose part of the scan succeeded. A router listed more than once
/// counts only if every listing succeeded.
fn answered(summary: &ScanSummary) -> HashSet<&str> {
    let failed: HashSet<&str> = summary
        .nas
        .iter()
        .filter(|o| o.status != NasStatus::Ok)
        .map(|o| o.nas.as_str())
        .collect();
    summary
        .nas
        .iter()
        .map(|o| o.nas.as_str())
        .filter(|n| !failed.contains(n))
        .collect()
}

/// A scan still "running" this long after it started was ended without
/// finishing (the process was killed, the computer lost power): no scan
/// runs that long, since each router gets at most 30 minutes, all at once.
pub const ABANDONED_AFTER: chrono::Duration = chrono::Duration::hours(2);

impl Store {
    /// Marks scans still "running" long after they started ([`ABANDONED_AFTER`])
    /// as failed, so they stop showing as running and the latest finished
    /// scan is found. Returns how many there were.
    pub fn close_abandoned_scans(&mut self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let cutoff = ts(&(now - ABANDONED_AFTER));
        self.write(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE scans SET status = ?1, finished_at = ?2
                     WHERE status = ?3 AND started_at < ?4",
                )?
                .execute((
                    ScanStatus::Failed.as_str(),
                    ts(&now),
                    ScanStatus::Running.as_str(),
                    cutoff,
                ))?)
        })
    }

    /// Records the start of a scan and returns its id for [`Store::finish_scan`].
    pub fn begin_scan(
        &mut self,
        operator: &str,
        scope: &ScanScope,
        settings: &DetectionSettings,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.close_abandoned_scans(started_at)?;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO scans (started_at, operator, scope, status, settings)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((
                ts(&started_at),
                operator,
                to_json(scope, "scan scope")?,
                ScanStatus::Running.as_str(),
                to_json(settings, "scan settings")?,
            ))?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Stores a finished scan in one transaction: its outcome and router
    /// rows, the results of routers that answered (unless it was cancelled),
    /// and audit entries for the scan and for every stored flagged result.
    /// Returns the scan id (a new one if `summary.id` is `None`).
    ///
    /// Results of subscribers on routers that failed, timed out or were
    /// cancelled are left exactly as they were.
    pub fn finish_scan(
        &mut self,
        summary: &ScanSummary,
        results: &[SubscriberResult],
    ) -> Result<i64, StoreError> {
        if summary.status == ScanStatus::Running {
            return Err(StoreError::Invalid(
                "a scan can only be finished with its final status (completed, partial, failed or cancelled)"
                    .into(),
            ));
        }
        let path = self.path.clone();
        let finished_at = summary.finished_at.unwrap_or_else(Utc::now);
        self.write(|tx| {
            let scope = to_json(&summary.scope, "scan scope")?;
            let settings = to_json(&summary.settings, "scan settings")?;
            let id = match summary.id {
                Some(id) => {
                    let status: Option<String> = tx
                        .prepare_cached("SELECT status FROM scans WHERE id = ?1")?
                        .query_row([id], |r| r.get(0))
                        .optional()?;
                    match status.as_deref() {
                        None => return Err(StoreError::UnknownScan { path, id }.into()),
                        Some(s) if s != ScanStatus::Running.as_str() => {
                            return Err(StoreError::ScanAlreadyFinished { id }.into())
                        }
                        Some(_) => {}
                    }
                    tx.prepare_cached(
                        "UPDATE scans SET started_at = ?2, finished_at = ?3, operator = ?4, scope = ?5,
                                          status = ?6, checked = ?7, flagged = ?8, settings = ?9
                         WHERE id = ?1",
                    )?
                    .execute(rusqlite::params![
                        id,
                        ts(&summary.started_at),
                        ts(&finished_at),
                        summary.operator,
                        scope,
                        summary.status.as_str(),
                        summary.checked,
                        summary.flagged,
                        settings,
                    ])?;
                    id
                }
                None => {
                    tx.prepare_cached(
                        "INSERT INTO scans (started_at, finished_at, operator, scope, status, checked,
                                            flagged, settings)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(rusqlite::params![
                        ts(&summary.started_at),
                        ts(&finished_at),
                        summary.operator,
                        scope,
                        summary.status.as_str(),
                        summary.checked,
                        summary.flagged,
                        settings,
                    ])?;
                    tx.last_insert_rowid()
                }
            };

            for o in &summary.nas {
                insert_outcome(tx, id, o)?;
            }

            let stored = if summary.status == ScanStatus::Cancelled {
                Vec::new()
            } else {
                store_scan_results(tx, id, &answered(summary), results)?
            };

            let nas: Vec<_> = summary
                .nas
                .iter()
                .map(|o| json!({ "nas": o.nas, "status": o.status, "error_kind": o.error_kind }))
                .collect();
            audit::insert(
                tx,
                &AuditEntry {
                    at: finished_at,
                    operator: summary.operator.clone(),
                    action: action::SCAN.into(),
                    subject: None,
                    details: json!({
                        "scan_id": id,
                        "scope": summary.scope,
                        "status": summary.status,
                        "checked": summary.checked,
                        "flagged": summary.flagged,
                        "results_stored": stored.len(),
                        "nas": nas,
                    }),
                },
            )?;
            for r in stored.iter().filter(|r| r.is_flagged()) {
                audit::insert(
                    tx,
                    &AuditEntry {
                        at: finished_at,
                        operator: summary.operator.clone(),
                        action: action::FLAG.into(),
                        subject: Some(r.subscriber.clone()),
                        details: json!({
                            "scan_id": id,
                            "nas": r.nas,
                            "level": r.level,
                            "ttl_status": r.ttl_status,
                            "connections": r.connections,
                            "reasons": r.reasons,
                        }),
                    },
                )?;
            }
            Ok(id)
        })
    }

    /// The most recently started scan (whatever its status), with its router outcomes.
    pub fn last_scan(&self) -> Result<Option<ScanSummary>, StoreError> {
        self.snapshot(|c| Ok(load_scans(c, "WHERE id = (SELECT max(id) FROM scans)", [])?.pop()))
    }

    /// The most recent scan that stored results (completed or partial):
    /// what "the latest scan" means for a report, whatever is running now
    /// or was cancelled since.
    pub fn last_finished_scan(&self) -> Result<Option<ScanSummary>, StoreError> {
        self.snapshot(|c| {
            Ok(load_scans(
                c,
                "WHERE id = (SELECT max(id) FROM scans WHERE status IN (?1, ?2))",
                [ScanStatus::Completed.as_str(), ScanStatus::Partial.as_str()],
            )?
            .pop())
        })
    }

    /// The scan with this id, with its router outcomes.
    pub fn scan(&self, id: i64) -> Result<Option<ScanSummary>, StoreError> {
        self.snapshot(|c| Ok(load_scans(c, "WHERE id = ?1", [id])?.pop()))
    }

    /// The latest `limit` scans, newest first, each with its router outcomes.
    pub fn list_scans(&self, limit: u32) -> Result<Vec<ScanSummary>, StoreError> {
        self.snapshot(|c| {
            load_scans(
                c,
                "WHERE id IN (SELECT id FROM scans ORDER BY id DESC LIMIT ?1)",
                [limit],
            )
        })
    }
}

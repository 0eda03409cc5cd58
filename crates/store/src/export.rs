//! Streaming reads for reports and exports.
//!
//! A scan of a large ISP holds tens of thousands of results, and a month of
//! abuse monitoring thousands of warnings. The listing methods elsewhere in
//! this crate return a `Vec` sized for a screen; these visit every matching
//! row in order and hand each one to a callback while the statement is still
//! stepping, so an export writes row by row and never holds the whole table.
//!
//! The callback's error type is the caller's (an I/O or CSV error, say), as
//! long as a [`StoreError`] converts into it: a failed callback stops the
//! walk and its error is returned as it was.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};
use shareguard_detect::{Access, Evidence, Level, RecommendedAction, SubscriberResult, TtlStatus};

use crate::actions::Action;
use crate::audit::{newest_first_sql, record_from_row, AuditFilter, AuditRecord};
use crate::codec::{from_json, parse_enum, parse_opt_ts, parse_ts, sql_to_u32, ts};
use crate::error::Fail;
use crate::results::{filter_sql, order_sql, result_from_row, ResultFilter, RESULT_COLUMNS};
use crate::warnings::Warning;
use crate::{Store, StoreError};

/// One subscriber's verdict in one scan, as exported.
///
/// The scan history keeps the verdict, counts, TTLs and reasons of every
/// scan; the address, access type, assessed level, recommended action and
/// evidence are only kept with a subscriber's latest result, so they are
/// `None` for a scan that has since been superseded for this subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportedResult {
    pub scan_id: i64,
    pub subscriber: String,
    pub nas: String,
    /// The subscriber's reseller/area tag: its own, else its router's.
    pub tag: Option<String>,
    pub scanned_at: DateTime<Utc>,
    pub level: Level,
    pub ttl_status: TtlStatus,
    pub whitelisted: bool,
    pub connections: u32,
    pub p2p_connections: u32,
    /// Distinct TTLs seen, ascending.
    pub ttl_values: Vec<u8>,
    /// Observations per TTL in this scan.
    pub ttl_counts: BTreeMap<u8, u32>,
    pub reasons: Vec<String>,
    pub address: Option<String>,
    pub access: Option<Access>,
    pub assessed_level: Option<Level>,
    pub recommended_action: Option<RecommendedAction>,
    pub evidence: Option<Evidence>,
}

impl ExportedResult {
    /// Flagged means "needs the owner's attention": medium or above and not
    /// whitelisted (the rule of `SubscriberResult::is_flagged`).
    pub fn is_flagged(&self) -> bool {
        !self.whitelisted && self.level >= Level::Medium
    }
}

/// Runs `visit` over the rows of `sql`, stopping at the first error: a
/// failed callback's error is kept in `failed` and the walk ends cleanly, so
/// the read itself reports success. Returns the rows visited.
fn walk<E>(
    c: &Connection,
    sql: &str,
    args: Vec<SqlValue>,
    failed: &mut Option<E>,
    mut visit: impl FnMut(&Row<'_>) -> Result<Result<(), E>, Fail>,
) -> Result<u64, Fail> {
    let mut stmt = c.prepare(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut n = 0u64;
    while let Some(row) = rows.next()? {
        if let Err(e) = visit(row)? {
            *failed = Some(e);
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// The count of `walk`, or the callback's error if it stopped the walk.
fn finish<E: From<StoreError>>(read: Result<u64, StoreError>, failed: Option<E>) -> Result<u64, E> {
    let n = read?;
    match failed {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

fn text(row: &Row<'_>, i: usize) -> Result<String, Fail> {
    Ok(row.get::<_, String>(i)?)
}

fn opt_enum<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
    what: &str,
) -> Result<Option<T>, Fail> {
    row.get::<_, Option<String>>(i)?
        .map(|s| parse_enum(&s, what))
        .transpose()
}

fn scan_result_from_row(row: &Row<'_>) -> Result<ExportedResult, Fail> {
    let ttl_counts: BTreeMap<u8, u32> = from_json(&text(row, 11)?, "TTL counts")?;
    Ok(ExportedResult {
        scan_id: row.get(0)?,
        subscriber: row.get(1)?,
        nas: row.get(2)?,
        tag: row.get(3)?,
        scanned_at: parse_ts(&text(row, 4)?, "scan time")?,
        level: parse_enum(&text(row, 5)?, "level")?,
        ttl_status: parse_enum(&text(row, 6)?, "TTL status")?,
        whitelisted: row.get(7)?,
        connections: row.get(8)?,
        p2p_connections: row.get(9)?,
        ttl_values: from_json(&text(row, 10)?, "TTL list")?,
        ttl_counts,
        reasons: from_json(&text(row, 12)?, "reasons")?,
        address: row.get(13)?,
        access: opt_enum(row, 14, "access type")?,
        assessed_level: opt_enum(row, 15, "level")?,
        recommended_action: opt_enum(row, 16, "recommended action")?,
        evidence: row
            .get::<_, Option<String>>(17)?
            .map(|s| from_json(&s, "evidence"))
            .transpose()?,
    })
}

/// Warning columns in the order [`warning_from_row`] reads them (the same
/// as `warnings.rs` lists).
const WARNING_COLUMNS: &str = "id, subscriber, nas, kind, severity, measured, threshold, details, \
     action, action_note, action_id, first_seen, last_seen, expires_at, cycles";

fn warning_from_row(r: &Row<'_>) -> Result<Warning, Fail> {
    Ok(Warning {
        id: r.get(0)?,
        subscriber: r.get(1)?,
        nas: r.get(2)?,
        kind: parse_enum(&text(r, 3)?, "warning kind")?,
        severity: parse_enum(&text(r, 4)?, "warning severity")?,
        measured: r.get(5)?,
        threshold: r.get(6)?,
        details: r.get(7)?,
        action: r.get(8)?,
        action_note: r.get(9)?,
        action_id: r.get(10)?,
        first_seen: parse_ts(&text(r, 11)?, "warning start")?,
        last_seen: parse_ts(&text(r, 12)?, "warning last sighting")?,
        expires_at: parse_ts(&text(r, 13)?, "warning expiry")?,
        cycles: sql_to_u32(r.get(14)?),
    })
}

const ACTION_COLUMNS: &str =
    "id, subscriber, nas, kind, method, operator, reason, details, started_at, expires_at, ended_at";

fn action_from_row(r: &Row<'_>) -> Result<Action, Fail> {
    Ok(Action {
        id: Some(r.get(0)?),
        subscriber: r.get(1)?,
        nas: r.get(2)?,
        kind: parse_enum(&text(r, 3)?, "action kind")?,
        method: parse_enum(&text(r, 4)?, "action method")?,
        operator: r.get(5)?,
        reason: r.get(6)?,
        details: from_json(&text(r, 7)?, "action details")?,
        started_at: parse_ts(&text(r, 8)?, "action start")?,
        expires_at: parse_opt_ts(r.get(9)?, "action expiry")?,
        ended_at: parse_opt_ts(r.get(10)?, "action end")?,
    })
}

fn range_args(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Vec<SqlValue> {
    let t = |v: Option<DateTime<Utc>>| v.map_or(SqlValue::Null, |t| SqlValue::Text(ts(&t)));
    vec![t(from), t(to)]
}

impl Store {
    /// Visits every subscriber checked in scan `scan_id` (flagged or not),
    /// most suspicious first (level, then connections, then name); only
    /// subscribers with `tag` (their own, else their router's) if given.
    /// Returns how many were visited.
    pub fn for_each_scan_result<E: From<StoreError>>(
        &self,
        scan_id: i64,
        tag: Option<&str>,
        mut visit: impl FnMut(ExportedResult) -> Result<(), E>,
    ) -> Result<u64, E> {
        let sql = format!(
            "SELECT r.scan_id, r.subscriber, r.nas, {tag_sql}, r.scanned_at, r.level, r.ttl_status,
                    r.whitelisted, r.connections, r.p2p_connections, r.ttl_values,
                    (SELECT json_group_object(t.ttl, t.count) FROM ttl_evidence t
                      WHERE t.scan_id = r.scan_id AND t.subscriber = r.subscriber),
                    r.reasons, x.address, x.access, x.assessed_level, x.recommended_action,
                    x.evidence
             FROM result_history r
             LEFT JOIN results x ON x.subscriber = r.subscriber AND x.scan_id = r.scan_id
             WHERE r.scan_id = ?1 AND (?2 IS NULL OR {tag_sql} = ?2)
             ORDER BY CASE r.level WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                                   WHEN 'low' THEN 1 ELSE 0 END DESC,
                      r.connections DESC, r.subscriber",
            tag_sql = crate::tags::EFFECTIVE_TAG,
        );
        let args = vec![
            SqlValue::Integer(scan_id),
            tag.map_or(SqlValue::Null, |t| SqlValue::Text(t.to_string())),
        ];
        let mut failed = None;
        let read = self.read(|c| {
            walk(c, &sql, args, &mut failed, |row| {
                Ok(visit(scan_result_from_row(row)?))
            })
        });
        finish(read, failed)
    }

    /// Visits every subscriber's latest result matching `filter` (its limit
    /// and offset ignored), in its order (by default the most suspicious
    /// first): what the results table shows, which a one-subscriber or
    /// one-router scan updates only in part.
    /// Returns how many were visited.
    pub fn for_each_latest_result<E: From<StoreError>>(
        &self,
        filter: &ResultFilter,
        mut visit: impl FnMut(SubscriberResult) -> Result<(), E>,
    ) -> Result<u64, E> {
        let (where_sql, args) = filter_sql(filter);
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM results r{where_sql}{}",
            order_sql(filter)
        );
        let mut failed = None;
        let read = self.read(|c| {
            walk(c, &sql, args, &mut failed, |row| {
                Ok(visit(result_from_row(row)?))
            })
        });
        finish(read, failed)
    }

    /// Visits every warning first seen in `[from, to)` (either end open when
    /// `None`), oldest first. Returns how many were visited.
    pub fn for_each_warning<E: From<StoreError>>(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        mut visit: impl FnMut(Warning) -> Result<(), E>,
    ) -> Result<u64, E> {
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM warnings
             WHERE (?1 IS NULL OR first_seen >= ?1) AND (?2 IS NULL OR first_seen < ?2)
             ORDER BY first_seen, id"
        );
        let mut failed = None;
        let read = self.read(|c| {
            walk(c, &sql, range_args(from, to), &mut failed, |row| {
                Ok(visit(warning_from_row(row)?))
            })
        });
        finish(read, failed)
    }

    /// Visits every enforcement action started in `[from, to)` (either end
    /// open when `None`), oldest first. Returns how many were visited.
    pub fn for_each_action<E: From<StoreError>>(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        mut visit: impl FnMut(Action) -> Result<(), E>,
    ) -> Result<u64, E> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions
             WHERE (?1 IS NULL OR started_at >= ?1) AND (?2 IS NULL OR started_at < ?2)
             ORDER BY started_at, id"
        );
        let mut failed = None;
        let read = self.read(|c| {
            walk(c, &sql, range_args(from, to), &mut failed, |row| {
                Ok(visit(action_from_row(row)?))
            })
        });
        finish(read, failed)
    }

    /// Visits the audit entries matching `filter`, oldest first (the order
    /// of a record kept for others to read); `filter.limit` keeps the newest
    /// that many. Returns how many were visited.
    pub fn for_each_audit_entry<E: From<StoreError>>(
        &self,
        filter: &AuditFilter,
        mut visit: impl FnMut(AuditRecord) -> Result<(), E>,
    ) -> Result<u64, E> {
        let (newest, args) = newest_first_sql(filter);
        let sql = format!("SELECT * FROM ({newest}) ORDER BY at, id");
        let mut failed = None;
        let read = self.read(|c| {
            walk(c, &sql, args, &mut failed, |row| {
                Ok(visit(record_from_row(row)?))
            })
        });
        finish(read, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditEntry;
    use crate::warnings::{Sighting, WarningQuery};
    use chrono::{Duration, TimeZone};
    use shareguard_detect::abuse::{AbuseKind, Finding, Severity};
    use shareguard_detect::{
        DetectionSettings, EvidenceStatus, NasOutcome, NasStatus, ScanScope, ScanStatus,
        ScanSummary, SubscriberResult,
    };

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn result(name: &str, level: Level, connections: u32, when: DateTime<Utc>) -> SubscriberResult {
        SubscriberResult {
            subscriber: name.into(),
            nas: "nas-a".into(),
            address: format!("10.0.0.{connections}"),
            access: Access::Pppoe,
            connections,
            p2p_connections: 1,
            ttl_values: vec![62, 63],
            ttl_counts: [(62, 4), (63, 9)].into(),
            ttl_status: TtlStatus::RouterDetected,
            level,
            assessed_level: level,
            whitelisted: false,
            reasons: vec![format!("{connections} connections")],
            recommended_action: RecommendedAction::Review,
            evidence: Evidence::new(EvidenceStatus::Sufficient, 13, None, None),
            scanned_at: when,
        }
    }

    fn scan(store: &mut Store, when: DateTime<Utc>, results: &[SubscriberResult]) -> i64 {
        let summary = ScanSummary {
            id: None,
            started_at: when,
            finished_at: Some(when),
            operator: "owner".into(),
            scope: ScanScope::All,
            status: ScanStatus::Completed,
            checked: results.len() as u32,
            flagged: 0,
            nas: vec![NasOutcome {
                nas: "nas-a".into(),
                address: "10.0.0.1:8728".into(),
                status: NasStatus::Ok,
                error: None,
                error_kind: None,
                sessions: 2,
                connections: 10,
                checked: 2,
                flagged: 0,
                duration_ms: 5,
                probe_strategy: None,
                warnings: vec![],
                expected_rows: None,
                rows_per_second: None,
            }],
            settings: DetectionSettings::default(),
        };
        store.finish_scan(&summary, results).unwrap()
    }

    #[test]
    fn scan_results_of_an_older_scan_keep_its_own_figures() {
        let mut store = Store::open_in_memory().unwrap();
        let first = scan(
            &mut store,
            at(0),
            &[
                result("ann", Level::Normal, 10, at(0)),
                result("bob", Level::High, 900, at(0)),
            ],
        );
        let second = scan(
            &mut store,
            at(60),
            &[result("ann", Level::Medium, 600, at(60))],
        );

        let mut rows = Vec::new();
        let n = store
            .for_each_scan_result(first, None, |r| {
                rows.push(r);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(rows[0].subscriber, "bob", "most suspicious first");
        assert_eq!(rows[1].subscriber, "ann");
        assert_eq!(
            rows[1].connections, 10,
            "the first scan's count, not the latest"
        );
        assert_eq!(rows[1].ttl_counts, BTreeMap::from([(62, 4), (63, 9)]));
        assert_eq!(rows[1].address, None, "superseded by the second scan");
        assert_eq!(rows[0].address.as_deref(), Some("10.0.0.900"));
        assert_eq!(rows[0].evidence.as_ref().unwrap().observations, 13);

        let mut latest = Vec::new();
        store
            .for_each_scan_result(second, None, |r| {
                latest.push(r);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(latest.len(), 1);
        assert!(latest[0].is_flagged());
        assert_eq!(
            latest[0].recommended_action,
            Some(RecommendedAction::Review)
        );
    }

    #[test]
    fn latest_results_span_partial_scans_and_follow_the_filter() {
        let mut store = Store::open_in_memory().unwrap();
        scan(
            &mut store,
            at(0),
            &[
                result("ann", Level::Normal, 10, at(0)),
                result("bob", Level::High, 900, at(0)),
            ],
        );
        // A one-subscriber scan updates ann only; bob's result stays current.
        scan(
            &mut store,
            at(60),
            &[result("ann", Level::Medium, 600, at(60))],
        );
        let visit = |filter: &ResultFilter| {
            let mut seen = Vec::new();
            let n = store
                .for_each_latest_result(filter, |r| {
                    seen.push((r.subscriber, r.connections));
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            assert_eq!(n as usize, seen.len());
            seen
        };
        assert_eq!(
            visit(&ResultFilter::default()),
            [("bob".to_string(), 900), ("ann".to_string(), 600)]
        );
        let limited = ResultFilter {
            limit: Some(1),
            ..Default::default()
        };
        assert_eq!(visit(&limited).len(), 2, "a screen's page size is ignored");
        let searched = ResultFilter {
            search: Some("an".into()),
            ..Default::default()
        };
        assert_eq!(visit(&searched), [("ann".to_string(), 600)]);
        // A failing visitor stops the walk with its own error.
        let err = store
            .for_each_latest_result(&ResultFilter::default(), |_| {
                Err(StoreError::Invalid("stop".into()))
            })
            .unwrap_err();
        assert!(err.to_string().contains("stop"), "{err}");
    }

    #[test]
    fn a_failing_callback_stops_the_walk_with_its_own_error() {
        #[derive(Debug)]
        enum E {
            Store,
            Mine(u64),
        }
        impl From<StoreError> for E {
            fn from(_: StoreError) -> Self {
                E::Store
            }
        }
        let mut store = Store::open_in_memory().unwrap();
        let rs: Vec<_> = (0..5)
            .map(|i| result(&format!("s{i}"), Level::Low, i, at(0)))
            .collect();
        let id = scan(&mut store, at(0), &rs);
        let mut seen = 0;
        let err = store
            .for_each_scan_result(id, None, |_| {
                seen += 1;
                if seen == 3 {
                    Err(E::Mine(seen))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(matches!(err, E::Mine(3)), "{err:?}");
        assert!(!matches!(err, E::Store));
    }

    #[test]
    fn streamed_warnings_match_the_listing_and_respect_the_range() {
        let mut store = Store::open_in_memory().unwrap();
        for (i, who) in ["ann", "bob", "cid"].iter().enumerate() {
            let finding = Finding {
                kind: AbuseKind::ALL[i],
                severity: Severity::Warning,
                measured: 150.0,
                threshold: 100.0,
                details: format!("{who} opened 150 connections"),
            };
            store
                .record_cycle(
                    at(i as i64 * 3600),
                    &[],
                    &[Sighting {
                        subscriber: (*who).into(),
                        nas: "nas-a".into(),
                        finding,
                    }],
                    Duration::minutes(60),
                )
                .unwrap();
        }
        let mut all = Vec::new();
        store
            .for_each_warning(None, None, |w| {
                all.push(w);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let mut listed = store
            .warnings(&WarningQuery {
                limit: 100,
                ..Default::default()
            })
            .unwrap();
        listed.reverse();
        assert_eq!(all, listed);

        let mut ranged = Vec::new();
        store
            .for_each_warning(Some(at(3600)), Some(at(7200)), |w| {
                ranged.push(w.subscriber);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(ranged, ["bob"]);
    }

    #[test]
    fn audit_entries_come_oldest_first_and_the_limit_keeps_the_newest() {
        let mut store = Store::open_in_memory().unwrap();
        for i in 0..5 {
            let mut e = AuditEntry::new("owner", "note").subject(format!("s{i}"));
            e.at = at(i);
            store.audit(&e).unwrap();
        }
        let mut subjects = Vec::new();
        store
            .for_each_audit_entry(
                &AuditFilter {
                    limit: Some(3),
                    ..Default::default()
                },
                |e| {
                    subjects.push(e.subject.unwrap());
                    Ok::<_, StoreError>(())
                },
            )
            .unwrap();
        assert_eq!(subjects, ["s2", "s3", "s4"]);
    }
}
